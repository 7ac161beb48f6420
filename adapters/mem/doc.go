// Package mem is an in-memory network adapter for fast, deterministic
// tests: a Network connects links dialed on it to listeners on it, inside
// one process, with no sockets and no package-level state.
//
// It behaves like the TCP adapter where that matters to the layer above:
// Send copies the payload and never blocks; each direction is delivered in
// order by one goroutine per receiving link, which calls the Sink; Close
// delivers what is queued before the peer sees io.EOF, and the peer then
// closes its side, so the closer's Sink gets Closed(nil); Abort drops what is
// queued and the peer gets ErrReset. Unlike TCP it passes channel numbers
// through, and it delivers every Delivery mode reliably.
//
// Config.MaxPayload is enforced at the sender (transport.ErrPayloadTooLarge)
// and, when the two ends differ, at the receiver (the link closes with a
// *transport.FrameError). Queues are not bounded: a Sink that blocks makes
// its peer's queue grow.
//
// Every method of a Network, a Link and a Listener is safe to call from any
// goroutine, Sinks and the Accept included, except Listener.Close, which
// waits for the goroutines of the links it accepted (so for their Sinks)
// and so must not be called from them. Close has no timeout here: the peer
// is in the same process and closes its side as soon as its Sink returns.
package mem
