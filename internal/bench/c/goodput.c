/*
 * goodput.c - the raw libenet twin of cmd/goodput's Go sender and receiver:
 * reliable packets pushed as fast as ENet takes them, counted in order at
 * the receiver, so that gonetic's ENet goodput under the network simulator
 * has a raw-ENet figure beside it (docs/PERF.md, "Network simulator").
 *
 * build: cc -O2 -Wall -Wextra -o goodput_c internal/bench/c/goodput.c -lenet
 *
 * usage:
 *   goodput_c recv -addr 127.0.0.1:0 -warmup 2 -duration 20
 *   goodput_c send -addr HOST:PORT -size 1000 -inflight 1024 -inflightbytes 1048576 [-throttle off] [-v 1]
 * Durations in seconds (fractions allowed).
 *
 * recv: a host with one peer slot and one channel; prints "ready ip:port"
 * once bound. From the connect, it counts the payload bytes of the packets
 * received after -warmup for -duration, checks that each carries the next
 * sequence number (the first 4 bytes, little-endian: reliable packets
 * arrive in order, every one), prints
 *   RESULT goodput <bytes/s> B/s
 *   RESULT packets <count> packets
 * then disconnects the sender. A link that ends before (ENet timed it out:
 * a packet resent 5 times and nothing acknowledged for 5 s) ends the count
 * there; the goodput is still over -duration, and a line
 *   RESULT ended <seconds after the connect> s
 * says so. Exit 1 if a packet came out of order, or nobody connected
 * within 10 s.
 *
 * send: connects (1 channel, connect data 0), then keeps at most -inflight
 * packets (-inflightbytes bytes) of -size bytes that ENet has not released
 * (the packet free callback counts them: the bound gonetic's adapter keeps,
 * Options.InFlight and InFlightBytes, since libenet 1.3.17 slows down with
 * a long queue), and services the host with a 1 ms timeout in between,
 * until the receiver disconnects it. -throttle off sets the peer's packet
 * throttle deceleration to 0, as gonetic's adapter does (keepThrottle):
 * ENet's throttle also scales the reliable window. -v 1 prints the peer's
 * round trip, throttle and data in transit each second.
 */
#define _POSIX_C_SOURCE 200809L
#include <enet/enet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr, "usage: goodput_c recv -addr HOST:PORT [-warmup s] [-duration s]\n"
			"       goodput_c send -addr HOST:PORT [-size bytes] [-inflight n] [-inflightbytes n] [-throttle on|off]\n");
	exit(2);
}

static void parse_addr(const char *s, ENetAddress *a)
{
	char host[256];
	const char *colon = strrchr(s, ':');
	if (!colon || (size_t)(colon - s) >= sizeof host)
		usage();
	memcpy(host, s, colon - s);
	host[colon - s] = 0;
	if (enet_address_set_host(a, host) != 0) {
		fprintf(stderr, "goodput_c: bad host %s\n", host);
		exit(2);
	}
	a->port = (enet_uint16)atoi(colon + 1);
}

static long inflight, inflight_bytes;
static int verbose;

static void on_free(ENetPacket *p)
{
	inflight--;
	inflight_bytes -= (long)p->dataLength;
}

static int recv_main(ENetAddress *addr, double warmup, double duration)
{
	ENetHost *h = enet_host_create(addr, 1, 1, 0, 0);
	if (!h) {
		fprintf(stderr, "goodput_c: cannot create the host\n");
		return 2;
	}
	ENetAddress bound;
	char ip[64];
	enet_socket_get_address(h->socket, &bound);
	enet_address_get_host_ip(&bound, ip, sizeof ip);
	printf("ready %s:%u\n", ip, bound.port);
	fflush(stdout);

	ENetEvent ev;
	ENetPeer *peer = NULL;
	double t0 = 0, start = now_s(), ended = -1;
	uint32_t next = 0;
	long long bytes = 0, packets = 0;
	int bad = 0;
	for (;;) {
		double t = now_s();
		if (!peer && t - start > 10) {
			fprintf(stderr, "goodput_c recv: nobody connected\n");
			return 1;
		}
		if (peer && t - t0 >= warmup + duration)
			break;
		if (enet_host_service(h, &ev, 1) <= 0)
			continue;
		switch (ev.type) {
		case ENET_EVENT_TYPE_CONNECT:
			if (!peer) {
				peer = ev.peer;
				t0 = now_s();
			}
			break;
		case ENET_EVENT_TYPE_RECEIVE: {
			const uint8_t *d = ev.packet->data;
			uint32_t seq = ev.packet->dataLength >= 4 ? (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24 : ~0u;
			if (seq != next && !bad) {
				fprintf(stderr, "goodput_c recv: packet %u where %u was due\n", seq, next);
				bad = 1;
			}
			next = seq + 1;
			double at = now_s() - t0;
			if (at >= warmup && at < warmup + duration) {
				bytes += (long long)ev.packet->dataLength;
				packets++;
			}
			enet_packet_destroy(ev.packet);
			break;
		}
		case ENET_EVENT_TYPE_DISCONNECT:
			ended = now_s() - t0;
			break;
		default:
			break;
		}
		if (ended >= 0)
			break;
	}
	printf("RESULT goodput %.0f B/s\n", bytes / duration);
	printf("RESULT packets %lld packets\n", packets);
	if (ended >= 0) {
		printf("RESULT ended %.1f s\n", ended);
		fflush(stdout);
		enet_host_destroy(h);
		return bad;
	}
	fflush(stdout);
	enet_peer_disconnect(peer, 1); /* 1, not 0: the data of a timeout */
	double end = now_s() + 2;
	while (now_s() < end && enet_host_service(h, &ev, 10) >= 0) {
		if (ev.type == ENET_EVENT_TYPE_DISCONNECT)
			break;
		if (ev.type == ENET_EVENT_TYPE_RECEIVE)
			enet_packet_destroy(ev.packet);
	}
	enet_host_destroy(h);
	return bad;
}

static int send_main(ENetAddress *addr, size_t size, long max_packets, long max_bytes, int throttle)
{
	ENetHost *h = enet_host_create(NULL, 1, 1, 0, 0);
	if (!h) {
		fprintf(stderr, "goodput_c: cannot create the host\n");
		return 2;
	}
	ENetPeer *peer = enet_host_connect(h, addr, 1, 0);
	ENetEvent ev;
	/* Short services: a service waits on the socket for its whole timeout,
	 * without resending a lost connect. */
	double give_up = now_s() + 10;
	int connected = 0;
	while (peer && !connected && now_s() < give_up) {
		int r = enet_host_service(h, &ev, 10);
		if (r < 0)
			break;
		if (r > 0 && ev.type == ENET_EVENT_TYPE_CONNECT)
			connected = 1;
	}
	if (!connected) {
		fprintf(stderr, "goodput_c send: no connection\n");
		return 1;
	}
	double t0 = now_s();
	if (!throttle)
		enet_peer_throttle_configure(peer, ENET_PEER_PACKET_THROTTLE_INTERVAL, ENET_PEER_PACKET_THROTTLE_ACCELERATION, 0);
	uint32_t seq = 0;
	double report = now_s() + 1;
	for (;;) {
		if (verbose && now_s() >= report) {
			report += 1;
			fprintf(stderr, "send: seq %u inflight %ld rtt %u var %u throttle %u window %u transit %u lost %u/%u timeout %u\n",
				seq, inflight, peer->roundTripTime, peer->roundTripTimeVariance, peer->packetThrottle, peer->windowSize,
				peer->reliableDataInTransit, peer->packetsLost, peer->packetsSent, (unsigned)(peer->nextTimeout - h->serviceTime));
		}
		while (inflight < max_packets && inflight_bytes + (long)size <= max_bytes) {
			ENetPacket *p = enet_packet_create(NULL, size, ENET_PACKET_FLAG_RELIABLE);
			memset(p->data, 0xA5, size);
			p->data[0] = seq, p->data[1] = seq >> 8, p->data[2] = seq >> 16, p->data[3] = seq >> 24;
			p->freeCallback = on_free;
			inflight++;
			inflight_bytes += (long)size;
			if (enet_peer_send(peer, 0, p) != 0) {
				enet_packet_destroy(p);
				break;
			}
			seq++;
		}
		int r = enet_host_service(h, &ev, 1);
		if (r < 0)
			return 1;
		if (r > 0 && ev.type == ENET_EVENT_TYPE_DISCONNECT) {
			if (verbose || ev.data == 0)
				fprintf(stderr, "goodput_c send: %s, %.1f s after the connect\n",
					ev.data == 0 ? "the link timed out" : "disconnected", now_s() - t0);
			break;
		}
		if (r > 0 && ev.type == ENET_EVENT_TYPE_RECEIVE)
			enet_packet_destroy(ev.packet);
	}
	enet_host_destroy(h);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	const char *mode = argv[1], *addr_s = NULL;
	double warmup = 2, duration = 20;
	size_t size = 1000;
	long max_packets = 1024, max_bytes = 1 << 20;
	int throttle = 1;
	for (int i = 2; i < argc; i++) {
		const char *f = argv[i];
		while (*f == '-')
			f++;
		if (i + 1 >= argc)
			usage();
		const char *v = argv[++i];
		if (!strcmp(f, "addr"))
			addr_s = v;
		else if (!strcmp(f, "warmup"))
			warmup = atof(v);
		else if (!strcmp(f, "duration"))
			duration = atof(v);
		else if (!strcmp(f, "size"))
			size = (size_t)atol(v);
		else if (!strcmp(f, "inflight"))
			max_packets = atol(v);
		else if (!strcmp(f, "inflightbytes"))
			max_bytes = atol(v);
		else if (!strcmp(f, "v"))
			verbose = atoi(v);
		else if (!strcmp(f, "throttle"))
			throttle = strcmp(v, "off") != 0;
		else
			usage();
	}
	if (!addr_s || size < 4 || duration <= 0 || warmup < 0 || max_packets < 1)
		usage();
	if (enet_initialize() != 0) {
		fprintf(stderr, "goodput_c: enet_initialize failed\n");
		return 2;
	}
	ENetAddress addr;
	parse_addr(addr_s, &addr);
	int rc;
	if (!strcmp(mode, "recv"))
		rc = recv_main(&addr, warmup, duration);
	else if (!strcmp(mode, "send"))
		rc = send_main(&addr, size, max_packets, max_bytes, throttle);
	else
		usage();
	enet_deinitialize();
	return rc;
}
