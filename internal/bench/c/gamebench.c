/*
 * gamebench.c - the raw libenet twin of cmd/gamebench: the same game-shaped
 * load (docs: GAMEBENCH spec, issue 16) on libenet's public API alone, so that
 * every gonetic figure has a raw-ENet figure beside it.
 *
 * build: cc -O2 -Wall -Wextra -o gamebench_c internal/bench/c/gamebench.c -lenet
 *
 * usage:
 *   gamebench_c server  -addr 127.0.0.1:PORT -hz 30 -clients N -duration 10s -label L
 *   gamebench_c clients -addr 127.0.0.1:PORT -hz 30 -n N       -duration 10s -label L
 * Flags take "-f v", "-f=v" or "--f v"; -duration takes a Go duration (10s,
 * 500ms, 1m) or plain seconds. Unknown flags are refused (exit 2). One flag
 * beyond the spec, -throttle off, sets every peer's packet throttle
 * deceleration to 0: by default ENet drops unreliable packets (snapshots,
 * inputs) while a peer's round trip varies, and acks that wait for the next
 * frame make it vary; "off" shows what that costs. Default: on (ENet's own).
 *
 * Server: one host (peer limit N+8, 3 channels) ticking at -hz from its start
 * (deadline_k = start + k/hz, no drift). Between ticks it calls
 * enet_host_service with the milliseconds until the next deadline, rounded up
 * (ENet's timeout is in whole ms; rounding down would busy-spin the last ms),
 * and 0 once past it. A tick applies the inputs received since the last one
 * (latest seq and summed movement per client), then sends each client its own
 * snapshot (its ack_input) unreliable sequenced (flags 0) on channel 2, then
 * enet_host_flush. Prints "ready <ip:port>" once listening; RESULT lines at exit.
 *
 * Clients: N hosts (enet_host_create(NULL, 1, 3, 0, 0) + enet_host_connect) in
 * one 60 fps frame loop: each frame drains every host with
 * enet_host_service(h, &ev, 0), sends an input every second frame (flags 0,
 * channel 1) and a 40-byte chat every 3 s per client (reliable, channel 0; the
 * first at a random offset), flushes the hosts that sent, then sleeps to the
 * next frame (clock_nanosleep, absolute; frames more than one behind are
 * skipped, not run back to back).
 *
 * Measuring, as the Go twin (cmd/gamebench): the clients process connects
 * all N (up to 5 s; a refused connect is retried), then runs a 2 s warm-up,
 * then measures for -duration; the server starts its own warm-up at the first
 * tick that sees all N connected (or 5 s after its start). Latencies are
 * CLOCK_MONOTONIC at the RECEIVE event minus the sender's send_ns; an input
 * counts if it was sent in the window. Percentiles are nearest-rank over
 * preallocated arrays sorted at the end. Then the clients send a reliable
 * "STOP" on channel 0 and disconnect. The server stops on it, when all
 * clients have left, or 2 s after its window (at most 5 + 2 + duration + 2 s
 * after its start). An alarm at warm-up + duration + 10 s ends either
 * process whatever happens (exit 3).
 *
 * Wire (little-endian, packed by hand):
 *   snapshot: tick u32, send_ns i64, ack_input u32, then min(N, 20) players of
 *             {id u32, x f32, y f32, vx f32, vy f32, state u32, hp u16, pad [8]}
 *             (34 bytes each as the spec's fields add up, not the 30 it says)
 *   input:    seq u32, send_ns i64, dx f32, dy f32 (20 bytes)
 *   chat:     40 bytes of text; "STOP" (4 bytes) on channel 0 ends the server.
 *
 * Exit status: 0 ok; 1 the run went wrong: not all clients connected, one
 * lost its connection or heard nothing in the window's last second, the server
 * got no STOP, or a figure has no sample (its RESULT line is left out, the
 * others are printed); 2 bad flags or setup failure; 3 the alarm.
 */
#define _POSIX_C_SOURCE 200809L
#include <enet/enet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_S 1000000000LL

enum {
    WARMUP_S = 2,
    CHANNELS = 3,
    CH_CHAT = 0,
    CH_INPUT = 1,
    CH_SNAP = 2,
    MAX_PLAYERS = 20,
    PLAYER_SIZE = 34, /* 4+4+4+4+4+4+2+8 */
    SNAP_HEAD = 16,   /* tick 4, send_ns 8, ack_input 4 */
    INPUT_SIZE = 20,  /* seq 4, send_ns 8, dx 4, dy 4 */
    CHAT_SIZE = 40,
    STOP_SIZE = 4,
    FPS = 60,
    INPUT_EVERY = 2,    /* frames */
    CHAT_EVERY_S = 3,
    INPUT_RING = 1024,  /* inputs awaiting their ack; 34 s at 30/s */
    MAX_CLIENTS = 4000, /* server: N+8 <= ENET_PROTOCOL_MAXIMUM_PEER_ID */
    CONNECT_WAIT_S = 5, /* for all N to connect; then measuring starts anyway */
    SERVER_GRACE_S = 2, /* the server's end: window's end + this */
    ALARM_S = 10,
};
static const char stop_text[STOP_SIZE] = {'S', 'T', 'O', 'P'};

/* ------------------------------------------------------------ utilities */

/* The first whole second of CLOCK_MONOTONIC after t. Server ticks and
 * client frames run on grids that start there (a second holds a whole
 * number of both), frames FRAME_PHASE_NS after ticks, so both processes
 * share one schedule without talking, as the Go twin does. */
#define FRAME_PHASE_NS 2000000
static int64_t aligned(int64_t t) { return (t / 1000000000 + 1) * 1000000000; }

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static void sleep_until(int64_t t)
{
    struct timespec ts = {(time_t)(t / NS_PER_S), (long)(t % NS_PER_S)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

static int64_t cpu_ns(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * NS_PER_S +
           ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

static void put_u16(uint8_t *p, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    memcpy(p, b, 2);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    memcpy(p, b, 4);
}

static void put_i64(uint8_t *p, int64_t v)
{
    uint64_t u = (uint64_t)v;
    put_u32(p, (uint32_t)u);
    put_u32(p + 4, (uint32_t)(u >> 32));
}

static void put_f32(uint8_t *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    put_u32(p, u);
}

static uint32_t get_u32(const uint8_t *p)
{
    uint8_t b[4];
    memcpy(b, p, 4);
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static int64_t get_i64(const uint8_t *p)
{
    return (int64_t)((uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32);
}

static float get_f32(const uint8_t *p)
{
    uint32_t u = get_u32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static uint64_t rng_state;
static uint64_t rng_next(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Samples live in an array sized for the whole run up front, so measuring
 * allocates nothing; a full array drops (and counts) the rest. */
typedef struct {
    int64_t *v;
    size_t n, cap;
    uint64_t dropped;
} samples;

static int samples_init(samples *s, size_t cap)
{
    s->n = 0;
    s->dropped = 0;
    s->cap = cap;
    s->v = calloc(cap, sizeof *s->v);
    return s->v != NULL ? 0 : -1;
}

static void samples_add(samples *s, int64_t x)
{
    if (s->n < s->cap)
        s->v[s->n++] = x;
    else
        s->dropped++;
}

/* The share of samples above x, in percent (NaN without samples). */
static double samples_above(const samples *s, int64_t x)
{
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++)
        k += s->v[i] > x;
    return s->n ? 100.0 * (double)k / (double)s->n : NAN;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* pct is the nearest-rank p-th percentile (sorted[ceil(n*p/100) - 1], the
 * max for p = 100), as the Go twin computes it; s must be sorted, n > 0. */
static int64_t pct(const samples *s, int p)
{
    size_t i = (s->n * (size_t)p + 99) / 100;
    i = i > 0 ? i - 1 : 0;
    return s->v[i < s->n ? i : s->n - 1];
}

/* print_us prints one latency figure; no sample -> no line, and *missing is set. */
static void print_us(const char *label, const char *fig, const samples *s, int p, int *missing)
{
    if (s->n == 0) {
        fprintf(stderr, "gamebench_c: %s.%s: no sample\n", label, fig);
        *missing = 1;
        return;
    }
    printf("RESULT %s.%s %.1f us\n", label, fig, (double)pct(s, p) / 1e3);
}

static void on_alarm(int sig)
{
    static const char msg[] = "gamebench_c: run exceeded warm-up + duration + 10 s; exiting\n";
    (void)sig;
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    _exit(3);
}

/* ---------------------------------------------------------------- flags */

struct options {
    int server;
    ENetAddress addr;
    const char *addr_text;
    int hz;
    int n;
    int64_t duration;
    const char *label;
    int no_throttle; /* -throttle off: C-only, to show what ENet's throttle costs */
};
static struct options opt;

static const char usage_text[] =
    "usage:\n"
    "  gamebench_c server  -addr HOST:PORT [-hz 30] -clients N [-duration 10s] [-label L]\n"
    "  gamebench_c clients -addr HOST:PORT [-hz 30] -n N       [-duration 10s] [-label L]\n"
    "  -throttle on|off (default on): off sets every peer's throttle deceleration to 0,\n"
    "  so ENet never drops unreliable packets when the round trip varies (C only)\n";

static int usage(const char *why, const char *what)
{
    if (why != NULL)
        fprintf(stderr, "gamebench_c: %s%s\n", why, what != NULL ? what : "");
    fputs(usage_text, stderr);
    return 2;
}

/* parse_duration reads a Go-style duration ("10s", "1.5s", "500ms", "1m")
 * or plain seconds into ns; it returns -1 on anything else. */
static int64_t parse_duration(const char *s)
{
    static const struct {
        const char *unit;
        double ns;
    } units[] = {{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}, {"", 1e9}};
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || !(v > 0))
        return -1;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(end, units[i].unit) == 0) {
            double ns = v * units[i].ns;
            return ns < 1e6 || ns > 3600e9 ? -1 : (int64_t)ns;
        }
    }
    return -1;
}

static int parse_int(const char *s, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

static int parse_addr(const char *s, ENetAddress *a)
{
    const char *colon = strrchr(s, ':');
    char host[256];
    int port;
    if (colon == NULL || colon == s || (size_t)(colon - s) >= sizeof host)
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    if (parse_int(colon + 1, 0, 65535, &port) != 0)
        return -1;
    if (enet_address_set_host(a, host) != 0)
        return -1;
    a->port = (enet_uint16)port;
    return 0;
}

static int parse_flags(int argc, char **argv, struct options *o)
{
    if (argc < 2)
        return usage("missing mode: server or clients", NULL);
    if (strcmp(argv[1], "server") == 0)
        o->server = 1;
    else if (strcmp(argv[1], "clients") == 0)
        o->server = 0;
    else if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "-help") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(usage_text, stdout);
        exit(0);
    } else
        return usage("unknown mode (want server or clients): ", argv[1]);
    o->hz = 30;
    o->n = 0;
    o->duration = 10 * NS_PER_S;
    o->label = o->server ? "c.server" : "c";
    o->addr_text = NULL;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *flag = argv[i];
        if (a[0] != '-')
            return usage("unexpected argument: ", a);
        a += a[1] == '-' ? 2 : 1;
        char name[32];
        const char *val = strchr(a, '=');
        size_t len = val != NULL ? (size_t)(val - a) : strlen(a);
        if (len == 0 || len >= sizeof name)
            return usage("bad flag: ", flag);
        memcpy(name, a, len);
        name[len] = '\0';
        if (strcmp(name, "h") == 0 || strcmp(name, "help") == 0) {
            fputs(usage_text, stdout);
            exit(0);
        }
        if (val != NULL)
            val++;
        else if (i + 1 < argc)
            val = argv[++i];
        else
            return usage("flag needs a value: ", flag);
        if (strcmp(name, "addr") == 0) {
            if (parse_addr(val, &o->addr) != 0)
                return usage("bad -addr (want HOST:PORT): ", val);
            o->addr_text = val;
        } else if (strcmp(name, "hz") == 0) {
            if (parse_int(val, 1, 1000, &o->hz) != 0)
                return usage("bad -hz (want 1..1000): ", val);
        } else if (strcmp(name, "clients") == 0 || strcmp(name, "n") == 0) {
            if (parse_int(val, 1, MAX_CLIENTS, &o->n) != 0)
                return usage("bad client count (want 1..4000): ", val);
        } else if (strcmp(name, "duration") == 0) {
            if ((o->duration = parse_duration(val)) < 0)
                return usage("bad -duration (want e.g. 10s, 500ms, 1m; 1ms..1h): ", val);
        } else if (strcmp(name, "label") == 0) {
            o->label = val;
        } else if (strcmp(name, "throttle") == 0) {
            if (strcmp(val, "on") != 0 && strcmp(val, "off") != 0)
                return usage("bad -throttle (want on or off): ", val);
            o->no_throttle = strcmp(val, "off") == 0;
        } else
            return usage("unknown flag (the raw C twin has no -transport or -poll): ", flag);
    }
    if (o->addr_text == NULL)
        return usage("-addr HOST:PORT is required", NULL);
    if (o->n == 0)
        return usage(o->server ? "-clients N is required" : "-n N is required", NULL);
    if (!o->server && o->addr.port == 0)
        return usage("clients need a non-zero port in -addr", NULL);
    return 0;
}

/* --------------------------------------------------------------- server */

typedef struct {
    ENetPeer *peer; /* NULL: slot free */
    int active_pos; /* index in srv.active */
    int has_input;
    uint32_t in_seq; /* latest input received since the last tick */
    float in_dx, in_dy;
    uint32_t ack; /* latest input applied */
    float x, y, vx, vy;
    uint32_t state;
    uint16_t hp;
} player;

static struct {
    ENetHost *host;
    player *players; /* one per ENet peer slot: peer - host->peers */
    int *active;     /* slots of connected players, in connect order */
    int nactive, peak;
    int stop;
    uint64_t inputs, chats, bad;
    /* ENet's throttle drops unreliable packets (snapshots) while a peer's
     * round trip grows; its lowest value in the window explains a snap_lost. */
    enet_uint32 throttle_min;
} srv;

static player *slot_of(ENetPeer *peer)
{
    ptrdiff_t i = peer - srv.host->peers;
    if (i < 0 || (size_t)i >= srv.host->peerCount)
        return NULL;
    return &srv.players[i];
}

static void server_event(const ENetEvent *ev)
{
    player *p = slot_of(ev->peer);
    switch (ev->type) {
    case ENET_EVENT_TYPE_CONNECT:
        if (p == NULL || p->peer != NULL)
            break;
        memset(p, 0, sizeof *p);
        p->peer = ev->peer;
        if (opt.no_throttle)
            enet_peer_throttle_configure(ev->peer, ENET_PEER_PACKET_THROTTLE_INTERVAL,
                                         ENET_PEER_PACKET_THROTTLE_ACCELERATION, 0);
        p->hp = 100;
        p->state = 1;
        p->active_pos = srv.nactive;
        srv.active[srv.nactive++] = (int)(p - srv.players);
        if (srv.nactive > srv.peak)
            srv.peak = srv.nactive;
        break;
    case ENET_EVENT_TYPE_RECEIVE: {
        const ENetPacket *pk = ev->packet;
        if (p == NULL || p->peer == NULL) {
            srv.bad++;
        } else if (ev->channelID == CH_INPUT && pk->dataLength >= INPUT_SIZE) {
            uint32_t seq = get_u32(pk->data);
            if (seq > p->in_seq) { /* sequenced: always, but cheap to be sure */
                p->in_seq = seq;
                p->in_dx += get_f32(pk->data + 12);
                p->in_dy += get_f32(pk->data + 16);
                p->has_input = 1;
            }
            srv.inputs++;
        } else if (ev->channelID == CH_CHAT && pk->dataLength == STOP_SIZE &&
                   memcmp(pk->data, stop_text, STOP_SIZE) == 0) {
            srv.stop = 1;
        } else if (ev->channelID == CH_CHAT) {
            srv.chats++;
        } else {
            srv.bad++;
        }
        enet_packet_destroy(ev->packet);
        break;
    }
    case ENET_EVENT_TYPE_DISCONNECT:
        if (p == NULL || p->peer == NULL)
            break;
        {
            int last = srv.active[--srv.nactive];
            srv.active[p->active_pos] = last;
            srv.players[last].active_pos = p->active_pos;
            p->peer = NULL;
        }
        break;
    case ENET_EVENT_TYPE_NONE:
        break;
    }
}

/* server_tick applies the inputs and sends every client its snapshot;
 * block is the players part, the same for all (the first min(N,20) players). */
static int server_tick(uint32_t tick, int hz, uint8_t *snap, size_t snap_len, int nplayers)
{
    for (int i = 0; i < srv.nactive; i++) {
        player *p = &srv.players[srv.active[i]];
        if (!p->has_input)
            continue;
        p->ack = p->in_seq;
        p->x += p->in_dx;
        p->y += p->in_dy;
        p->vx = p->in_dx * (float)hz;
        p->vy = p->in_dy * (float)hz;
        p->in_dx = p->in_dy = 0;
        p->has_input = 0;
    }
    uint8_t *e = snap + SNAP_HEAD;
    for (int j = 0; j < nplayers; j++, e += PLAYER_SIZE) {
        memset(e, 0, PLAYER_SIZE);
        if (j >= srv.nactive)
            continue;
        const player *p = &srv.players[srv.active[j]];
        put_u32(e, (uint32_t)srv.active[j]);
        put_f32(e + 4, p->x);
        put_f32(e + 8, p->y);
        put_f32(e + 12, p->vx);
        put_f32(e + 16, p->vy);
        put_u32(e + 20, p->state);
        put_u16(e + 24, p->hp);
    }
    put_u32(snap, tick);
    for (int i = 0; i < srv.nactive; i++) {
        player *p = &srv.players[srv.active[i]];
        put_i64(snap + 4, now_ns());
        put_u32(snap + 12, p->ack);
        ENetPacket *pk = enet_packet_create(snap, snap_len, 0);
        if (pk == NULL) {
            fprintf(stderr, "gamebench_c server: enet_packet_create failed\n");
            return -1;
        }
        if (enet_peer_send(p->peer, CH_SNAP, pk) < 0) {
            enet_packet_destroy(pk);
            srv.bad++;
        }
    }
    enet_host_flush(srv.host);
    return 0;
}

static int run_server(const struct options *o)
{
    int rc = 2, missing = 0, failed = 0;
    const char *why = "timeout";
    const int64_t warm = WARMUP_S * NS_PER_S, dur = o->duration;
    int nplayers = o->n < MAX_PLAYERS ? o->n : MAX_PLAYERS;
    size_t snap_len = SNAP_HEAD + (size_t)nplayers * PLAYER_SIZE;
    size_t cap = (size_t)(dur / NS_PER_S + 2) * (size_t)o->hz + 16;
    samples work = {0}, late = {0};
    uint8_t *snap = malloc(snap_len);
    srv.host = enet_host_create(&o->addr, (size_t)o->n + 8, CHANNELS, 0, 0);
    if (srv.host == NULL) {
        fprintf(stderr, "gamebench_c server: cannot listen on %s (port in use?)\n", o->addr_text);
        goto out;
    }
    srv.players = calloc(srv.host->peerCount, sizeof *srv.players);
    srv.active = calloc(srv.host->peerCount, sizeof *srv.active);
    if (snap == NULL || srv.players == NULL || srv.active == NULL || samples_init(&work, cap) != 0 ||
        samples_init(&late, cap) != 0) {
        fprintf(stderr, "gamebench_c server: out of memory\n");
        goto out;
    }
    ENetAddress bound = o->addr;
    char ip[64];
    if (enet_socket_get_address(srv.host->socket, &bound) != 0)
        bound = o->addr;
    if (enet_address_get_host_ip(&bound, ip, sizeof ip) != 0)
        snprintf(ip, sizeof ip, "?");
    printf("ready %s:%u\n", ip, (unsigned)bound.port);
    fflush(stdout);

    srv.throttle_min = ENET_PEER_PACKET_THROTTLE_SCALE;
    const int64_t start = aligned(now_ns());
    int64_t base = 0, mstart = 0, mend = 0, w0 = 0, w1 = 0, c0 = 0, c1 = 0;
    int64_t end = start + (CONNECT_WAIT_S + WARMUP_S + SERVER_GRACE_S) * NS_PER_S + dur;
    int measuring = 0; /* 0 before the window, 1 in it, 2 after */
    uint64_t ticks = 0, skipped = 0;
    ENetEvent ev;
    for (int64_t k = 0;; k++) {
        int64_t deadline = start + k * NS_PER_S / o->hz, now = now_ns();
        while (now < deadline && !srv.stop && now < end) {
            enet_uint32 ms = (enet_uint32)((deadline - now + 999999) / 1000000);
            int r = enet_host_service(srv.host, &ev, ms);
            now = now_ns();
            if (r < 0) {
                fprintf(stderr, "gamebench_c server: enet_host_service failed\n");
                failed = 1;
                break;
            }
            if (r > 0)
                server_event(&ev);
        }
        if (failed)
            break;
        if (srv.stop || now >= end) {
            why = srv.stop ? "stop message" : "timeout";
            break;
        }
        /* The window starts once all N are in (or CONNECT_WAIT_S after the
         * start), as the clients process starts its own. */
        if (base == 0 && (srv.nactive >= o->n || now - start >= CONNECT_WAIT_S * NS_PER_S)) {
            base = now;
            mstart = base + warm;
            mend = mstart + dur;
            end = mend + SERVER_GRACE_S * NS_PER_S;
        }
        if (base != 0 && srv.nactive == 0) {
            why = srv.peak > 0 ? "all clients left" : "no client came";
            break;
        }
        if (measuring == 0 && base != 0 && deadline >= mstart) {
            measuring = 1;
            w0 = now;
            c0 = cpu_ns();
        } else if (measuring == 1 && deadline >= mend) {
            measuring = 2;
            w1 = now;
            c1 = cpu_ns();
        }
        if (server_tick((uint32_t)k, o->hz, snap, snap_len, nplayers) != 0) {
            failed = 1;
            break;
        }
        int64_t done = now_ns();
        ticks++;
        if (measuring == 1) {
            samples_add(&late, now - deadline);
            samples_add(&work, done - now);
            for (int i = 0; i < srv.nactive; i++) {
                enet_uint32 t = srv.players[srv.active[i]].peer->packetThrottle;
                srv.throttle_min = t < srv.throttle_min ? t : srv.throttle_min;
            }
        }
        /* Over a second behind (a stopped process): skip ahead, not a burst. */
        int64_t cur = (done - start) * o->hz / NS_PER_S;
        if (cur - k > o->hz) {
            skipped += (uint64_t)(cur - k);
            k = cur;
        }
    }
    if (measuring == 1) {
        w1 = now_ns();
        c1 = cpu_ns();
        measuring = 2;
    }

    printf("server label=%s why=%s ticks=%" PRIu64 " skipped=%" PRIu64 " measured=%zu peak_clients=%d "
           "inputs=%" PRIu64 " chats=%" PRIu64 " bad=%" PRIu64 " throttle_min=%u/%d\n",
           o->label, why, ticks, skipped, work.n, srv.peak, srv.inputs, srv.chats, srv.bad, (unsigned)srv.throttle_min,
           ENET_PEER_PACKET_THROTTLE_SCALE);
    qsort(work.v, work.n, sizeof *work.v, cmp_i64);
    qsort(late.v, late.n, sizeof *late.v, cmp_i64);
    print_us(o->label, "tick_work_p50", &work, 50, &missing);
    print_us(o->label, "tick_work_p99", &work, 99, &missing);
    print_us(o->label, "late_p50", &late, 50, &missing);
    print_us(o->label, "late_p99", &late, 99, &missing);
    print_us(o->label, "late_max", &late, 100, &missing);
    if (measuring == 2 && w1 > w0)
        printf("RESULT %s.server_cpu %.1f percent\n", o->label, 100.0 * (double)(c1 - c0) / (double)(w1 - w0));
    else {
        fprintf(stderr, "gamebench_c: %s.server_cpu: no measured window (no client connected?)\n", o->label);
        missing = 1;
    }
    fflush(stdout);
    if (!srv.stop && !failed) {
        fprintf(stderr, "gamebench_c server: no STOP from the clients process (did it die?); the run may be partial\n");
        missing = 1;
    }
    rc = failed ? 2 : missing ? 1 : 0;

    /* Let the clients see the end; bounded, so a dead side cannot hold us. */
    for (int i = 0; i < srv.nactive; i++)
        enet_peer_disconnect(srv.players[srv.active[i]].peer, 0);
    for (int64_t until = now_ns() + NS_PER_S / 2; srv.nactive > 0 && now_ns() < until;) {
        int r = enet_host_service(srv.host, &ev, 10);
        if (r < 0)
            break;
        if (r > 0)
            server_event(&ev);
    }
out:
    if (srv.host != NULL)
        enet_host_destroy(srv.host); /* resets the peers still connected */
    free(srv.players);
    free(srv.active);
    free(work.v);
    free(late.v);
    free(snap);
    return rc;
}

/* -------------------------------------------------------------- clients */

typedef struct {
    ENetHost *host;
    ENetPeer *peer;
    int state;    /* 0 connecting, 1 connected, 2 gone */
    uint32_t seq; /* last input sent */
    uint32_t acked;
    int64_t sent_at[INPUT_RING]; /* send_ns of input seq, at seq % INPUT_RING */
    int have_tick;
    uint32_t first_tick, last_tick; /* received in the window */
    uint64_t got;
    int64_t next_chat;
    uint32_t chats;
    int64_t last_rx; /* last snapshot's receipt */
    int64_t gone_at; /* its DISCONNECT, to retry a refused connect */
    int sent;        /* this frame: flush */
} client;

static struct {
    client *c;
    int n;
    int64_t mstart, mend;
    samples snap, input;
    int connected, peak, gone;
    uint64_t snaps, bad, send_errors, service_errors;
    enet_uint32 throttle_min; /* as the server's: explains lost inputs */
} cli;

static void client_event(int id, client *c, const ENetEvent *ev, int64_t now)
{
    switch (ev->type) {
    case ENET_EVENT_TYPE_CONNECT:
        if (c->state == 0) {
            c->state = 1;
            if (opt.no_throttle)
                enet_peer_throttle_configure(c->peer, ENET_PEER_PACKET_THROTTLE_INTERVAL,
                                             ENET_PEER_PACKET_THROTTLE_ACCELERATION, 0);
            if (++cli.connected > cli.peak)
                cli.peak = cli.connected;
        }
        break;
    case ENET_EVENT_TYPE_DISCONNECT:
        if (c->state == 1)
            cli.connected--;
        if (c->state == 1 && cli.gone++ == 0 && now < cli.mend)
            fprintf(stderr, "gamebench_c clients: client %d lost its connection (server gone?)\n", id);
        c->state = 2;
        c->gone_at = now;
        break;
    case ENET_EVENT_TYPE_RECEIVE: {
        const ENetPacket *pk = ev->packet;
        if (ev->channelID != CH_SNAP || pk->dataLength < SNAP_HEAD) {
            cli.bad++;
            enet_packet_destroy(ev->packet);
            break;
        }
        uint32_t tick = get_u32(pk->data), ack = get_u32(pk->data + 12);
        int64_t sent = get_i64(pk->data + 4);
        enet_packet_destroy(ev->packet);
        int in = now >= cli.mstart && now < cli.mend;
        cli.snaps++;
        c->last_rx = now;
        if (in) {
            samples_add(&cli.snap, now - sent);
            if (!c->have_tick) {
                c->have_tick = 1;
                c->first_tick = c->last_tick = tick;
            } else if (tick > c->last_tick)
                c->last_tick = tick;
            c->got++;
        }
        if (ack > c->seq)
            ack = c->seq; /* never acks what was not sent; be safe */
        for (uint32_t s = c->acked + 1; s <= ack && ack != 0; s++) {
            int64_t t = c->sent_at[s % INPUT_RING];
            if (t >= cli.mstart && t < cli.mend) /* inputs sent in the window, as the Go twin */
                samples_add(&cli.input, now - t);
        }
        if (ack > c->acked)
            c->acked = ack;
        break;
    }
    case ENET_EVENT_TYPE_NONE:
        break;
    }
}

static void drain(int id, client *c)
{
    ENetEvent ev;
    int r;
    while ((r = enet_host_service(c->host, &ev, 0)) > 0)
        client_event(id, c, &ev, now_ns());
    if (r < 0)
        cli.service_errors++;
}

static int client_send(client *c, enet_uint8 ch, const uint8_t *data, size_t len, enet_uint32 flags)
{
    ENetPacket *pk = enet_packet_create(data, len, flags);
    if (pk == NULL) {
        fprintf(stderr, "gamebench_c clients: enet_packet_create failed\n");
        return -1;
    }
    if (enet_peer_send(c->peer, ch, pk) < 0) {
        enet_packet_destroy(pk);
        cli.send_errors++;
        return 0;
    }
    c->sent = 1;
    return 0;
}

static int send_input(client *c)
{
    uint8_t b[INPUT_SIZE];
    uint32_t seq = ++c->seq;
    if (seq - c->acked >= INPUT_RING)
        c->acked = seq - INPUT_RING + 1; /* ring full: the oldest go unmeasured */
    int64_t t = now_ns();
    c->sent_at[seq % INPUT_RING] = t;
    put_u32(b, seq);
    put_i64(b + 4, t);
    put_f32(b + 12, (float)(seq % 7) * 0.1f - 0.3f);
    put_f32(b + 16, (float)(seq % 5) * 0.1f - 0.2f);
    return client_send(c, CH_INPUT, b, sizeof b, 0);
}

static int send_chat(int id, client *c)
{
    char text[CHAT_SIZE + 1];
    int w = snprintf(text, sizeof text, "client %d says hello, chat #%u", id, (unsigned)++c->chats);
    if (w < 0)
        w = 0;
    for (int i = w; i < CHAT_SIZE; i++)
        text[i] = '.';
    return client_send(c, CH_CHAT, (const uint8_t *)text, CHAT_SIZE, ENET_PACKET_FLAG_RELIABLE);
}

static int run_clients(const struct options *o)
{
    int rc = 2, missing = 0, failed = 0;
    const int64_t warm = WARMUP_S * NS_PER_S, dur = o->duration, frame_ns = NS_PER_S / FPS;
    size_t secs = (size_t)(dur / NS_PER_S + 2);
    cli.n = o->n;
    cli.c = calloc((size_t)o->n, sizeof *cli.c);
    if (cli.c == NULL || samples_init(&cli.snap, secs * (size_t)o->hz * (size_t)o->n + 16) != 0 ||
        samples_init(&cli.input, secs * (FPS / INPUT_EVERY) * (size_t)o->n + 16) != 0) {
        fprintf(stderr, "gamebench_c clients: out of memory\n");
        goto out;
    }
    for (int i = 0; i < o->n; i++) {
        client *c = &cli.c[i];
        c->host = enet_host_create(NULL, 1, CHANNELS, 0, 0);
        if (c->host == NULL) {
            fprintf(stderr, "gamebench_c clients: enet_host_create failed for client %d (open files limit? ulimit -n)\n", i);
            goto out;
        }
        c->peer = enet_host_connect(c->host, &o->addr, CHANNELS, 0);
        if (c->peer == NULL) {
            fprintf(stderr, "gamebench_c clients: enet_host_connect failed for client %d\n", i);
            goto out;
        }
    }
    /* Connect all before the warm-up starts, as the Go twin does. ENet
     * retransmits a CONNECT by itself; a refused one (DISCONNECT) is retried. */
    cli.mstart = cli.mend = INT64_MAX;
    int connected_all = 1;
    for (const int64_t cstart = now_ns(); cli.connected < o->n;) {
        int64_t now = now_ns();
        if (now - cstart >= CONNECT_WAIT_S * NS_PER_S) {
            fprintf(stderr, "gamebench_c clients: %d of %d connected in %d s\n", cli.connected, o->n, CONNECT_WAIT_S);
            connected_all = 0;
            break;
        }
        for (int i = 0; i < o->n; i++) {
            client *c = &cli.c[i];
            drain(i, c);
            if (c->state == 2 && now - c->gone_at >= NS_PER_S / 10) {
                if ((c->peer = enet_host_connect(c->host, &o->addr, CHANNELS, 0)) == NULL) {
                    fprintf(stderr, "gamebench_c clients: enet_host_connect failed for client %d\n", i);
                    goto out;
                }
                c->state = 0;
            }
        }
        sleep_until(now_ns() + 2000000);
    }
    cli.gone = 0;
    if (!connected_all) {
        rc = 1;
        goto leave;
    }
    cli.throttle_min = ENET_PEER_PACKET_THROTTLE_SCALE;
    const int64_t t0 = aligned(now_ns()) + FRAME_PHASE_NS; /* on the server's tick grid */
    sleep_until(t0);
    cli.mstart = t0 + warm;
    cli.mend = cli.mstart + dur;
    for (int i = 0; i < o->n; i++)
        cli.c[i].next_chat = t0 + (int64_t)(rng_next() % (uint64_t)(CHAT_EVERY_S * NS_PER_S));

    int measuring = 0;
    int64_t w0 = 0, w1 = 0, c0 = 0, c1 = 0;
    uint64_t frames = 0, skipped = 0;
    for (int64_t f = 0;; f++) {
        sleep_until(t0 + f * frame_ns);
        int64_t now = now_ns();
        if (now >= cli.mend)
            break;
        if (measuring == 0 && now >= cli.mstart) {
            measuring = 1;
            w0 = now;
            c0 = cpu_ns();
        }
        for (int i = 0; i < o->n; i++)
            drain(i, &cli.c[i]);
        if (cli.connected < o->n) {
            fprintf(stderr, "gamebench_c clients: %d of %d connections left\n", cli.connected, o->n);
            failed = 1;
            break;
        }
        for (int i = 0; i < o->n && measuring == 1; i++) {
            enet_uint32 t = cli.c[i].peer->packetThrottle;
            cli.throttle_min = t < cli.throttle_min ? t : cli.throttle_min;
        }
        int inputs = frames % INPUT_EVERY == 0;
        now = now_ns();
        for (int i = 0; i < o->n && !failed; i++) {
            client *c = &cli.c[i];
            c->sent = 0;
            if (c->state != 1)
                continue;
            if (inputs && send_input(c) != 0)
                failed = 1;
            if (now >= c->next_chat) {
                c->next_chat += CHAT_EVERY_S * NS_PER_S;
                if (send_chat(i, c) != 0)
                    failed = 1;
            }
            if (c->sent)
                enet_host_flush(c->host);
        }
        if (failed)
            break;
        frames++;
        int64_t cur = (now_ns() - t0) / frame_ns;
        if (cur > f + 1) { /* more than a frame behind: skip, do not burst */
            skipped += (uint64_t)(cur - f - 1);
            f = cur - 1;
        }
    }
    w1 = now_ns();
    c1 = cpu_ns();

    printf("clients label=%s frames=%" PRIu64 " skipped=%" PRIu64 " connected=%d/%d gone=%d snaps=%" PRIu64
           " snap_samples=%zu (dropped %" PRIu64 ") input_samples=%zu (dropped %" PRIu64 ") bad=%" PRIu64
           " send_errors=%" PRIu64 " service_errors=%" PRIu64 " throttle_min=%u/%d\n",
           o->label, frames, skipped, cli.peak, o->n, cli.gone, cli.snaps, cli.snap.n, cli.snap.dropped, cli.input.n,
           cli.input.dropped, cli.bad, cli.send_errors, cli.service_errors, (unsigned)cli.throttle_min,
           ENET_PEER_PACKET_THROTTLE_SCALE);
    qsort(cli.snap.v, cli.snap.n, sizeof *cli.snap.v, cmp_i64);
    qsort(cli.input.v, cli.input.n, sizeof *cli.input.v, cmp_i64);
    uint64_t lost = 0, recv = 0;
    for (int i = 0; i < o->n; i++) {
        const client *c = &cli.c[i];
        if (!c->have_tick)
            continue;
        uint64_t span = (uint64_t)(c->last_tick - c->first_tick) + 1;
        recv += c->got;
        lost += span > c->got ? span - c->got : 0;
    }
    print_us(o->label, "snap_p50", &cli.snap, 50, &missing);
    print_us(o->label, "snap_p99", &cli.snap, 99, &missing);
    print_us(o->label, "snap_max", &cli.snap, 100, &missing);
    /* Half a frame: a snapshot seen later missed the frame it was due at. */
    printf("RESULT %s.snap_missed %.3f percent\n", o->label, samples_above(&cli.snap, NS_PER_S / FPS / 2));
    printf("RESULT %s.snap_lost %" PRIu64 " count\n", o->label, lost);
    printf("RESULT %s.snap_recv %" PRIu64 " count\n", o->label, recv);
    print_us(o->label, "input_p50", &cli.input, 50, &missing);
    print_us(o->label, "input_p99", &cli.input, 99, &missing);
    if (measuring == 1 && w1 > w0)
        printf("RESULT %s.client_cpu %.1f percent\n", o->label, 100.0 * (double)(c1 - c0) / (double)(w1 - w0));
    else {
        fprintf(stderr, "gamebench_c: %s.client_cpu: no measured window\n", o->label);
        missing = 1;
    }
    if (cli.peak < o->n) {
        fprintf(stderr, "gamebench_c clients: only %d of %d clients connected\n", cli.peak, o->n);
        missing = 1;
    }
    /* ENet notices a dead server only after seconds: a silent second says it sooner. */
    int stalled = 0;
    for (int i = 0; i < o->n; i++)
        stalled += cli.c[i].state != 0 && cli.c[i].last_rx < cli.mend - NS_PER_S;
    if (stalled > 0) {
        fprintf(stderr, "gamebench_c clients: %d clients had no snapshot in the window's last second (server gone?)\n",
                stalled);
        missing = 1;
    }
    fflush(stdout);
    rc = failed || missing ? 1 : 0;

leave:
    /* Stop the server (one reliable STOP is enough), then leave: disconnect
     * after the queues drain, bounded so a dead server cannot hold us. */
    for (int i = 0; i < o->n; i++) {
        client *c = &cli.c[i];
        if (c->state == 1) {
            client_send(c, CH_CHAT, (const uint8_t *)stop_text, STOP_SIZE, ENET_PACKET_FLAG_RELIABLE);
            break;
        }
    }
    for (int i = 0; i < o->n; i++) {
        client *c = &cli.c[i];
        if (c->state == 1)
            enet_peer_disconnect_later(c->peer, 0);
        else if (c->state == 0)
            enet_peer_reset(c->peer);
    }
    for (int64_t until = now_ns() + 2 * NS_PER_S; cli.connected > 0 && now_ns() < until;) {
        for (int i = 0; i < o->n; i++)
            if (cli.c[i].state == 1)
                drain(i, &cli.c[i]);
        sleep_until(now_ns() + 1000000);
    }
out:
    if (cli.c != NULL) {
        for (int i = 0; i < o->n; i++)
            if (cli.c[i].host != NULL)
                enet_host_destroy(cli.c[i].host); /* resets a peer still connected */
    }
    free(cli.c);
    free(cli.snap.v);
    free(cli.input.v);
    return rc;
}

int main(int argc, char **argv)
{
    struct options *o = &opt;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (enet_initialize() != 0) {
        fprintf(stderr, "gamebench_c: enet_initialize failed\n");
        return 2;
    }
    atexit(enet_deinitialize);
    int rc = parse_flags(argc, argv, o);
    if (rc != 0)
        return rc;
    rng_state = (uint64_t)now_ns() ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ULL;
    if (rng_state == 0)
        rng_state = 1;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGALRM, &sa, NULL) != 0) {
        perror("gamebench_c: sigaction");
        return 2;
    }
    alarm((unsigned)(WARMUP_S + (o->duration + NS_PER_S - 1) / NS_PER_S + ALARM_S));

    return o->server ? run_server(o) : run_clients(o);
}
