package nats

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gonetic/gonetic/adapters/internal/linkstats"
	"github.com/gonetic/gonetic/net/transport"
	natsgo "github.com/nats-io/nats.go"
)

// maxRetained is the largest frame or reassembly buffer a link keeps.
const maxRetained = 1 << 20

// link is one end of a link: frames go out on its out subject, in
// sequence, published straight from Send; frames come in on its in
// subject through one async nats.go subscription, whose goroutine is the
// only one that calls the Sink, Closed included (from the subscription's
// closed handler, after its last callback).
type link struct {
	t      *Transport
	nc     *natsgo.Conn
	cfg    transport.Config
	in     string // the subject this end subscribes to
	out    string // the subject the peer subscribes to
	remote string
	sink   transport.Sink       // set before ready is closed
	sub    *natsgo.Subscription // set by subscribe, before any callback can use it
	ready  chan struct{}        // closed once Dial or the Accept decided; the Sink waits for it
	silent atomic.Bool          // the link never opened: its Sink is never called
	dialed chan error           // dialer only: the listener's answer
	onDone func()               // set before subscribe; called once when the link is over
	done   chan struct{}        // closed after Sink.Closed returned
	finish sync.Once

	stopped atomic.Bool // the link ended: frames still queued are dropped

	// Receive state, used only on the subscription goroutine.
	answered bool   // dialer: the handshake frame came
	last     uint64 // the last sequence number received
	part     []byte // a payload being reassembled from frag frames
	partCh   byte
	inPart   bool

	mu      sync.Mutex // guards the fields below
	seq     uint64     // the sequence number of the next frame sent
	buf     []byte     // the frame being published
	closing bool       // Send is refused
	ended   bool       // the link is over; err and local are final
	err     error      // why the link ended, unless local
	local   bool       // Close or Abort (or the adapter on the Sink's behalf) ended it
	busy    bool       // a frame went out since the last tick
	heard   uint64     // BytesReceived at the last tick that saw it grow
	quiet   time.Time  // when heard last changed
	tick    *time.Timer

	stats linkstats.Counters
}

var _ transport.Link = (*link)(nil)

func newLink(t *Transport, cfg transport.Config, in, out, remote string) *link {
	return &link{
		t: t, nc: t.opts.Conn, cfg: cfg, in: in, out: out, remote: remote,
		ready: make(chan struct{}), done: make(chan struct{}), seq: 1,
	}
}

// subscribe starts the subscription on l.in. The closed handler, which
// nats.go calls on the subscription's goroutine once it has delivered its
// last message (after Unsubscribe, or when the connection closes), ends
// the link.
func (l *link) subscribe() error {
	sub, err := l.nc.Subscribe(l.in, l.onMsg)
	if err != nil {
		return err
	}
	l.sub = sub
	sub.SetClosedHandler(func(string) { l.finish.Do(l.over) })
	if err := sub.SetPendingLimits(-1, l.t.opts.PendingBytes); err != nil {
		_ = sub.Unsubscribe()
		return err
	}
	if !sub.IsValid() {
		// Closed before the handler was set: it may never run.
		l.silent.Store(true)
		close(l.ready)
		return ErrConnClosed
	}
	return nil
}

// open lets the Sink be called and starts the idle ticks.
func (l *link) open() {
	l.mu.Lock()
	l.quiet = time.Now()
	if !l.ended {
		l.tick = time.AfterFunc(l.t.opts.TickInterval, l.onTick)
	}
	l.mu.Unlock()
	close(l.ready)
}

// abandon ends a dial that failed; tell says the listener may have made
// its end, which a close frame then ends.
func (l *link) abandon(tell bool) {
	l.silent.Store(true)
	if tell {
		l.end(nil, true, codeAborted, "the dialer gave up waiting for the answer")
	} else {
		l.end(nil, true, noClose, "")
	}
	close(l.ready)
}

// Send publishes payload as one data frame, or as frag frames and a last
// data frame when it does not fit the server's max_payload. nats.go copies
// each frame into its buffer before Publish returns. Safe for concurrent
// use: the lock keeps sequence numbers in publish order.
func (l *link) Send(channel uint8, _ transport.Delivery, payload []byte) error {
	if int(channel) >= l.cfg.Channels {
		return transport.ErrBadChannel
	}
	if len(payload) > l.cfg.MaxPayload {
		return transport.ErrPayloadTooLarge
	}
	l.mu.Lock()
	if l.closing {
		l.mu.Unlock()
		return transport.ErrClosed
	}
	chunk := int(l.nc.MaxPayload()) - maxHeader
	if chunk < 1 { // not connected yet: nats.go does not know the limit
		chunk = 64<<10 - maxHeader
	}
	for first := true; ; first = false {
		n := min(len(payload), chunk)
		kind := byte(kindData)
		if n < len(payload) {
			kind = kindFrag
		}
		l.buf = append(appendHeader(l.buf[:0], kind, l.seq), channel)
		l.buf = append(l.buf, payload[:n]...)
		if err := l.nc.Publish(l.out, l.buf); err != nil {
			return l.publishFailed(err, first)
		}
		l.seq++
		l.stats.BytesSent.Add(uint64(len(l.buf)))
		payload = payload[n:]
		if kind == kindData {
			break
		}
	}
	l.busy = true
	if cap(l.buf) > maxRetained {
		l.buf = nil
	}
	l.mu.Unlock()
	l.stats.PayloadsSent.Add(1)
	return nil
}

// publishFailed handles a failed Publish with l.mu held, and releases it.
// A whole payload refused while nats.go's reconnect buffer is full can be
// sent again; anything else has left a hole in the sequence.
func (l *link) publishFailed(err error, first bool) error {
	if first && errors.Is(err, natsgo.ErrReconnectBufExceeded) {
		l.mu.Unlock()
		return transport.QueueFull("nats: send queue full: NATS is reconnecting and nats.go's reconnect buffer (nats.ReconnectBufSize) is full; send again later or raise it")
	}
	err = fmt.Errorf("nats: publish on %s failed, the link is broken: %w", l.out, err)
	unsub := l.endLocked(err, false, noClose, "")
	l.mu.Unlock()
	if unsub {
		_ = l.sub.Unsubscribe()
	}
	return fmt.Errorf("%w: %v", transport.ErrClosed, err)
}

// Flush does nothing: nats.go's flusher writes soon after every Publish.
func (l *link) Flush() {}

// Close publishes a close frame behind what Send published and stops
// receiving; the peer's Sink gets io.EOF. Safe for concurrent use;
// idempotent.
func (l *link) Close() { l.end(nil, true, codeNormal, "") }

// Abort publishes a close frame saying so, without waiting, and stops
// receiving; the peer's Sink gets a *CloseError. Frames already handed to
// nats.go still go out. Safe for concurrent use; idempotent.
func (l *link) Abort() { l.end(nil, true, codeAborted, "aborted") }

// RemoteAddr is the listener's "<name>/<svc>" on a dialed link and
// "<dialer id>/<link id>" on an accepted one.
func (l *link) RemoteAddr() string { return l.remote }

// Stats counts payloads, and bytes of whole frames (ticks and close
// included): sent once handed to nats.go, received as they are read.
func (l *link) Stats() transport.Stats { return l.stats.Stats() }

// end ends the link once: err is what the Sink gets (nil for a local
// end); with a close code below 255 it first publishes a close frame.
func (l *link) end(err error, local bool, code byte, reason string) {
	l.mu.Lock()
	unsub := l.endLocked(err, local, code, reason)
	l.mu.Unlock()
	if unsub {
		_ = l.sub.Unsubscribe() // the closed handler then finishes the link
	}
}

// noClose is the code for ending without a close frame.
const noClose = 255

// endLocked is end with l.mu held; it reports whether the caller must
// unsubscribe.
func (l *link) endLocked(err error, local bool, code byte, reason string) bool {
	if l.ended {
		return false
	}
	l.ended, l.closing, l.err, l.local = true, true, err, local
	l.stopped.Store(true)
	if l.tick != nil {
		l.tick.Stop()
	}
	if code != noClose {
		reason = cutReason(reason)
		b := append(appendHeader(l.buf[:0], kindClose, l.seq), code)
		b = append(b, reason...)
		if l.nc.Publish(l.out, b) == nil {
			l.seq++
			l.stats.BytesSent.Add(uint64(len(b)))
		}
		l.buf = b[:0]
	}
	return true
}

// over runs once, on the subscription's goroutine, after its last
// callback: it reports the end to the Sink.
func (l *link) over() {
	l.mu.Lock()
	if !l.ended {
		l.ended, l.closing, l.err = true, true, ErrConnClosed
		l.stopped.Store(true)
		if l.tick != nil {
			l.tick.Stop()
		}
	}
	err := l.err
	if l.local {
		err = nil
	}
	l.mu.Unlock()
	if l.dialed != nil {
		select {
		case l.dialed <- ErrConnClosed: // Dial still waits
		default:
		}
	}
	<-l.ready
	if !l.silent.Load() {
		l.sink.Closed(err)
	}
	close(l.done)
	if l.onDone != nil {
		l.onDone()
	}
}

// onTick sends a tick when nothing went out for a TickInterval, so that
// the peer finds a lost last frame, and ends the link when the peer sent
// nothing for PeerTimeout.
func (l *link) onTick() {
	l.mu.Lock()
	if l.ended {
		l.mu.Unlock()
		return
	}
	// Received bytes show the peer is there, at no cost per frame.
	if b := l.stats.BytesReceived.Load(); b != l.heard {
		l.heard, l.quiet = b, time.Now()
	} else if time.Since(l.quiet) > l.t.opts.PeerTimeout {
		// A Sink that blocks leaves frames pending: the peer is there.
		if n, _, err := l.sub.Pending(); err == nil && n == 0 {
			l.endLocked(ErrPeerGone, false, codeError, ErrPeerGone.Error())
			l.mu.Unlock()
			_ = l.sub.Unsubscribe()
			return
		}
	}
	if !l.busy {
		l.buf = appendHeader(l.buf[:0], kindTick, l.seq)
		if l.nc.Publish(l.out, l.buf) == nil {
			l.seq++
			l.stats.BytesSent.Add(uint64(len(l.buf)))
		}
	}
	l.busy = false
	l.tick.Reset(l.t.opts.TickInterval)
	l.mu.Unlock()
}

// noResponders is the status NATS answers a request with when nobody
// subscribes to its subject.
const noResponders = "503"

// onMsg is the subscription's callback: it checks each frame's sequence
// number and hands payloads to the Sink.
func (l *link) onMsg(m *natsgo.Msg) {
	if l.dialed != nil && !l.answered {
		l.handshake(m)
		return
	}
	<-l.ready
	if l.silent.Load() || l.stopped.Load() {
		return
	}
	l.stats.BytesReceived.Add(uint64(len(m.Data)))
	f, err := parseFrame(m.Data)
	if err != nil {
		l.broken(&transport.FrameError{Reason: err.Error()})
		return
	}
	if f.seq != l.last+1 {
		dropped, _ := l.sub.Dropped()
		gap := &GapError{Want: l.last + 1, Got: f.seq, Dropped: dropped}
		l.end(gap, false, codeError, gap.Error())
		return
	}
	l.last = f.seq
	switch f.kind {
	case kindData, kindFrag:
		l.data(f)
	case kindClose:
		l.end(peerError(f.body[0], string(f.body[1:])), false, noClose, "")
	case kindTick:
	default: // an accept past the handshake
		l.broken(&transport.FrameError{Reason: fmt.Sprintf("a frame of kind %d in the middle of a link", f.kind)})
	}
}

// handshake reads the dialer's first message: the listener's accept or
// refusal, or NATS's "no responders".
func (l *link) handshake(m *natsgo.Msg) {
	l.answered = true
	if len(m.Data) == 0 && m.Header.Get("Status") == noResponders {
		l.dialed <- noListener(l.remote)
		return
	}
	f, err := parseFrame(m.Data)
	switch {
	case err != nil:
		l.dialed <- fmt.Errorf("the answer is not gonetic's: %v", err)
	case f.seq != 1:
		l.dialed <- fmt.Errorf("the answer has sequence number %d, want 1", f.seq)
	case f.kind == kindAccept:
		l.last = 1
		l.stats.BytesReceived.Add(uint64(len(m.Data)))
		l.dialed <- nil
	case f.kind == kindClose:
		l.dialed <- peerError(f.body[0], string(f.body[1:]))
	default:
		l.dialed <- fmt.Errorf("the answer is a frame of kind %d, want accept", f.kind)
	}
}

// data delivers a data frame's payload, or gathers a frag frame's part.
func (l *link) data(f frame) {
	ch, p := f.body[0], f.body[1:]
	if int(ch) >= l.cfg.Channels {
		l.broken(&transport.FrameError{Reason: fmt.Sprintf("a payload on channel %d; the link's channels are 0 to %d", ch, l.cfg.Channels-1)})
		return
	}
	if l.inPart && ch != l.partCh {
		l.broken(&transport.FrameError{Reason: fmt.Sprintf("a payload's part on channel %d, its start on %d", ch, l.partCh)})
		return
	}
	size := len(p)
	if l.inPart {
		size += len(l.part)
	}
	if size > l.cfg.MaxPayload {
		l.broken(&transport.FrameError{
			Reason:   fmt.Sprintf("a payload of more than %d bytes, the limit is MaxPayload %d", l.cfg.MaxPayload, l.cfg.MaxPayload),
			TooLarge: true,
		})
		return
	}
	if f.kind == kindFrag {
		if !l.inPart {
			l.inPart, l.partCh, l.part = true, ch, l.part[:0]
		}
		l.part = append(l.part, p...)
		return
	}
	if l.inPart {
		l.part = append(l.part, p...)
		p, l.inPart = l.part, false
	}
	l.stats.PayloadsReceived.Add(1)
	l.sink.Receive(ch, p)
	if cap(l.part) > maxRetained {
		l.part = nil
	}
}

// broken ends the link after a frame that breaks the framing: the Sink
// may say why first (transport.Farewell), then the close frame goes.
func (l *link) broken(fe *transport.FrameError) {
	if fw, ok := l.sink.(transport.Farewell); ok {
		fw.Farewell(fe)
	}
	code := byte(codeError)
	if fe.TooLarge {
		code = codeTooLarge
	}
	l.end(fe, false, code, fe.Reason)
}

// peerError is what a close frame from the peer means to the Sink.
func peerError(code byte, reason string) error {
	switch code {
	case codeNormal:
		return io.EOF
	case codeTooLarge:
		return &transport.FrameError{Reason: "the peer refused a payload as too big: " + reason, TooLarge: true}
	case codeRefused:
		return &CloseError{Reason: "refused: " + reason}
	}
	return &CloseError{Reason: reason}
}
