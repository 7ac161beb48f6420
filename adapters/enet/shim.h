// shim.h: the small C layer between package enet and libenet. Everything
// here runs on the goroutine of the host it is given (host.run).
#ifndef GONETIC_ENET_SHIM_H
#define GONETIC_ENET_SHIM_H

#include <enet/enet.h>
#include <stdint.h>

// A link's C half: its peer and the counters the packet free callback keeps,
// so that Go can bound what ENet holds without a call from C into Go.
typedef struct gn_link {
	ENetPeer *peer;
	uint64_t created, released;           // packets handed to ENet / freed by it
	uint64_t createdBytes, releasedBytes; // their bytes (a bundle's with its framing)
	int paused;                           // Go's inbox is full: ENet refuses new packets
	int quiet;                            // CloseQuiet: nothing is resent, the first timeout ends the peer
} gn_link;

// A listener's bookkeeping of one peer slot while its peer is half-open
// (ACKNOWLEDGING_CONNECT; see gn_admit).
typedef struct gn_half {
	uint64_t born;     // when a connect last took the slot: gn_admit's order
	uint32_t in, out;  // bytes received from the peer's address / VERIFY_CONNECT bytes allowed out
	uint32_t since;    // ENet time of that connect
	int owed;          // gn_credit allowed a resend of the VERIFY_CONNECT, not seen gone by gn_hold yet
	uint16_t attempts; // the VERIFY_CONNECT's send attempts then
} gn_half;

// A host plus one event held back when the Go receive buffer was too small
// for it.
typedef struct gn_host {
	ENetHost *host;
	ENetEvent pending;
	int hasPending;
	int lastError; // errno of the last failure of enet_host_service
	size_t slots;  // peer slots allocated; with internals, host->peerCount is those ENet walks (see gn_fit)
	int waiter;    // gn_waiter's epoll descriptor, -1: none
	int armed;     // the waiter watches the socket
	gn_half *half;   // per slot, a listener's (see gn_admit); NULL for a dialing host
	uint64_t births; // CONNECTs admitted (gn_admit)
	uint64_t evicted; // half-open peers reset to make room (gn_admit)
	uint64_t expired; // half-open peers reset after handshakeMs (gn_hold)
	uint64_t refused; // CONNECTs dropped: their address holds GN_HALF_OPEN_PER_IP young half-open peers
	uint32_t handshakeMs; // how long a peer may stay half-open (internals only)
	size_t halfOpenPerIP; // half-open peers from one IP address at most (gn_admit)
} gn_host;

// One payload to send; its bytes follow the previous one's in the data block.
typedef struct gn_send {
	uint32_t length;
	uint8_t channel;
	uint8_t delivery; // 0 reliable, 1 sequenced, 2 unsequenced
} gn_send;

enum {
	GN_EV_CONNECT = 1,
	GN_EV_DISCONNECT = 2,
	GN_EV_RECEIVE = 3,
	GN_EV_OVERSIZE = 4, // a received packet above the limit; not copied
};

typedef struct gn_event {
	uint32_t type;
	uint32_t slot; // the peer's index in host->peers
	uint32_t data; // connect or disconnect data
	uint32_t channel;
	uint32_t offset, length; // payload bytes in the Go buffer
} gn_event;

enum {
	GN_DONE = 0,  // enet_host_service returned 0: nothing more now
	GN_MORE = 1,  // the event array or buffer filled up: call again
	GN_ERROR = 2, // enet_host_service returned -1
};

// gn_init decides, once per process before any host, whether the shim uses
// libenet's internals (1) or only its public API (0: publicOnly, or the
// headers or the linked library are not a version it was tested against),
// and reports the versions and the tested ones (" 1.3.17 …").
int gn_init(int publicOnly, uint32_t *headers, uint32_t *linked, const char **tested);

// GN_PUBLIC_TICK is how often, in milliseconds, a host with peers is
// serviced when the shim may not read ENet's timers (see gn_public_timer).
enum { GN_PUBLIC_TICK = 10 };

// gn_public_room is the largest bundle sent without internals (see
// gn_bundle_room).
size_t gn_public_room(void);

gn_host *gn_host_new(const ENetAddress *addr, size_t peers, size_t channels, uint32_t in, uint32_t out,
                     int compress, size_t maxPacket, size_t maxWaiting, int *err);
void gn_host_free(gn_host *h);
int gn_host_port(gn_host *h);
void gn_host_aim(gn_host *h, const ENetAddress *addr);
int gn_socket(gn_host *h);
int gn_readable(int fd);
int gn_waiter(gn_host *h);
int gn_arm(gn_host *h);
void gn_disarm(gn_host *h);
int gn_timeout(gn_host *h, int maxWaitMs);
int gn_service(gn_host *h, gn_event *evs, int maxEvs, uint8_t *buf, uint32_t bufCap, uint64_t maxPayload,
               uint32_t *need, int *status);

// GN_HANDSHAKE_GRACE is how long, in milliseconds, a half-open peer is
// left to answer before a CONNECT from its IP address beyond
// halfOpenPerIP may take its place (see gn_admit in shim.c).
enum { GN_HANDSHAKE_GRACE = 1000 };

// gn_half_open counts a host's half-open peers from IP address ip (network
// order), or all of them when ip is 0.
size_t gn_half_open(gn_host *h, uint32_t ip);

gn_link *gn_link_new(ENetPeer *peer);
void gn_link_free(gn_link *l);
void gn_link_pause(gn_link *l, int on);
// gn_send_batch modes, and the first byte of a bundle (docs/PROTOCOL.md).
enum {
	GN_SEND_BUNDLE = 1, // bundle payloads
	GN_SEND_RAW = 2,    // send payloads as they are, even one that looks like a bundle (tests)
	GN_BUNDLE_MARK = 0x01,
};

int gn_send_batch(gn_link *l, const uint8_t *data, const gn_send *ents, int n, uint64_t maxPackets,
                  uint64_t maxBytes, int mode, uint64_t *bytes, int *failed);
int gn_flushed(gn_link *l);
void gn_quiet(gn_link *l);
void gn_bye(ENetPeer *p, uint32_t data, uint32_t timeoutMs);
void gn_disconnect(ENetPeer *p, uint32_t data);
ENetPeer *gn_peer(gn_host *h, uint32_t slot);
uint32_t gn_slot(gn_host *h, ENetPeer *p);

#endif
