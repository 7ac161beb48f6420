// Package nats is the NATS network adapter: a transport.Transport whose
// links run over subjects of a NATS system (github.com/nats-io/nats.go,
// imported as natsgo), so that game servers on several machines reach
// each other through one or more nats-servers rather than by address.
//
//	nc, _ := natsgo.Connect(url)
//	tr, _ := nats.New(nats.Options{Conn: nc, ID: "zone-1"})
//	ln, _ := tr.Listen("zone-1/net", cfg, accept)   // or Listen("net")
//	link, _ := tr.Dial(ctx, "zone-2/net", cfg, sink)
//
// # Addresses and subjects
//
// An address is "<name>/<svc>", both subject tokens (A-Z, a-z, 0-9, '_',
// '-'); "<svc>" alone means the Transport's own Options.ID as the name.
// With P the Options.Prefix ("gonetic" by default), the adapter uses:
//
//	P.n.<name>.<svc>.dial                 dial requests to a listener
//	P.n.<name>.<svc>.l.<dialer>.<link>    a link's frames to the listener
//	P.d.<dialer>.<link>                   a link's frames to the dialer
//
// <dialer> is the dialing Transport's ID and <link> a fresh id per dial
// (64 random bits in base 36, so that no peer can foresee it and claim it
// at a listener first, and a restarted process does not meet the subjects
// of its former self). `nats sub 'gonetic.>'` shows all of it;
// `nats sub 'gonetic.n.zone-1.>'` what reaches zone-1.
//
// Dial publishes a request to the dial subject whose reply subject is the
// new link's subject towards the dialer, subscribed first: the listener
// subscribes to its side, answers there with an accept frame, then asks
// its Accept for a Sink. A refusal reaches the dialer as a *CloseError
// after Dial returned. When nobody listens, NATS answers "no responders"
// and Dial fails at once with an error matching ErrNoListener. Each link
// holds one subscription per end; the listener one for its dial subject.
//
// # Frames
//
// Every message on a link subject is one frame, [kind u8][seq uvarint]
// then a body, with no NATS headers:
//
//	data   1  [channel u8][payload]   a payload, or the last part of one
//	frag   2  [channel u8][part]      the payload goes on in the next frame
//	close  3  [code u8][reason]       the sender ended the link
//	tick   4                          the sender had nothing to send
//	accept 5                          the listener took the dial
//
// A payload larger than the server's max_payload (nc.MaxPayload()) less
// 12 header bytes goes as frag frames and a last data frame, reassembled
// by the receiver up to Config.MaxPayload. A larger one ends the link with
// a *transport.FrameError whose TooLarge is set; a Sink that implements
// transport.Farewell is told first and may send a last payload, then the
// close frame goes, and the sender's Sink gets a TooLarge FrameError too.
// A channel at or beyond Config.Channels, or a malformed frame, ends the
// link the same way (not TooLarge). Each payload keeps its channel.
//
// # Delivery and ordering
//
// NATS delivers at most once, in order per publishing connection and
// subject. Each direction of a link numbers its frames 1, 2, 3…, ticks and
// close included, and the receiver takes only the one after the last: a
// gap (frames lost to a NATS reconnect, or dropped as a slow consumer), a
// repeat or a foreign frame ends the link with a *GapError, and the close
// frame it then sends gives the peer a *CloseError saying why. Nothing is
// resent. A link that sent nothing for Options.TickInterval sends a tick,
// so that a lost last frame is found within about that time, and a link
// that heard nothing, not even a tick, for Options.PeerTimeout (which must
// exceed the peer's TickInterval) ends with ErrPeerGone: a peer whose
// process or NATS connection ended sends no close frame. So every
// Delivery, Sequenced and Unsequenced included, is delivered reliably and
// in order, across channels too, or the link breaks and both ends are
// told; links are not transport.Lossy.
//
// An idle link survives a NATS reconnect (nats.go resubscribes and keeps
// what is published meanwhile, up to its ReconnectBufSize) if no frame was
// lost and the reconnect took less than the peer's PeerTimeout; a busy one
// usually breaks.
//
// # Sending, receiving and backpressure
//
// Send frames the payload and publishes it at once: nats.go copies it
// into its buffer (writing to the socket when that fills, as any Publish
// does), so Send does not wait for the peer. While nats.go reconnects and
// its reconnect buffer is full, Send returns an error matching
// transport.ErrQueueFull. Flush does nothing: nats.go's flusher writes
// soon after every Publish.
//
// Each link's frames are delivered by its subscription's nats.go goroutine,
// which calls the Sink, Closed included, once per link and in order. A
// Sink that blocks stalls only its own link, never the NATS connection
// (nats.go's reader does not block), and never the sender: there is no
// flow control across NATS. What arrives meanwhile waits in nats.go, up
// to Options.PendingBytes per link; past that nats.go drops messages
// (a slow consumer, reported to the connection's ErrorHandler) and the
// link ends with a *GapError counting them. The server does not cut the
// connection. Layers above bound what is in flight (flow's credits).
//
// # Closing
//
// Close refuses further Sends and publishes a close frame behind what was
// sent, then stops receiving; the peer's Sink gets io.EOF after every
// payload before it, and the closer's Sink gets Closed(nil). Abort does
// the same with a close frame that gives the peer a *CloseError, and
// cannot recall frames already handed to nats.go. Closing the NATS
// connection ends every link on it with ErrConnClosed; the adapter never
// closes Options.Conn itself. Listener.Close stops answering dials, closes
// every link it accepted and returns once their Sinks got Closed and the
// goroutines nats.go ran for them ended, so no goroutine of the adapter
// outlives its links and listeners. It must not be called from a Sink or
// an Accept. Every other method is safe from any goroutine.
//
// Stats count payloads, and the bytes of whole frames, ticks included.
package nats
