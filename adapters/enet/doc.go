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
// ENet is not thread-safe, so each ENet host is serviced by one goroutine
// at a time: its own, or the game's. A host's own goroutine (a listener's,
// shared by its links, or a dialed link's: a Dial creates a host with one
// peer slot) hands queued payloads to ENet in batches, services the host
// (enet_host_service until the socket is drained) and sleeps in Go's
// netpoller until a datagram, a wake-up or ENet's next timer: a
// retransmit, at most 10 ms away while anything is unacknowledged, or a
// ping, 500 ms, on an idle link.
//
// Links and listeners are transport.Pollers: package net's Update calls
// Poll before it looks for messages and after its handlers ran, and Poll
// does that same work on the game's goroutine when the host's goroutine
// is not at it. A client then receives at its frame what reached the
// socket by then, whether or not the host's goroutine has run, and a
// server's replies leave at the end of its Update. Until the first Poll,
// Send wakes the host's goroutine. After it, a Send waits for the next
// Poll or one millisecond, whichever comes first (the host's goroutine
// sleeps until then at most, which wakes no thread when Send is called):
// a server's tick runs without another goroutine sending beside it, and
// what it sent leaves from its next Update, the way a C game loop sends
// after its tick; a Send far from an Update is a millisecond later.
// Link.Flush sends at once. docs/PERF.md has the game-shaped benchmark
// that chose this.
//
// On Linux, the netpoller waits on an epoll instance of the adapter's that
// watches the socket for incoming datagrams only, and only while the
// host's goroutine sleeps: Go's poller watches a descriptor for writing
// too, so with the socket itself every datagram sent, and every one that
// arrived while the goroutine was busy anyway, would wake an idle thread.
//
// A Sink that is a transport.TrySink (package net's is) gets each payload
// straight from the goroutine that services the host. While it refuses
// (it is full), and for any other Sink, each link has a receive goroutine
// that calls its Sink, so that a Sink that blocks holds up only its own
// link. While more than 4 MiB (or twice MaxPayload) wait for that Sink,
// ENet refuses the peer's new packets (with a tested libenet; see libenet
// versions), which leaves them unacknowledged: the peer retransmits and
// its queue grows. A Sink blocked longer than the peer's timeout
// (Options.PeerTimeout, 30 s by default) loses the link.
//
// # Loss
//
// ENet resends a reliable command whose acknowledgement is late, doubling
// its timeout each time; left alone, it also ends the link once a command
// was resent five times and five seconds passed. On a lossy path that
// still works (20 % loss each way fails a round trip a third of the time)
// that stalls a channel for seconds and then ends the link. The adapter
// keeps resending at a steady pace instead: a command's timeout grows to
// at most four times the peer's current one (its round trip plus four
// variances), and at least 200 ms, and a link ends only when nothing at
// all was acknowledged for Options.PeerTimeout. The reliable window still
// bounds what is in flight. adapters/sim and internal/reliability test
// this; docs/PERF.md has the figures.
//
// # Bounded queues
//
// libenet 1.3.17 walks all the packets it holds on every service once a
// peer's reliable window is full, so a link gives ENet at most
// Options.InFlight packets (Options.InFlightBytes bytes; a bundle is one
// packet) not yet released (acknowledged, or sent for unreliable ones),
// counted by the packets' free callback; the rest wait in Go, in a small
// chunk of the link's own, then in pooled 16 KiB chunks (a burst of Sends
// neither copies the queue as it grows nor leaves its memory with the
// link). Send fails with ErrQueueFull once Options.QueueLimit bytes wait.
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
// splits it and delivers its payloads in order (docs/PROTOCOL.md; see
// libenet versions for the size with another libenet). Nothing
// waits to be bundled: a lone Send is a packet of its own, with no framing
// added. Options.NoBundling turns bundling off at the sender; receivers
// always accept bundles. A malformed bundle from the peer closes the link
// with a *transport.FrameError and tells the peer (DisconnectMalformed,
// ErrMalformed there); Config.MaxPayload bounds each payload of a bundle,
// not the bundle.
//
// # Closing
//
// Link.Close hands everything queued to ENet and, once ENet holds none of
// it unacknowledged, calls enet_peer_disconnect (what
// enet_peer_disconnect_later does, but between two services, so that a
// peer closing at the same moment is not left waiting for its timeout):
// the peer receives all of it, then io.EOF; the local Sink gets
// Closed(nil) once the peer acknowledged the disconnect, or sent its own.
// Link.CloseQuiet (transport.QuietCloser) is Close for a peer that has
// not shown it receives at its address: nothing is resent, and the peer
// ends at its first retransmit timeout without an acknowledgement; net
// closes so the links of peers it refuses in their handshake.
// Link.Abort drops the queue and calls enet_peer_disconnect_now
// (the peer sees ErrAborted). Listener.Close closes every link as
// Link.Close does, waits at most Options.ShutdownTimeout, drops the rest,
// destroys the host and waits for its goroutines. A peer that stops
// answering closes the link with ErrTimeout.
//
// # Half-open peers
//
// A CONNECT, one 52-byte datagram from any address, spoofed or silent,
// takes a peer slot, half-open, until the peer acknowledges the
// VERIFY_CONNECT that answers it or Options.PeerTimeout (30 s by default)
// passes. What it can cost the listener and the address it names is
// bounded three ways:
//
//   - Bytes: a half-open peer is sent no more bytes than came from its
//     address and port. A CONNECT gets one VERIFY_CONNECT (48 bytes; a
//     CONNECT smaller than that is dropped, unless compressed). It is
//     resent only when more datagrams from there have paid for it: the
//     client's resent CONNECT (ENet resends one that goes unanswered), or,
//     when the client's acknowledgement was lost, the data and pings of a
//     client that thinks itself connected, which the listener drops
//     otherwise. Never on a timer: a forged CONNECT gets 48 bytes back,
//     once.
//   - Per address: at most Options.HalfOpenPerAddress (64 by default)
//     half-open peers from one IP address. A CONNECT beyond it takes the
//     place of that address's oldest half-open peer once that one has had
//     a second to answer, and is dropped before: its client resends it
//     half a second later, then after one, two, four seconds. Resetting a
//     peer that was sent its VERIFY_CONNECT a moment ago would strand a
//     real client that thinks itself connected; so players behind one NAT
//     connect 64 handshakes at a time (a handshake is one round trip),
//     and a flood from one address holds 64 slots.
//   - Overall: PeerLimit slots, connected and half-open together. A
//     CONNECT that finds every slot taken (within its address's bound)
//     resets a half-open peer and takes its slot: the oldest from its own
//     address if that address holds any (a flood from one address replaces
//     only its own peers), else the oldest of all. Connected peers are
//     never reset; a listener full of them leaves a CONNECT unanswered.
//
// A CONNECT from an address and port that has a half-open peer counts as
// that peer's resent CONNECT. What a flood can still do: CONNECTs from many
// (spoofed) addresses, PeerLimit of them within a real client's round
// trip, replace the client's half-open peer before it answers, and its
// Dial fails or its link times out; CONNECTs spoofed from a player's own
// address, 64 a second, keep that address's new clients waiting. A
// cookie exchange would stop both, but ENet's protocol, which C and Python
// ENet clients speak, has no room for one. With Options.Compress (on both
// ends) CONNECTs are compressed (36 bytes from this adapter, its reply 29):
// the first reply is then bounded by 48 bytes, not by the CONNECT's size,
// and a resend is paid for at 48 bytes, so a client whose first reply was
// lost gets it again at its second resent CONNECT (1.5 s).
// docs/PERF.md has the figures.
//
// # libenet versions
//
// Besides libenet's public API, the adapter uses some of its internals:
// fields of ENetHost and ENetPeer that enet.h neither documents nor lets an
// application change (a peer's command lists, timers and MTU, the data it
// holds for dispatch, the number of peer slots the host walks). It does so
// only when the enet.h it was built with and the libenet it runs with are
// the same version, one it was tested with (GN_TESTED_LIST in shim.c:
// Debian's 1.3.17). With any other, it uses the public API alone, says so
// once through the default log/slog logger (both versions, and what is
// lost), and works as described above except that:
//
//   - a host with any peer is serviced at a fixed short interval, the
//     bound the internals path keeps on its sleep while anything is
//     unacknowledged, instead of when ENet next needs it (a host with no
//     peer still sleeps until woken); acknowledgements go out with every
//     service either way;
//   - ENet walks all PeerLimit slots on every service, not just those in
//     use;
//   - Link.Close judges the flush by the link's own packets (ENet frees one
//     once acknowledged, or sent when unreliable), not by ENet's lists;
//   - bundles are sized for the smallest MTU ENet negotiates;
//   - retransmissions back off as ENet's own do (see Loss): a link that
//     loses a fifth of its datagrams stalls for seconds at times, and
//     ends when one command failed five times running;
//   - a half-open peer's VERIFY_CONNECT is resent with ENet's own backoff
//     until the peer is reset or times out (at most six times, 5.5 times
//     the bytes of its CONNECT), not only when more datagrams came from
//     its address; the bounds per address and overall hold;
//   - a Sink that does not keep up cannot pause its peer: its link holds
//     up to sixteen times the inbox limit for it, then ends, the Sink
//     getting what arrived before and then an error that says why, the
//     peer ErrAborted.
//
// Fields enet.h documents as the application's (ENetHost's
// maximumPacketSize, maximumWaitingData and intercept, with the datagram
// and address an intercept reads, ENetPeer's data, ENetPacket's
// freeCallback and userData), and state that applications read (a peer's
// state, address, channelCount, roundTripTime, roundTripTimeVariance and
// packetLoss; a host's socket, peers, peerCount and totalReceivedPackets),
// are used with any version. A library whose structures differ from the
// headers' (another ABI) is for the dynamic linker to refuse, as with any
// C library.
//
// # Wire
//
// A gonetic ENet client connects with ConnectData (0x676E7402: "gnt" and
// ProtocolVersion 2) as the 32-bit connect data; the listener disconnects
// any other with DisconnectMismatch. Every disconnect carries one of the
// Disconnect* codes as its data; zero, which ENet reports for a timeout,
// is never sent. Addresses are IPv4 (libenet 1.3).
package enet
