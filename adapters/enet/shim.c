//go:build cgo

// shim.c: see shim.h. C11 (a thread-local) plus POSIX poll.
#include "shim.h"

#include <enet/time.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#endif

// The libenet versions whose internals the shim was tested against: the
// fields of ENetHost and ENetPeer that enet.h neither documents nor lets an
// application modify (their lists, timers, peerCount, mtu,
// totalWaitingData). The code that touches them is compiled only for
// headers of such a version and runs only when the library linked at run
// time is the same version (gn_init); otherwise every use has a public-API
// fallback. Adding a version, once the tests pass against it, is adding
// X(v, major, minor, patch) to GN_TESTED_LIST.
#define GN_TESTED_LIST(X, v) X(v, 1, 3, 17)

#define GN_IS(v, major, minor, patch) || (v) == ENET_VERSION_CREATE(major, minor, patch)
#define GN_TESTED(v) (0 GN_TESTED_LIST(GN_IS, v))
#define GN_NAME(v, major, minor, patch) " " #major "." #minor "." #patch
#define GN_TESTED_NAMES GN_TESTED_LIST(GN_NAME, _) // " 1.3.17 …"

#if GN_TESTED(ENET_VERSION)
#define GN_HEADERS_TESTED 1
#else
#define GN_HEADERS_TESTED 0
#endif

// gn_internals is set once by gn_init, before any host exists, and read
// only after: 1 when the shim uses libenet's internals.
static int gn_internals;

int gn_init(int publicOnly, uint32_t *headers, uint32_t *linked, const char **tested)
{
	*headers = ENET_VERSION;
	*linked = enet_linked_version();
	*tested = GN_TESTED_NAMES;
#if GN_HEADERS_TESTED
	// The same version at both ends: the layout the internals code was
	// compiled for is the library's.
	gn_internals = !publicOnly && *linked == ENET_VERSION;
#else
	(void)publicOnly;
	gn_internals = 0;
#endif
	return gn_internals;
}

// Bounds of the service goroutine's sleep, in milliseconds, while ENet has
// unacknowledged commands (retransmit timer) or commands it could not send
// yet (window, throttle). Without either, a peer needs service only for its
// next ping, and an idle host with no peer sleeps until woken.
enum { GN_RETRANSMIT_TICK = 10, GN_OUTGOING_TICK = 5 };

static void gn_packet_freed(ENetPacket *p)
{
	gn_link *l = (gn_link *)p->userData;
	if (l != NULL) {
		l->released++;
		l->releasedBytes += p->dataLength;
	}
}

enum { GN_LISTENER_BUFFER = 4 << 20 };

// gn_serviced is the host that gn_service is servicing on this thread, for
// gn_intercept, which ENet calls with the ENetHost alone.
static _Thread_local gn_host *gn_serviced;

// Half-open peers. A CONNECT, one 52-byte datagram from any address,
// spoofed or silent, takes a peer slot that ENet holds in
// ACKNOWLEDGING_CONNECT until the peer acknowledges its VERIFY_CONNECT or
// times out: 1,100 forged CONNECTs once locked real clients out of a
// listener for 32 s, and each got six VERIFY_CONNECTs of 48 bytes, resent
// by ENet with its backoff, 5.5 times the bytes received: an amplifier
// towards a spoofed address. So:
//
//   - Bytes: a half-open peer is sent no more than its address sent. The
//     first VERIFY_CONNECT answers the CONNECT (one smaller than a
//     VERIFY_CONNECT is dropped: a real one is 52 bytes); after it, every
//     datagram from the peer's address and port (its client's resent
//     CONNECT, or, when the acknowledgement of the VERIFY_CONNECT was lost,
//     the data and pings of a client that thinks itself connected) counts
//     in gn_half.in, and the VERIFY_CONNECT is resent at once when in
//     covers it, and never on ENet's own timer (gn_hold). Internals; with
//     the public API only, ENet resends on its timer as before.
//   - Per address: at most halfOpenPerIP (Options.HalfOpenPerAddress)
//     half-open peers from one IP address. A CONNECT beyond it resets that
//     address's oldest once that one had GN_HANDSHAKE_GRACE to answer, and
//     is dropped before (refused): its client resends it. Resetting a peer
//     that was sent its VERIFY_CONNECT a moment ago would strand a real
//     client that thinks itself connected, so a burst from one NAT waits
//     its turn instead, while a flood from one address holds its few
//     slots and no more.
//   - Overall: the PeerLimit slots. A CONNECT that finds no free slot
//     resets the oldest half-open peer from its own address if it has any,
//     so that a flood from one address only takes the place of its own,
//     else the oldest of all; with internals, a free slot above the part
//     ENet walks (gn_fit) is given before any peer is reset. Connected
//     peers are never touched.
//
// A CONNECT from an address and port that has a half-open peer is taken
// for its retransmission (ENet ignores one with the same connectID) and
// dropped, once counted; one from a connected peer's address and port is
// left to ENet.
//
// ENet takes the first free slot below peerCount, so the slot gn_admit
// finds free (or frees) is the one the CONNECT takes, if valid: gn_admit
// starts the slot's gn_half then (born orders the half-open peers, oldest
// first). Public API (the intercept, the datagram and address it
// sees, peers' state and address, enet_peer_reset), except in gn_credit
// and gn_hold. gn_admit reports 1 when it drops the datagram.

// gn_verify_bytes is the size of a datagram that carries a VERIFY_CONNECT
// alone, uncompressed: ENet sends a compressed one only when smaller.
static uint32_t gn_verify_bytes(ENetHost *host)
{
	return sizeof(ENetProtocolHeader) + sizeof(ENetProtocolVerifyConnect) +
	       (host->checksum != NULL ? sizeof(enet_uint32) : 0);
}

// gn_credit counts a datagram from half-open peer p's address and, when
// the bytes received cover one more VERIFY_CONNECT and none is on its way,
// makes ENet resend it in this service (the send pass after the receive
// pass finds it due).
static void gn_credit(gn_host *h, ENetPeer *p)
{
	ENetHost *host = h->host;
	gn_half *s = &h->half[p - host->peers];
	size_t len = host->receivedDataLength;
	s->in = len > UINT32_MAX - s->in ? UINT32_MAX : s->in + (uint32_t)len;
#if GN_HEADERS_TESTED
	uint32_t size = gn_verify_bytes(host);
	if (!gn_internals || s->owed || s->in < (uint64_t)s->out + size || enet_list_empty(&p->sentReliableCommands))
		return; // with no VERIFY_CONNECT sent, the first is still to go, counted by gn_admit
	ENetOutgoingCommand *c = (ENetOutgoingCommand *)enet_list_front(&p->sentReliableCommands);
	c->roundTripTimeout = ENET_TIME_DIFFERENCE(host->serviceTime, c->sentTime);
	p->nextTimeout = host->serviceTime;
	s->out += size;
	s->owed = 1;
	s->attempts = c->sendAttempts;
#else
	(void)s;
#endif
}

// gn_header is the first field of a datagram's protocol header: peer id,
// flags and session.
static enet_uint16 gn_header(ENetHost *host)
{
	enet_uint16 v;
	memcpy(&v, host->receivedData, sizeof v);
	return ENET_NET_TO_HOST_16(v);
}

static int gn_admit(gn_host *h)
{
	ENetHost *host = h->host;
	ENetAddress from = host->receivedAddress;
	ENetPeer *slot = NULL, *oldest = NULL, *oldestHere = NULL;
	size_t here = 0;
	int connected = 0; // a peer past the handshake has this address and port
	for (ENetPeer *p = host->peers; p < &host->peers[host->peerCount]; ++p) {
		if (p->state == ENET_PEER_STATE_DISCONNECTED) {
			slot = slot == NULL ? p : slot;
			continue;
		}
		int same = p->address.host == from.host;
		if (same && p->address.port == from.port) {
			if (p->state != ENET_PEER_STATE_ACKNOWLEDGING_CONNECT) {
				connected = 1;
				continue;
			}
			gn_credit(h, p);
			return 1;
		}
		if (p->state != ENET_PEER_STATE_ACKNOWLEDGING_CONNECT)
			continue;
		uint64_t born = h->half[p - host->peers].born;
		if (same) {
			here++;
			if (oldestHere == NULL || born < h->half[oldestHere - host->peers].born)
				oldestHere = p;
		}
		if (oldest == NULL || born < h->half[oldest - host->peers].born)
			oldest = p;
	}
	ENetPeer *victim = NULL;
	if (connected) {
		// Left to ENet (a duplicate it ignores, or a second connect
		// from one socket), which takes slot if it accepts it.
	} else if (host->receivedDataLength < gn_verify_bytes(host) &&
	           !(gn_header(host) & ENET_PROTOCOL_HEADER_FLAG_COMPRESSED)) {
		return 1;
	} else if (here >= h->halfOpenPerIP) {
		if (ENET_TIME_DIFFERENCE(enet_time_get(), h->half[oldestHere - host->peers].since) < GN_HANDSHAKE_GRACE) {
			h->refused++;
			return 1;
		}
		victim = oldestHere;
	} else if (slot == NULL) {
#if GN_HEADERS_TESTED
		if (gn_internals && host->peerCount < h->slots)
			slot = &host->peers[host->peerCount++]; // see gn_fit
#endif
		if (slot == NULL)
			victim = oldestHere != NULL ? oldestHere : oldest;
	}
	if (victim != NULL) {
		enet_peer_reset(victim);
		h->evicted++;
		if (slot == NULL || victim < slot)
			slot = victim; // ENet takes the first free slot
	}
	if (slot == NULL)
		return 0; // every slot is connected or closing: ENet leaves the CONNECT unanswered
	gn_half *s = &h->half[slot - host->peers];
	s->born = connected ? h->births : ++h->births; // births: CONNECTs admitted
	s->in = (uint32_t)host->receivedDataLength;
	s->out = gn_verify_bytes(host);
	s->since = enet_time_get();
	s->owed = 0;
	return 0;
}

// gn_intercept sees every datagram a listener receives before ENet does.
// Those addressed to no peer are CONNECTs (ENet handles no other command
// from an unknown peer), for gn_admit; those from a half-open peer's
// address and port, to its slot, count for it (gn_credit).
static int ENET_CALLBACK gn_intercept(ENetHost *host, ENetEvent *event)
{
	(void)event;
	gn_host *h = gn_serviced;
	if (h == NULL || h->host != host || host->receivedDataLength < sizeof(enet_uint16))
		return 0;
	enet_uint16 id = gn_header(host) & ~(ENET_PROTOCOL_HEADER_FLAG_MASK | ENET_PROTOCOL_HEADER_SESSION_MASK);
	if (id == ENET_PROTOCOL_MAXIMUM_PEER_ID)
		return gn_admit(h); // 1: dropped, no event
	if (id < host->peerCount) {
		ENetPeer *p = &host->peers[id];
		if (p->state == ENET_PEER_STATE_ACKNOWLEDGING_CONNECT && p->address.host == host->receivedAddress.host &&
		    p->address.port == host->receivedAddress.port)
			gn_credit(h, p);
	}
	return 0; // ENet goes on with the datagram
}

#if GN_HEADERS_TESTED
// GN_HOLD is the retransmit timeout gn_hold gives a half-open peer's
// VERIFY_CONNECT: never reached (below ENET_TIME_OVERFLOW, a day).
enum { GN_HOLD = 3600 * 1000 };

// gn_hold, before every enet_host_service, keeps ENet from resending a
// VERIFY_CONNECT on its timer (gn_credit resends it instead), and resets
// the half-open peers older than handshakeMs, which ENet's timer no longer
// does. Internals: the peer's command lists and timers.
static void gn_hold(gn_host *h)
{
	ENetHost *host = h->host;
	enet_uint32 now = enet_time_get();
	for (ENetPeer *p = host->peers; p < &host->peers[host->peerCount]; ++p) {
		if (p->state != ENET_PEER_STATE_ACKNOWLEDGING_CONNECT)
			continue;
		gn_half *s = &h->half[p - host->peers];
		if (ENET_TIME_DIFFERENCE(now, s->since) >= h->handshakeMs) {
			enet_peer_reset(p);
			h->expired++;
			continue;
		}
		if (enet_list_empty(&p->sentReliableCommands))
			continue; // to be sent: the first, or one gn_credit allowed
		ENetOutgoingCommand *c = (ENetOutgoingCommand *)enet_list_front(&p->sentReliableCommands);
		if (s->owed) {
			if (c->sendAttempts == s->attempts)
				continue; // allowed, not sent yet (its service was cut short)
			s->owed = 0;
		}
		c->roundTripTimeout = GN_HOLD;
		p->nextTimeout = c->sentTime + GN_HOLD;
	}
}
#endif

size_t gn_half_open(gn_host *h, uint32_t ip)
{
	size_t n = 0;
	for (ENetPeer *p = h->host->peers; p < &h->host->peers[h->host->peerCount]; ++p)
		n += p->state == ENET_PEER_STATE_ACKNOWLEDGING_CONNECT && (ip == 0 || p->address.host == ip);
	return n;
}

gn_host *gn_host_new(const ENetAddress *addr, size_t peers, size_t channels, uint32_t in, uint32_t out,
                     int compress, size_t maxPacket, size_t maxWaiting, int *err)
{
	*err = 0;
	gn_host *h = calloc(1, sizeof *h);
	if (h == NULL) {
		*err = ENOMEM;
		return NULL;
	}
	errno = 0;
	h->host = enet_host_create(addr, peers, channels, in, out);
	if (h->host == NULL) {
		*err = errno ? errno : EINVAL;
		gn_host_free(h);
		return NULL;
	}
	h->slots = peers; // before any gn_host_free: it gives ENet back this many
	if (compress && enet_host_compress_with_range_coder(h->host) < 0) {
		*err = ENOMEM;
		gn_host_free(h);
		return NULL;
	}
	h->waiter = -1;
	// A listener gets a datagram from every client at each of their ticks:
	// ENet's 256 KiB receive buffer holds about 190 full ones, which 1,000
	// clients overflow whenever the host's goroutine waits for a CPU a
	// moment (cmd/soak lost datagrams so). The kernel caps the size asked
	// (net.core.rmem_max, wmem_max).
	if (peers > 1) {
		enet_socket_set_option(h->host->socket, ENET_SOCKOPT_RCVBUF, GN_LISTENER_BUFFER);
		enet_socket_set_option(h->host->socket, ENET_SOCKOPT_SNDBUF, GN_LISTENER_BUFFER);
	}
	// Public: enet.h documents both, and ENet's changelog (1.3.12) tells
	// applications to set them.
	h->host->maximumPacketSize = maxPacket;
	h->host->maximumWaitingData = maxWaiting;
	h->handshakeMs = ENET_PEER_TIMEOUT_MAXIMUM;
	h->halfOpenPerIP = h->slots;
	if (peers > 1) {
		h->half = calloc(peers, sizeof *h->half);
		if (h->half == NULL) {
			*err = ENOMEM;
			gn_host_free(h);
			return NULL;
		}
		h->host->intercept = gn_intercept;
	}
	return h;
}

void gn_host_free(gn_host *h)
{
	if (h->hasPending && h->pending.packet != NULL)
		enet_packet_destroy(h->pending.packet);
	if (h->host != NULL) {
#if GN_HEADERS_TESTED
		if (gn_internals)
			h->host->peerCount = h->slots; // see gn_fit
#endif
		enet_host_destroy(h->host); // resets every peer: free callbacks run here
	}
	free(h->half);
	free(h);
}

int gn_host_port(gn_host *h)
{
	ENetAddress a;
	if (enet_socket_get_address(h->host->socket, &a) < 0)
		return h->host->address.port;
	return a.port;
}

// gn_host_aim connects a dialing host's socket to its one server, so that
// an ICMP port unreachable comes back as ECONNREFUSED instead of a connect
// timeout. Linux only: elsewhere sendto on a connected socket fails.
void gn_host_aim(gn_host *h, const ENetAddress *addr)
{
#ifdef __linux__
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = ENET_HOST_TO_NET_16(addr->port);
	sin.sin_addr.s_addr = addr->host;
	(void)connect(h->host->socket, (struct sockaddr *)&sin, sizeof sin);
#else
	(void)h;
	(void)addr;
#endif
}

int gn_socket(gn_host *h) { return (int)h->host->socket; }

// gn_readable reports whether a datagram waits on fd.
int gn_readable(int fd)
{
	struct pollfd p = {fd, POLLIN, 0};
	return poll(&p, 1, 0) > 0;
}

// gn_waiter returns a non-blocking epoll descriptor that watches the host's
// socket for incoming datagrams only, and only while armed (gn_arm), for Go's
// network poller to wait on instead of the socket itself; -errno on failure,
// and -ENOSYS off Linux. The caller owns (closes) it.
//
// Go's poller watches every descriptor for writing as well as reading, edge
// triggered, so a socket of its own woke an idle thread of the process after
// every datagram ENet sent (the send's completion makes the socket writable
// again), and after every datagram that arrived while the host's goroutine
// was awake and busy anyway: a wasted thread wake-up, the costliest thing
// on a busy host, per datagram. The waiter wakes Go's poller only for
// datagrams that arrive while the goroutine sleeps.
int gn_waiter(gn_host *h)
{
#ifdef __linux__
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return -errno;
	struct epoll_event ev;
	memset(&ev, 0, sizeof ev); // disarmed: no events (errors are always reported)
	if (epoll_ctl(ep, EPOLL_CTL_ADD, h->host->socket, &ev) < 0 || fcntl(ep, F_SETFL, O_NONBLOCK) < 0) {
		int e = errno;
		close(ep);
		return -e;
	}
	h->waiter = ep;
	h->armed = 0;
	return ep;
#else
	(void)h;
	return -ENOSYS;
#endif
}

static int gn_watch(gn_host *h, int on)
{
#ifdef __linux__
	struct epoll_event ev;
	memset(&ev, 0, sizeof ev);
	ev.events = on ? EPOLLIN : 0;
	if (epoll_ctl(h->waiter, EPOLL_CTL_MOD, h->host->socket, &ev) < 0)
		return -1;
	h->armed = on;
	return 0;
#else
	(void)h;
	(void)on;
	return -1;
#endif
}

// gn_arm reports whether a datagram waits (1: go round, do not sleep), and
// otherwise makes sure the waiter watches the socket. A datagram waiting
// already means that they keep coming while the goroutine is awake: the
// waiter stops watching, so that they stop waking Go's poller for nothing,
// until the goroutine finds the socket empty. No datagram is missed: one
// that comes after the arming wakes the waiter, one before it is seen by
// the second check. A failure to arm reports 1 too, so that the caller
// goes round rather than sleep deaf.
int gn_arm(gn_host *h)
{
	int fd = h->host->socket;
	if (gn_readable(fd)) {
		gn_disarm(h);
		return 1;
	}
	if (h->waiter < 0 || h->armed)
		return 0;
	if (gn_watch(h, 1) < 0)
		return 1;
	return gn_readable(fd);
}

// gn_disarm stops the waiter watching the socket, while the host's goroutine
// is busy and services the socket itself anyway.
void gn_disarm(gn_host *h)
{
	if (h->waiter >= 0 && h->armed)
		(void)gn_watch(h, 0);
}

#if GN_HEADERS_TESTED
// gn_next_timer is when ENet next needs service for a timer, in
// milliseconds from now; -1: never (no peer). Internals.
static long gn_next_timer(gn_host *h, enet_uint32 now)
{
	ENetHost *host = h->host;
	long best = -1;
	for (ENetPeer *p = host->peers; p < &host->peers[host->peerCount]; ++p) {
		if (p->state == ENET_PEER_STATE_DISCONNECTED)
			continue;
		long d;
		if (!enet_list_empty(&p->acknowledgements) || p->state == ENET_PEER_STATE_ZOMBIE)
			return 0;
		if (p->state == ENET_PEER_STATE_ACKNOWLEDGING_CONNECT && h->half != NULL) {
			// Nothing but gn_hold's reset to wait for, once the
			// VERIFY_CONNECT is out; gn_credit's resends go within
			// the service that received their datagram.
			gn_half *s = &h->half[p - host->peers];
			if (!enet_list_empty(&p->outgoingCommands) || s->owed)
				return 0;
			d = (int32_t)(s->since + h->handshakeMs - now);
			if (d < 0)
				d = 0;
			if (best < 0 || d < best)
				best = d;
			continue;
		}
		if (!enet_list_empty(&p->sentReliableCommands)) {
			d = (int32_t)(p->nextTimeout - now);
			if (d > GN_RETRANSMIT_TICK)
				d = GN_RETRANSMIT_TICK;
		} else if (!enet_list_empty(&p->outgoingCommands)) {
			d = GN_OUTGOING_TICK;
		} else {
			d = (int32_t)(p->lastReceiveTime + p->pingInterval - now);
		}
		if (d < 0)
			d = 0;
		if (best < 0 || d < best)
			best = d;
	}
	if (best != 0 && (host->incomingBandwidth != 0 || host->outgoingBandwidth != 0)) {
		long d = (int32_t)(host->bandwidthThrottleEpoch + ENET_HOST_BANDWIDTH_THROTTLE_INTERVAL - now);
		if (d < 0)
			d = 0;
		if (best < 0 || d < best)
			best = d;
	}
	return best;
}
#endif

// gn_public_timer is gn_next_timer from what the public API shows: a host
// with any peer (connected, or connecting or disconnecting) is serviced
// every GN_PUBLIC_TICK ms, one with none sleeps until woken. So each of
// ENet's timers (a retransmit and the timeout checked with it, a ping, a
// command held back by the window or a bandwidth limit) fires at most that
// late: the bound the internals path keeps on its sleep while anything is
// unacknowledged (GN_RETRANSMIT_TICK), short beside a game's frame and
// beside any retransmit timeout but the loopback's. Acknowledgements do not
// depend on it: every enet_host_service sends those of the datagrams it
// received before it returns.
static long gn_public_timer(gn_host *h)
{
	ENetHost *host = h->host;
	for (size_t i = 0; i < host->peerCount; i++) {
		if (host->peers[i].state != ENET_PEER_STATE_DISCONNECTED)
			return GN_PUBLIC_TICK;
	}
	return -1;
}

// gn_timeout returns how long the host may sleep before ENet needs service
// for a timer (a retransmit, a ping, a bandwidth throttle epoch), at most
// maxWaitMs (-1: no limit).
int gn_timeout(gn_host *h, int maxWaitMs)
{
	long next;
#if GN_HEADERS_TESTED
	if (gn_internals)
		next = gn_next_timer(h, enet_time_get());
	else
#endif
		next = gn_public_timer(h);
	if (maxWaitMs >= 0 && (next < 0 || next > maxWaitMs))
		next = maxWaitMs;
	return (int)next;
}

#if GN_HEADERS_TESTED
// Free peer slots gn_fit keeps in the part of a host's slots that ENet
// walks, at least, for peers that connect between two services.
enum { GN_SLACK = 64 };

// gn_fit sets how many of the host's peer slots ENet walks (host->peerCount)
// to those up to the last one in use, plus GN_SLACK and half as many again
// as are in use. ENet walks every slot below peerCount two or three times
// per enet_host_service, used or not (1.0 µs a service with 64 slots, 5.5 µs
// with 1024, 11 µs with 4095 on the test VM), and so does gn_timeout; with
// gn_fit a listener pays for the peers it has, not for the ones it could
// have. ENet gives a connecting peer the first free slot below peerCount,
// so slots in use stay packed low, and a connect that finds none free
// (a burst of more than the slack within one service) goes unanswered and
// is retried by its client a moment later, by which time the part has
// grown. Slots above peerCount are disconnected and untouched; gn_host_free
// gives ENet back all of them before it destroys the host.
static void gn_fit(gn_host *h)
{
	ENetHost *host = h->host;
	if (h->slots <= GN_SLACK)
		return;
	size_t top = 0, used = 0;
	for (size_t i = 0; i < host->peerCount; i++) {
		if (host->peers[i].state != ENET_PEER_STATE_DISCONNECTED) {
			used++;
			top = i + 1;
		}
	}
	size_t want = top + GN_SLACK + used / 2;
	host->peerCount = want < h->slots ? want : h->slots;
}

// Retransmission: ENet doubles a reliable command's retransmit timeout
// each time it is resent, without bound, and ends the link once one command
// was resent GN_PEER_TIMEOUT_LIMIT (32, five doublings) times and
// timeoutMinimum passed. At 20 % loss each way a command fails a round trip
// a third of the time, so a run of six failures comes every few hundred
// commands: the channel stalls for seconds, then the link ends, on a link
// that is lossy but alive (the reliability suite under adapters/sim).
// gn_cap_retransmits holds every timeout at most GN_RTO_FACTOR times the
// peer's current one (round trip plus four variances), and at least
// GN_RTO_FLOOR ms, and below the limit that ends the link: a command is
// resent at that pace until acknowledged, and only timeoutMaximum (no
// acknowledgement at all for that long, Options.PeerTimeout) ends the link.
// The window still bounds what is in flight, so a congested link is not
// flooded. A half-open peer's (ACKNOWLEDGING_CONNECT) VERIFY_CONNECT is
// left to gn_hold and gn_credit: it is resent only for bytes received
// (see gn_admit).
// Internals: the lists and timeouts of libenet 1.3.17's peer.
enum { GN_RTO_FACTOR = 4, GN_RTO_FLOOR = 200 };

static void gn_cap_retransmits(gn_host *h)
{
	ENetHost *host = h->host;
	for (ENetPeer *p = host->peers; p < &host->peers[host->peerCount]; ++p) {
		if (p->state == ENET_PEER_STATE_DISCONNECTED || p->state == ENET_PEER_STATE_ACKNOWLEDGING_CONNECT ||
		    (p->data != NULL && ((gn_link *)p->data)->quiet) || enet_list_empty(&p->sentReliableCommands))
			continue;
		enet_uint32 cap = GN_RTO_FACTOR * (p->roundTripTime + 4 * p->roundTripTimeVariance);
		if (cap < GN_RTO_FLOOR)
			cap = GN_RTO_FLOOR;
		for (ENetListIterator it = enet_list_begin(&p->sentReliableCommands); it != enet_list_end(&p->sentReliableCommands);
		     it = enet_list_next(it)) {
			ENetOutgoingCommand *c = (ENetOutgoingCommand *)it;
			enet_uint32 most = cap < c->roundTripTimeoutLimit ? cap : c->roundTripTimeoutLimit - 1;
			if (c->roundTripTimeout > most)
				c->roundTripTimeout = most;
		}
		ENetOutgoingCommand *front = (ENetOutgoingCommand *)enet_list_front(&p->sentReliableCommands);
		p->nextTimeout = front->sentTime + front->roundTripTimeout;
	}
}
#endif

// gn_service does the host's network work (enet_host_service: send, receive
// up to 256 datagrams, send acknowledgements; received packets wait in the
// dispatch queue) and hands out every queued event, copying payloads into
// buf, until the socket has nothing more.
//
// enet_host_service gets an event, not NULL: with NULL, ENet leaves a peer
// whose connect completes in the pending states (CONNECTION_PENDING or
// _SUCCEEDED) until enet_host_check_events dispatches it, and the packets
// that came with or right after the connect acknowledgement in the same
// receive pass fail the CONNECTED check: ENet drops the rest of each such
// datagram unacknowledged, and the peer's first message (gonetic's hello)
// arrives only when it is retransmitted, some 500 ms later. With an event,
// ENet moves the peer to CONNECTED at once and returns the connect event
// before it reads the next datagram.
int gn_service(gn_host *h, gn_event *evs, int maxEvs, uint8_t *buf, uint32_t bufCap, uint64_t maxPayload,
               uint32_t *need, int *status)
{
	int n = 0, serviced = 0;
	uint32_t used = 0, batch = 0;
	*status = GN_DONE;
	*need = 0;
#if GN_HEADERS_TESTED
	if (gn_internals) {
		gn_fit(h);
		gn_cap_retransmits(h);
	}
#endif
	for (;;) {
		while (n < maxEvs) {
			ENetEvent ev;
			if (h->hasPending) {
				ev = h->pending;
				h->hasPending = 0;
			} else {
				int r = enet_host_check_events(h->host, &ev);
				if (r < 0) {
					h->lastError = errno;
					*status = GN_ERROR;
					return n;
				}
				if (r == 0)
					break;
			}
			gn_event *e = &evs[n];
			e->type = ev.type;
			e->slot = (uint32_t)(ev.peer - h->host->peers);
			e->data = ev.data;
			e->channel = ev.channelID;
			e->offset = used;
			e->length = 0;
			if (ev.type == ENET_EVENT_TYPE_RECEIVE) {
				size_t len = ev.packet->dataLength;
				if (len > maxPayload) {
					e->type = GN_EV_OVERSIZE;
					e->length = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
					enet_packet_destroy(ev.packet);
				} else if (len > bufCap - used) {
					h->pending = ev;
					h->hasPending = 1;
					*need = (uint32_t)len;
					*status = GN_MORE;
					return n;
				} else {
					if (len > 0)
						memcpy(buf + used, ev.packet->data, len);
					e->length = (uint32_t)len;
					used += (uint32_t)len;
					enet_packet_destroy(ev.packet);
				}
			}
			n++;
		}
		if (n == maxEvs) {
			*status = GN_MORE;
			return n;
		}
		if (serviced && batch < 256)
			return n;
		enet_uint32 before = h->host->totalReceivedPackets;
		ENetEvent ev;
#if GN_HEADERS_TESTED
		if (gn_internals && h->half != NULL)
			gn_hold(h);
#endif
		errno = 0;
		gn_serviced = h;
		int r = enet_host_service(h->host, &ev, 0);
		gn_serviced = NULL;
		if (r < 0) {
			h->lastError = errno;
			*status = GN_ERROR;
			return n;
		}
		batch = h->host->totalReceivedPackets - before;
		serviced = 1;
		if (r > 0) {
			h->pending = ev;
			h->hasPending = 1;
			// A connect or disconnect stops ENet's send or receive
			// pass where it happened: service again once it is out.
			if (ev.type != ENET_EVENT_TYPE_RECEIVE)
				serviced = 0;
		}
	}
}

gn_link *gn_link_new(ENetPeer *peer)
{
	gn_link *l = calloc(1, sizeof *l);
	if (l != NULL) {
		l->peer = peer;
		peer->data = l;
	}
	return l;
}

// gn_link_free is called once the peer was reset: ENet holds none of the
// link's packets.
void gn_link_free(gn_link *l)
{
	if (l->peer->data == l)
		l->peer->data = NULL;
	free(l);
}

// gn_uvarint_len is the length of v as an unsigned LEB128 varint.
static size_t gn_uvarint_len(uint32_t v)
{
	size_t n = 1;
	for (; v >= 0x80; v >>= 7)
		n++;
	return n;
}

static uint8_t *gn_put_uvarint(uint8_t *p, uint32_t v)
{
	for (; v >= 0x80; v >>= 7)
		*p++ = (uint8_t)(v | 0x80);
	*p++ = (uint8_t)v;
	return p;
}

// gn_bundle_room is the largest packet ENet sends to p in one command,
// unfragmented: what enet_peer_send compares a packet's length with. The
// peer's MTU is an internal; without it, the smallest MTU ENet negotiates
// (and room for a checksum) gives a room every peer takes unfragmented.
static size_t gn_bundle_room(ENetPeer *p)
{
#if GN_HEADERS_TESTED
	if (gn_internals) {
		size_t room = p->mtu - sizeof(ENetProtocolHeader) - sizeof(ENetProtocolSendFragment);
		if (p->host->checksum != NULL)
			room -= sizeof(enet_uint32);
		return room;
	}
#else
	(void)p;
#endif
	return gn_public_room();
}

size_t gn_public_room(void)
{
	return ENET_PROTOCOL_MINIMUM_MTU - sizeof(ENetProtocolHeader) - sizeof(ENetProtocolSendFragment) -
	       sizeof(enet_uint32);
}

// gn_send_batch hands payloads of ents, whose bytes are back to back at
// data, to ENet until n are handed or the in-flight bounds stop it, and
// returns how many it handed; *bytes gets their payload bytes. With
// GN_SEND_BUNDLE, consecutive payloads on the same channel with the same
// delivery that fit in one unfragmented packet together go as one bundle
// (docs/PROTOCOL.md): ENet then allocates, sends, acknowledges and
// dispatches one packet for all of them. A payload sent alone that starts
// with GN_BUNDLE_MARK goes as a bundle of one, so that the receiver does not
// take it for a bundle; GN_SEND_RAW (tests only) sends every payload as it
// is.
int gn_send_batch(gn_link *l, const uint8_t *data, const gn_send *ents, int n, uint64_t maxPackets,
                  uint64_t maxBytes, int mode, uint64_t *bytes, int *failed)
{
	int i = 0;
	uint64_t b = 0;
	size_t room = (mode & GN_SEND_BUNDLE) ? gn_bundle_room(l->peer) : 0;
	*failed = 0;
	while (i < n) {
		// The test of host.room, which must agree: were this one to
		// refuse what room allows, the host's goroutine would go round
		// without handing anything on and without servicing the host
		// for the acknowledgements that make room.
		uint64_t inflight = l->created - l->released;
		if (inflight > 0 && (inflight >= maxPackets || l->createdBytes - l->releasedBytes >= maxBytes))
			break;
		uint32_t len = ents[i].length;
		int k = 1;
		size_t payload = len;
		size_t sz = 1 + gn_uvarint_len(len) + len; // its size as a bundle
		if (room > 0) {
			while (i + k < n && ents[i + k].channel == ents[i].channel &&
			       ents[i + k].delivery == ents[i].delivery) {
				size_t add = gn_uvarint_len(ents[i + k].length) + ents[i + k].length;
				if (sz + add > room)
					break;
				sz += add;
				payload += ents[i + k].length;
				k++;
			}
		}
		int bundle = k > 1 || (!(mode & GN_SEND_RAW) && len > 0 && data[0] == GN_BUNDLE_MARK);
		size_t size = bundle ? sz : len;
		enet_uint32 flags = 0;
		if (ents[i].delivery == 0)
			flags = ENET_PACKET_FLAG_RELIABLE;
		else if (ents[i].delivery == 2)
			flags = ENET_PACKET_FLAG_UNSEQUENCED;
		ENetPacket *p = enet_packet_create(bundle || size == 0 ? NULL : data, size, flags);
		if (p == NULL) {
			*failed = 1;
			break;
		}
		if (bundle) {
			uint8_t *w = p->data;
			const uint8_t *r = data;
			*w++ = GN_BUNDLE_MARK;
			for (int j = i; j < i + k; j++) {
				uint32_t m = ents[j].length;
				w = gn_put_uvarint(w, m);
				if (m > 0) { // r may be NULL when every payload left is empty
					memcpy(w, r, m);
					w += m;
					r += m;
				}
			}
		}
		p->freeCallback = gn_packet_freed;
		p->userData = l;
		l->created++;
		l->createdBytes += size;
		if (enet_peer_send(l->peer, ents[i].channel, p) < 0) {
			enet_packet_destroy(p); // not taken by ENet; counts as released
			*failed = 1;
			break;
		}
		data += payload;
		b += payload;
		i += k;
	}
	*bytes = b;
	return i;
}

// gn_link_pause makes ENet refuse (leave unacknowledged) new packets from
// the link's peer while Go's inbox for it is full, by counting a full
// maximumWaitingData as waiting: the peer's sender retransmits, its window
// fills and its queue grows. Packets ENet already acknowledged are still
// dispatched, so a graceful disconnect loses none. Internals only
// (totalWaitingData): without them it does nothing, and Go bounds the
// inbox instead (host.receive).
void gn_link_pause(gn_link *l, int on)
{
#if GN_HEADERS_TESTED
	if (!gn_internals)
		return;
	ENetPeer *p = l->peer;
	size_t bump = p->host->maximumWaitingData;
	if (on && !l->paused) {
		p->totalWaitingData += bump;
		l->paused = 1;
	} else if (!on && l->paused) {
		p->totalWaitingData -= p->totalWaitingData < bump ? p->totalWaitingData : bump;
		l->paused = 0;
	}
#else
	(void)l;
	(void)on;
#endif
}

// gn_flushed reports whether a connected link's peer has nothing queued,
// unsent or unacknowledged (1: it may be disconnected; with internals, the
// test of enet_peer_disconnect_later), and -1 when it is not connected any
// more (ENet is ending it). Without internals, the link's packets tell:
// ENet frees a reliable packet once acknowledged and an unreliable one once
// sent (or dropped), so none left means all of the link's data is through;
// only ENet's own commands (a ping) may still be out, and a disconnect
// drops those harmlessly.
int gn_flushed(gn_link *l)
{
	ENetPeer *p = l->peer;
	if (p->state != ENET_PEER_STATE_CONNECTED)
		return -1;
#if GN_HEADERS_TESTED
	if (gn_internals)
		return enet_list_empty(&p->outgoingCommands) && enet_list_empty(&p->sentReliableCommands);
#endif
	return l->created == l->released;
}

// Bounds of the wait for the acknowledgement of a disconnect: ENet gives up
// after GN_BYE_ATTEMPTS sends and GN_BYE_MIN ms, or after GN_BYE_MAX ms,
// instead of the 5 to 30 s it allows any reliable command.
enum { GN_BYE_ATTEMPTS = 8, GN_BYE_MIN = 200, GN_BYE_MAX = 2000 };

// gn_disconnect is enet_peer_disconnect with a short wait for the
// acknowledgement. Everything else of the link was acknowledged before (or
// there was nothing), so all a lost disconnect costs is that the peer
// learns of the end by its own timeout. And one can be lost for good: a
// libenet peer that has queued its own disconnect and reads ours in the
// same receive pass drops its own and does not acknowledge ours; waiting
// for ENet's peer timeout then only delays this side's Closed by 5 s or
// more.
//
// timeoutMs is the peer timeout the adapter gave p (enet_peer_timeout's
// minimum and maximum), 0 for ENet's defaults; with internals, p's own
// timeouts are read instead. gn_disconnect is gn_bye with 0, for peers the
// listener refuses.
void gn_bye(ENetPeer *p, uint32_t data, uint32_t timeoutMs)
{
	enet_peer_disconnect(p, data);
	if (p->state != ENET_PEER_STATE_DISCONNECTING)
		return;
	enet_uint32 limit = ENET_PEER_TIMEOUT_LIMIT;
	enet_uint32 lo = timeoutMs ? timeoutMs : ENET_PEER_TIMEOUT_MINIMUM;
	enet_uint32 hi = timeoutMs ? timeoutMs : ENET_PEER_TIMEOUT_MAXIMUM;
#if GN_HEADERS_TESTED
	if (gn_internals) {
		limit = p->timeoutLimit;
		lo = p->timeoutMinimum;
		hi = p->timeoutMaximum;
	}
#endif
	enet_peer_timeout(p, limit < GN_BYE_ATTEMPTS ? limit : GN_BYE_ATTEMPTS, lo < GN_BYE_MIN ? lo : GN_BYE_MIN,
	                  hi < GN_BYE_MAX ? hi : GN_BYE_MAX);
}

void gn_disconnect(ENetPeer *p, uint32_t data) { gn_bye(p, data, 0); }

// gn_quiet makes l's peer end at its first retransmit timeout instead of
// resending (Link.CloseQuiet): a timeout limit of one round, so that what
// is sent from now on goes out once, and, with internals, the same limit
// on what is already out and unacknowledged. gn_cap_retransmits leaves the
// peer alone.
void gn_quiet(gn_link *l)
{
	l->quiet = 1;
	ENetPeer *p = l->peer;
	enet_peer_timeout(p, 1, 1, GN_BYE_MAX);
#if GN_HEADERS_TESTED
	if (gn_internals) {
		for (ENetListIterator it = enet_list_begin(&p->sentReliableCommands); it != enet_list_end(&p->sentReliableCommands);
		     it = enet_list_next(it)) {
			ENetOutgoingCommand *c = (ENetOutgoingCommand *)it;
			c->roundTripTimeoutLimit = c->roundTripTimeout;
		}
	}
#endif
}

ENetPeer *gn_peer(gn_host *h, uint32_t slot) { return &h->host->peers[slot]; }

uint32_t gn_slot(gn_host *h, ENetPeer *p) { return (uint32_t)(p - h->host->peers); }
