// Package transport declares what a network adapter is: something that moves
// whole byte payloads between two peers, on numbered channels, with a
// delivery mode, and reports when a link closes and why.
//
// A network adapter knows nothing of messages, codecs or handshakes: package
// net builds those on top of a Transport. Adapters live under adapters/
// (tcp, enet, mem); this package is a leaf so that both sides can import it.
//
// # Goroutines
//
// An adapter runs its own I/O goroutines and calls a link's Sink from them.
// A Sink must be safe to call from any goroutine and must return promptly; it
// may block to apply backpressure (the adapter then stops reading from that
// peer) but must unblock when the link or the owner is closed. Link methods
// are safe for concurrent use.
package transport

import (
	"context"
	"errors"
	"fmt"
)

// Delivery is how a payload travels.
type Delivery uint8

const (
	// Reliable payloads arrive exactly once and in order on their channel.
	// It is the zero value, and so the default.
	Reliable Delivery = iota
	// Sequenced payloads may be lost but never arrive out of order or twice:
	// a late one is dropped. Adapters over a reliable stream (TCP) deliver
	// them reliably.
	Sequenced
	// Unsequenced payloads may be lost, duplicated or reordered.
	Unsequenced
)

// String returns "reliable", "sequenced" or "unsequenced".
func (d Delivery) String() string {
	switch d {
	case Reliable:
		return "reliable"
	case Sequenced:
		return "sequenced"
	case Unsequenced:
		return "unsequenced"
	}
	return fmt.Sprintf("delivery(%d)", uint8(d))
}

// Valid reports whether d is one of the three known modes.
func (d Delivery) Valid() bool { return d <= Unsequenced }

// Config is what the layer above tells an adapter about the links it wants.
// The zero value is usable: every field documents its default.
type Config struct {
	// Channels is how many channels (0 … Channels-1) payloads will use.
	// Adapters with real channels (ENet) negotiate this many; a payload on a
	// higher channel is an error at the sender, never a silent drop.
	// Default 1.
	Channels int
	// MaxPayload is the largest payload, in bytes, that may be sent or
	// received. A larger incoming payload closes the link with a
	// *FrameError before its bytes are buffered. Default DefaultMaxPayload.
	MaxPayload int
}

// DefaultMaxPayload is the default Config.MaxPayload: 1 MiB.
const DefaultMaxPayload = 1 << 20

// WithDefaults returns c with zero fields replaced by their defaults.
func (c Config) WithDefaults() Config {
	if c.Channels <= 0 {
		c.Channels = 1
	}
	if c.MaxPayload <= 0 {
		c.MaxPayload = DefaultMaxPayload
	}
	return c
}

// Sink receives what arrives on one link. The adapter calls Receive for
// every payload, in order per channel, and then Closed exactly once; no call
// follows Closed. Calls for one link never overlap.
type Sink interface {
	// Receive is given one payload. It is valid only during the call: a
	// Sink that keeps it must copy it.
	Receive(channel uint8, payload []byte)
	// Closed reports the end of the link: nil after a local Close, io.EOF
	// when the peer closed cleanly, or the error that broke the link.
	Closed(err error)
}

// TrySink is a Sink that can also take a payload without ever blocking.
// An adapter whose network goroutine must not block (ENet services every
// peer of a host on one goroutine) hands payloads straight to TryReceive,
// and falls back to a goroutine of its own that calls Receive only while
// TryReceive refuses (the Sink is full). Calls for one link, TryReceive and
// Receive together, never overlap and keep their order.
type TrySink interface {
	Sink
	// TryReceive takes payload as Receive does and reports true, or does
	// nothing and reports false when taking it would block.
	TryReceive(channel uint8, payload []byte) bool
}

// Farewell is implemented by Sinks that can tell the peer why the adapter
// ends its link: the adapter knows only framing, the layer above knows how
// to say why (net sends bye). When the adapter ends a link because of what
// the peer did (bytes that break the framing, a *FrameError; or a limit of
// the adapter's, with an error that names it), it calls Farewell on its own
// goroutine, before Closed and after the last Receive, then closes the link
// gracefully: what the Sink sends in Farewell is sent before the close.
// Nothing the peer sends after that is delivered. A Sink without it gets
// the same graceful close, with nothing said.
type Farewell interface {
	Sink
	// Farewell is given why the link ends, the error Closed will report.
	// It may Send one last payload on the link; it must not block.
	Farewell(err error)
}

// Poller is implemented by the links and listeners of an adapter that
// can do its network work on the caller's goroutine (ENet). net's Update
// polls each before it looks for what arrived and after its handlers ran,
// so that a game receives what reached the socket by its frame, even when
// the adapter's goroutine has not run yet, and sends what it queued from
// its own goroutine, as a C game loop does.
type Poller interface {
	// Poll sends what is queued and receives what has arrived, handing
	// it to the sinks on the caller's goroutine, unless the adapter's
	// goroutine is doing that work; it never blocks. Once a link or
	// listener was polled, the adapter may keep what Send queues for
	// the next Poll rather than wake its own goroutine, for a bounded
	// time that its documentation states.
	Poll()
}

// Lossy is implemented by links that deliver Sequenced and Unsequenced
// payloads as those modes allow, apart from the reliable ones: they may
// be lost, arrive late, or (Unsequenced) twice or out of order (ENet). A
// link without it carries every payload reliably and in order, as one
// stream does (TCP, WebSocket, mem). net relies on it to judge a sealed
// payload that fails its checks: dropped on a Lossy link, where the
// network may have delayed or repeated it; the end of the connection on
// any other, where only an attacker or corruption could have.
type Lossy interface {
	Link
	// Lossy is a marker; it does nothing.
	Lossy()
}

// QuietCloser is a link that can end without insisting: CloseQuiet is
// Close for a peer that has not shown that it receives at its address (a
// datagram's source can be forged), so that it is sent no more than it
// sent: what is queued goes out once and is not resent, and the link ends
// when the peer acknowledges it or a retransmit timeout passes without
// that (Sink.Closed then reports the timeout). net calls it when it
// refuses such a peer; a link without it is closed with Close.
type QuietCloser interface {
	Link
	CloseQuiet()
}

// Link is one connection to one peer.
type Link interface {
	// Send queues payload for the peer. It copies payload before returning
	// and never blocks on the network. It fails with ErrClosed once the
	// link is closing, ErrPayloadTooLarge above Config.MaxPayload and
	// ErrBadChannel for a channel outside Config.Channels.
	Send(channel uint8, d Delivery, payload []byte) error
	// Flush starts sending what is queued without waiting for a batch to
	// fill. Adapters flush on their own soon after every Send; Flush only
	// shortens that delay.
	Flush()
	// Close sends everything queued, then closes the link. It returns at
	// once; the Sink's Closed reports the end. Close is idempotent.
	Close()
	// Abort closes the link at once, dropping what is queued.
	Abort()
	// RemoteAddr is the peer's address, as "host:port".
	RemoteAddr() string
	// Stats returns counters of what really went out and came in.
	Stats() Stats
}

// Stats are a link's counters. Sent counters count only what the adapter
// handed to the operating system; received ones what it read from it.
type Stats struct {
	BytesSent, BytesReceived       uint64 // payload bytes plus adapter framing
	PayloadsSent, PayloadsReceived uint64
	// RTT is the smoothed round-trip time and RTTVariance its variance, in
	// nanoseconds, where the adapter measures them (ENet); zero elsewhere.
	RTT, RTTVariance int64
	// PacketLoss is the adapter's estimate of lost packets, 0 to 1, where
	// it measures it (ENet).
	PacketLoss float64
}

// Listener accepts links for a Transport.
type Listener interface {
	// Addr is the address the listener is bound to, as "host:port".
	Addr() string
	// Close stops accepting and closes every link accepted and not yet
	// closed. It waits for the adapter's goroutines and is idempotent.
	Close() error
}

// Accept is called by a Listener, on an adapter goroutine, for every new
// link. It returns the Sink for that link, or nil to refuse it (the adapter
// then closes the link at once).
type Accept func(l Link) Sink

// Transport is a network adapter.
type Transport interface {
	// Name identifies the adapter in logs and errors: "tcp", "enet", "mem".
	Name() string
	// Listen binds addr ("host:port"; port 0 picks a free one) and calls
	// accept for every peer that connects.
	Listen(addr string, cfg Config, accept Accept) (Listener, error)
	// Dial connects to addr and returns the link once it is open; sink
	// receives what arrives on it. ctx bounds the connect, not the link.
	Dial(ctx context.Context, addr string, cfg Config, sink Sink) (Link, error)
}

// Errors shared by every adapter.
var (
	ErrClosed          = errors.New("transport: link closed")
	ErrPayloadTooLarge = errors.New("transport: payload larger than Config.MaxPayload; raise the limit on both ends or split the message")
	ErrBadChannel      = errors.New("transport: channel out of range; raise Config.Channels")
	// ErrTooSlow is matched (errors.Is) by the error a link closes with
	// when the peer does not take what is sent to it fast enough (it does
	// not read): the adapter drops such a peer rather than hold its queue.
	// The adapter's own error names its limit; see TooSlow.
	ErrTooSlow = errors.New("transport: peer too slow: it did not read what was sent to it in time")
	// ErrQueueFull is matched (errors.Is) by the error every adapter's
	// Send returns when its link's send queue is full. Game code checks
	// for it, not for one adapter's error, so that swapping adapters
	// changes no code: back off (call Update, send less) and send again.
	ErrQueueFull = errors.New("transport: send queue full; call Update to let it drain, send less, or raise the adapter's queue limit")
)

// QueueFull returns an adapter's own send-queue-full error: it reads msg,
// which should name the adapter's limit, and matches ErrQueueFull with
// errors.Is.
func QueueFull(msg string) error { return queueFull(msg) }

type queueFull string

func (e queueFull) Error() string        { return string(e) }
func (e queueFull) Is(target error) bool { return target == ErrQueueFull }

// TooSlow returns an adapter's own too-slow error: it reads msg, which
// should name the adapter's limit, and matches ErrTooSlow with errors.Is.
func TooSlow(msg string) error { return tooSlow(msg) }

type tooSlow string

func (e tooSlow) Error() string        { return string(e) }
func (e tooSlow) Is(target error) bool { return target == ErrTooSlow }

// FrameError is the error a link closes with when the peer sent bytes that
// break the adapter's framing (an oversized length, a malformed prefix).
type FrameError struct {
	// Reason says what was wrong, for people: "a frame of 2000000 bytes,
	// the limit is 1048576".
	Reason string
	// TooLarge is set when the frame was refused for its size (announced
	// or grown past Config.MaxPayload) rather than for malformed bytes.
	TooLarge bool
}

func (e *FrameError) Error() string { return "transport: bad frame from peer: " + e.Reason }
