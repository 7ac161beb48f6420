// Package tcp is the TCP network adapter: a transport.Transport that moves
// whole payloads over TCP connections.
//
// # Wire format
//
// Each payload travels as one frame; Options.Framing says how frames are
// delimited, and both ends must agree. The default, Binary, puts the
// payload's length in front of it as a 4-byte big-endian unsigned integer.
// ByteCount ("5 hello"), Netstring ("5:hello,") and Lines ("hello\n") speak
// the text framings of Twisted and of many line protocols; a program may
// plug in its own Framing. Nothing else is on the wire. Channel and
// delivery mode are not sent: TCP carries every payload reliably and in
// order, whatever its Delivery, and the receiving Sink always gets channel
// 0. Send still rejects a channel outside Config.Channels.
//
// Frames decode the same however the stream is split into reads. A frame
// longer than the receiver's Config.MaxPayload, or bytes that break the
// framing (a malformed length, a missing separator), end the link with a
// *transport.FrameError as soon as they arrive, before any of the payload is
// buffered; a payload of exactly Config.MaxPayload bytes is accepted.
// Nothing after a bad frame is delivered. A Sink that implements
// transport.Farewell is told first, and may send the peer a last payload
// saying why; the link then closes gracefully (see Closing), so that what
// was queued before reaches the peer. A stream that ends inside a frame
// closes the link with io.ErrUnexpectedEOF.
//
// # Goroutines and memory
//
// A link runs two goroutines, and a listener one more for all its links.
// The reader reads in chunks of 64 KiB and hands each frame to
// Sink.Receive as a slice of its buffer: no allocation per payload. A frame longer than that grows the buffer as its bytes
// arrive, doubling it each time they fill it, never to the length its
// header announces at once; the bigger buffer goes back to the garbage
// collector once no frame is in progress. What the links of one listener
// hold beyond their 64 KiB buffers is bounded by Options.MaxReceiving
// together: a link whose frame needs more than is left ends with ErrBusy,
// as a bad frame does. While Receive blocks, the reader stops reading and
// TCP flow control slows the peer. A Send into an empty queue makes the
// link due at the listener's flusher goroutine, which writes the queues of
// its due links in turn, each with one non-blocking write call: a server
// that sends to every client in a row wakes one goroutine, not one per
// link, and goes on while the flusher writes. What the kernel has no room
// for, the link's writer goroutine writes, waiting for room; Sends meanwhile
// join its queue, and each write call sends everything queued since the
// last. A dialed link has no flusher: its writer does all the writing. Two
// buffers are swapped, so steady state allocates nothing. TCP_NODELAY is
// on.
//
// Send never blocks on the network. It copies the payload into the queue;
// past Options.MaxQueued queued bytes on the link, or Options.MaxQueuedTotal
// on all the links of its listener, it returns ErrQueueFull. A peer that
// does not read is dropped: when a write makes no progress, or Send finds
// the queue full, for Options.WriteTimeout, the link closes with ErrTooSlow
// (which matches transport.ErrTooSlow) and its queue is dropped.
//
// # TLS
//
// With Options.TLS every connection runs over TLS (crypto/tls): the
// payloads, framed as above, are the plaintext of TLS records, and the
// client checks the server's certificate. A listener runs each handshake
// on a goroutine of its own, at most Options.MaxHandshakes at once (and
// Options.MaxHandshakesPerIP from one address), each for at most
// Options.HandshakeTimeout; a connection whose handshake fails
// or times out (a plain client, a peer that never speaks, a client that
// does not trust the certificate) is closed without reaching the Accept.
// Dial returns once the handshake is done, with an error that says what to
// change when it fails (for an unknown authority: Options.TLS.RootCAs).
//
// TLS changes how a link writes: the listener's flusher, which writes the
// socket directly, is not used, and each link's writer goroutine encrypts
// and writes its queue, still in batches. Nothing is allocated per
// payload; crypto/tls allocates one small object per read from the socket,
// which carries as many payloads as have arrived. A write that times out leaves TLS unable
// to write again, so Options.WriteTimeout counts per 64 KiB of the batch
// rather than per byte. A close sends TLS's close_notify before TCP's
// half-close. Stats count the bytes before encryption. Abort closes the
// socket under TLS, without waiting for anything.
//
// TLS proves the server's identity and hides and protects the traffic on
// the way; it does not say who the player is. docs/SECURITY.md compares it
// with gonetic's connect tokens, which work on every adapter, and says
// when to use which.
//
// # Closing
//
// Close refuses further Sends, sends what is queued, half-closes the
// connection, and keeps delivering until the peer's end of stream; then the
// Sink gets Closed(nil). A peer that ends its stream first gives
// Closed(io.EOF), after this side has sent what it had queued. Either way
// Options.CloseTimeout bounds the wait. Abort closes at once and drops the
// queue. Any other failure closes the link with that error. The Sink's
// Closed comes once, after the last Receive, when both goroutines are done.
//
// Listener.Close closes every live link it accepted the same graceful way
// and returns when all their goroutines are done, so after at most
// Options.CloseTimeout plus the time any Sink spends blocked in Receive.
//
// Every method of a Transport, a Link and a Listener is safe to call from
// any goroutine, Sinks and the Accept included, except Listener.Close,
// which waits for those and so must not be called from them.
package tcp
