// Package enet is gonetic's ENet network adapter: a transport.Transport
// over libenet 1.3 (reliable and unreliable packets on numbered channels,
// over UDP). It needs cgo and the system library (Debian: libenet-dev);
// built without cgo, New, Listen and Dial return an error saying so.
// Nothing outside this package imports "C": packets are copied into Go
// memory and freed at once.
//
// # Mapping
//
// transport.Config.Channels is the host's channel limit and the channel
// count a Dial asks for; the link uses what both ends allow, and Send fails
// with transport.ErrBadChannel beyond it. Deliveries map to packet flags:
// Reliable to ENET_PACKET_FLAG_RELIABLE, Sequenced to no flag (unreliable,
// sequenced: late packets are dropped), Unsequenced to
// ENET_PACKET_FLAG_UNSEQUENCED. A payload larger than one datagram (about
// 1,370 bytes) is fragmented by ENet and, whatever its Delivery, travels
// reliably: an unreliable fragmented packet is lost with any of its
// fragments. A payload sent alone is one ENet packet, with no framing
// added; payloads that wait for ENet together share packets (Bundles).
//
// Config.MaxPayload is checked on Send (transport.ErrPayloadTooLarge). A
// larger payload from the peer closes the link with a *transport.FrameError
// and tells the peer (DisconnectTooLarge, ErrTooLarge there). ENet's own
// limit, host->maximumPacketSize, is twice MaxPayload (at least 64 KiB):
// packets above it are dropped by ENet unacknowledged, and the sender's
// link times out.
//
// # Goroutines
//
// ENet is not thread-safe, so each ENet host belongs to one goroutine: a
// listener's, shared by its links, or a dialed link's own (a Dial creates a
// host with one peer slot). Send copies the payload into a queue and wakes
// that goroutine, which hands queued payloads to ENet in batches, services
// the host (enet_host_service until the socket is drained) and sleeps in
// Go's netpoller until a datagram, a Send or ENet's next timer (a retransmit, at most 10 ms away while
// anything is unacknowledged; a ping, 500 ms, on an idle link).
//
// The links and listeners are transport.Pollers: package net's Update
// calls Poll before it looks for messages and after its handlers ran, and
// Poll does one round of the host goroutine's work (hand queued payloads to
// ENet, service the host) on the game's goroutine, unless the host's
// goroutine is at it. A game calling Update(0) in a loop thus receives
// without waiting for another goroutine to be scheduled, and its replies
// leave before Update returns. They are transport.Holders too: while
// Update's handlers run, Send queues without waking the host's goroutine,
// because Update's closing Poll sends what they queued (a wake-up per
// reply cost a blocking ping-pong 5-10 %). And they are
// transport.Waiters: an Update(timeout) with nothing to dispatch waits for
// the host's socket on the game's goroutine itself (in C, poll() on the
// socket and an eventfd), with the host's goroutine told not to listen,
// and services the host when a datagram comes. A packet then wakes one
// thread, as it does a single-threaded C program, instead of the host's
// goroutine, which hands it to the game's: with two or more Ps, that hop
// starts idle threads (the runtime's spinning Ms) that compete for the
// CPUs, and an unpinned blocking ping-pong took 225 µs instead of 132 to
// 148 (raw libenet 120 to 130). With one P, a goroutine blocked in C loses
// its P after 20 µs, so Wait declines and Update waits as before.
//
// A game calling Update(0) in a loop (two Polls with no Wait between
// them), or an Update that waits, puts its host in polling mode: the
// host's goroutine sleeps deaf to the socket and to ENet's timers, which
// the Polls and Waits run, Send does not wake it (a Send from another
// goroutine ends a Wait in progress instead), and it looks, without
// waiting for a Poll or Wait in progress, whether Polls or Waits go on:
// after a millisecond, then twice as long after each look that found the
// game polling at least 8 times a millisecond, up to every 16 ms. When
// they stopped, it listens again and sends what Sends left. Unpinned, a
// ping-pong with both sides spinning took 118 µs before, 34 to 37 after
// (raw libenet 20 to 22); a blocking one 132 to 148 µs with Wait alone, 85
// to 99 with polling mode after a Wait (raw libenet 122 to 137, whose
// blocked server is woken by every acknowledgement). The host's goroutine
// still does everything when nobody polls or waits (retransmits, pings,
// Sends from other goroutines), at its next look after they stop: a
// millisecond or two after a game polling at 60 Hz, at most 16 ms after
// one that spun.
//
// In polling mode a Poll or Wait that reads a lone datagram returns before
// ENet acknowledges it (an intercept callback marks the service's event,
// and ENet returns at once): the acknowledgements leave with what the game
// sends next, in one datagram. That is the replies of the Update's
// handlers, sent by its closing Poll. When they send none, the closing
// Poll sends the acknowledgements alone, and when the datagram brought the
// game nothing (an ENet ping), the Poll that read it, unless the game polls
// in a tight loop: then its next Update's Sends carry them, or a Poll 250
// µs later. A Wait sends them before it sleeps, a graceful close before its
// disconnect, and the host's goroutine at its next look. A burst of more
// than four datagrams is read whole and acknowledged in one datagram, as
// ENet does.
// A request and its reply so cost one datagram each way instead of two,
// and the receiver sees the request one sendmsg sooner: ENet sends
// acknowledgements before it hands out what it received. Unpinned, with
// both sides spinning, the ping-pong went from 36 µs to 24 (raw libenet
// 24, which acknowledges every packet alone); with both sides blocking,
// from 85 to 51 µs (raw libenet 122). With a spinning client and a
// blocking server it went from 52 to 59 µs (raw libenet 47): the lone
// acknowledgement that the client sent before its next request woke the
// server early, and now the request wakes it.
//
// Every look, and every other wake-up of a thread, takes a CPU from a
// spinning game, or from another process, for 10 to 30 µs. So the looks
// back off, and Polls and Waits call runtime.Gosched every 4 ms: a
// goroutine that never passes through the scheduler, spinning on
// Update(0) or blocked in C, is preempted by sysmon after 10 ms, and
// sysmon, finding it in a C call, takes its P and resets its own sleep to
// 20 µs, waking some 50 times before it backs off again. Unpinned, with
// both sides spinning, that was 4,000 thread wake-ups a second per
// process; with the Gosched, 200 to 300. The ping-pong's median went from
// 42 to 32 µs and its 99th percentile from 270 to 110 µs, and with the
// client spinning and the server blocking from 64 to 38 µs (raw libenet
// 25 and 47 µs in the same runs).
//
// On Linux, the netpoller waits on an epoll instance of the adapter's that
// watches the socket for incoming datagrams only, and only while the
// host's goroutine sleeps. Go's poller watches a descriptor for writing
// too, so with the socket itself every datagram ENet sent, and every one
// that arrived while the goroutine was busy anyway, woke an idle thread of
// the process; on the 2-vCPU test VM that cut one-way throughput by about
// a fifth and cost a 1000-peer server 10 points of CPU.
// Options.Poll chooses which hosts Poll services: by default a dialed
// link's (a client's), not a listener's, whose work for every peer would
// otherwise land on the server's game loop.
//
// A Sink that is a transport.TrySink (package net's is) gets each payload
// straight from whichever goroutine services the host. While it refuses
// (it is full), and for any other Sink, each link has a receive goroutine
// that calls its Sink, so that a Sink that blocks holds up only its own
// link. While more than 4 MiB (or twice
// MaxPayload) wait for that Sink, ENet refuses the peer's new packets,
// which leaves them unacknowledged: the peer retransmits and its queue
// grows. A Sink blocked longer than the peer's timeout (Options.PeerTimeout,
// ENet's 5 to 30 s by default) loses the link.
//
// # Bounded queues
//
// libenet 1.3.17 walks all the packets it holds on every service once a
// peer's reliable window is full, so a link gives ENet at most
// Options.InFlight packets (Options.InFlightBytes bytes; a bundle is one
// packet) not yet released
// (acknowledged, or sent for unreliable ones), counted by the packets' free
// callback; the rest wait in Go, in a small chunk of the link's own, then
// in pooled 16 KiB chunks (a burst of Sends neither copies the queue as it
// grows nor leaves its memory with the link). Send fails with ErrQueueFull
// once Options.QueueLimit bytes wait.
//
// # Bundles
//
// ENet's cost is per packet: an allocation for the packet and one for its
// command at each end, a 4 to 6-byte command header, an 8-byte
// acknowledgement and at most 32 commands a datagram. So a link's payloads
// that wait for ENet together (queued between two rounds of its host, or
// held back by the in-flight bounds) and follow one another on the same
// channel with the same Delivery go as one packet, a bundle, of up to one
// unfragmented packet (1,372 bytes at ENet's default MTU); the receiver
// splits it and delivers its payloads in order (docs/PROTOCOL.md). Nothing
// waits to be bundled, so a lone Send costs what it did: a ping-pong is
// unchanged. A burst of chats of 19 bytes goes 68 to a packet instead of
// one: one-way through the whole stack, gonetic sent 2.3 to 2.8 M chats a
// second where raw libenet, one packet per chat, sent 1.7 to 1.8 M, and
// gonetic without bundles 0.8 to 0.9 M (medians of three runs;
// Options.NoBundling; 2-vCPU test VM, internal/bench/compare.sh). A malformed bundle from the peer closes the
// link with a *transport.FrameError and tells the peer
// (DisconnectMalformed, ErrMalformed there); Config.MaxPayload bounds each
// payload of a bundle, not the bundle.
//
// # Closing
//
// Link.Close hands everything queued to ENet and, once ENet holds none of
// it unacknowledged, calls enet_peer_disconnect (what
// enet_peer_disconnect_later does, but between two services, so that a
// peer closing at the same moment is not left waiting for its timeout):
// the peer receives all of it, then io.EOF; the local Sink gets
// Closed(nil) once the peer acknowledged the disconnect, or sent its own. Link.Abort drops the queue and calls enet_peer_disconnect_now
// (the peer sees ErrAborted). Listener.Close closes every link as
// Link.Close does, waits at most Options.ShutdownTimeout, drops the rest,
// destroys the host and waits for its goroutines. A peer that stops
// answering closes the link with ErrTimeout.
//
// # Wire
//
// A gonetic ENet client connects with ConnectData (0x676E7402: "gnt" and
// ProtocolVersion 2) as the 32-bit connect data; the listener disconnects
// any other with DisconnectMismatch. Every disconnect carries one of the
// Disconnect* codes as its data; zero, which ENet reports for a timeout,
// is never sent. Addresses are IPv4 (libenet 1.3).
package enet
