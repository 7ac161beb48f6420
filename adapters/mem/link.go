package mem

import (
	"encoding/binary"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/gonetic/gonetic/adapters/internal/linkstats"
	"github.com/gonetic/gonetic/adapters/internal/wakeup"
	"github.com/gonetic/gonetic/net/transport"
)

// frameHeader is a queued frame's channel byte and 4-byte length.
const frameHeader = 5

// maxRetained is the largest batch buffer a link keeps for reuse.
const maxRetained = 4 << 20

// pipe is one direction of a link: the sender appends frames, the
// receiver's delivery goroutine takes them in batches.
type pipe struct {
	wake wakeup.Chan // frames, end of stream or reset

	mu       sync.Mutex // guards the fields below
	buf      []byte     // queued frames: channel, length, payload
	eof      bool       // the sender closed: deliver buf, then end
	reset    bool       // drop buf and end now
	resetErr error      // what the receiver reports after a reset
}

func newPipe() *pipe { return &pipe{wake: wakeup.New()} }

func (p *pipe) push(ch uint8, b []byte) error {
	p.mu.Lock()
	if p.eof || p.reset {
		p.mu.Unlock()
		return transport.ErrClosed
	}
	wake := len(p.buf) == 0
	p.buf = append(p.buf, ch)
	p.buf = binary.BigEndian.AppendUint32(p.buf, uint32(len(b)))
	p.buf = append(p.buf, b...)
	p.mu.Unlock()
	if wake {
		p.wake.Signal()
	}
	return nil
}

// close ends the stream after what is queued.
func (p *pipe) close() {
	p.mu.Lock()
	p.eof = true
	p.mu.Unlock()
	p.wake.Signal()
}

// drop ends the stream now; the receiver reports err.
func (p *pipe) drop(err error) {
	p.mu.Lock()
	if !p.reset {
		p.reset, p.resetErr, p.buf = true, err, nil
	}
	p.mu.Unlock()
	p.wake.Signal()
}

// link is one end of an in-memory connection. Its delivery goroutine reads
// in and calls the Sink; the peer's reads out.
type link struct {
	cfg    transport.Config
	remote string
	in     *pipe
	out    *pipe
	peer   *link
	sink   transport.Sink // set by start, before the goroutine runs
	onDone func()         // set before start; called once when the link is over

	local   atomic.Bool // Close or Abort was called
	aborted atomic.Bool // stop delivering

	stats linkstats.Counters // the peer's goroutine counts what is sent
}

var _ transport.Link = (*link)(nil)

func newPair(dialCfg, listenCfg transport.Config, dialAddr, listenAddr string) (dialer, accepted *link) {
	ab, ba := newPipe(), newPipe()
	dialer = &link{cfg: dialCfg, remote: listenAddr, in: ba, out: ab}
	accepted = &link{cfg: listenCfg, remote: dialAddr, in: ab, out: ba}
	dialer.peer, accepted.peer = accepted, dialer
	return dialer, accepted
}

func (l *link) start(sink transport.Sink) {
	l.sink = sink
	go l.run()
}

// refuse ends a link that never started: the peer sees io.EOF.
func (l *link) refuse() {
	l.local.Store(true)
	l.in.drop(nil)
	l.out.close()
	if l.onDone != nil {
		l.onDone()
	}
}

// Send copies payload into the queue to the peer. Safe for concurrent use.
func (l *link) Send(channel uint8, _ transport.Delivery, payload []byte) error {
	if int(channel) >= l.cfg.Channels {
		return transport.ErrBadChannel
	}
	if len(payload) > l.cfg.MaxPayload {
		return transport.ErrPayloadTooLarge
	}
	return l.out.push(channel, payload)
}

// Flush does nothing: delivery starts at once.
func (l *link) Flush() {}

// Close ends the stream to the peer after what is queued; the link is over
// when the peer has closed its side too. Safe for concurrent use; idempotent.
func (l *link) Close() {
	l.local.Store(true)
	l.out.close()
}

// Abort drops both directions now; the peer's Sink gets ErrReset. Safe for
// concurrent use; idempotent.
func (l *link) Abort() {
	l.local.Store(true)
	l.aborted.Store(true)
	l.out.drop(ErrReset)
	l.in.drop(nil)
}

// RemoteAddr is the peer's address on the Network.
func (l *link) RemoteAddr() string { return l.remote }

// Stats counts payload bytes (no framing): sent and received as the
// delivery goroutine hands each payload to the receiving Sink.
func (l *link) Stats() transport.Stats {
	return l.stats.Stats()
}

// run delivers until the link is over, then calls Sink.Closed.
func (l *link) run() {
	err := l.deliver()
	switch err.(type) {
	case *transport.FrameError:
		l.aborted.Store(true)
		l.out.drop(ErrReset)
		l.in.drop(nil)
	default:
		switch {
		case l.local.Load():
			err = nil
		case err == io.EOF:
			l.out.close() // as TCP: send what is queued, then end
		default:
			l.out.drop(nil)
		}
	}
	l.sink.Closed(err)
	if l.onDone != nil {
		l.onDone()
	}
}

// deliver hands every frame of in to the Sink. It returns io.EOF at the end
// of the peer's stream, the reset error, or a *transport.FrameError.
func (l *link) deliver() error {
	var batch []byte
	p := l.in
	for {
		p.mu.Lock()
		for len(p.buf) == 0 && !p.eof && !p.reset {
			p.mu.Unlock()
			<-p.wake
			p.mu.Lock()
		}
		if p.reset {
			err := p.resetErr
			p.mu.Unlock()
			return err
		}
		if len(p.buf) == 0 {
			p.mu.Unlock()
			return io.EOF
		}
		batch, p.buf = p.buf, batch[:0]
		p.mu.Unlock()

		for b := batch; len(b) > 0; {
			ch := b[0]
			n := int(binary.BigEndian.Uint32(b[1:]))
			payload := b[frameHeader : frameHeader+n : frameHeader+n]
			b = b[frameHeader+n:]
			if l.aborted.Load() {
				return nil
			}
			if n > l.cfg.MaxPayload {
				return &transport.FrameError{
					Reason: fmt.Sprintf("frame of %d bytes exceeds the %d-byte limit", n, l.cfg.MaxPayload),
				}
			}
			l.peer.stats.BytesSent.Add(uint64(n))
			l.peer.stats.PayloadsSent.Add(1)
			l.stats.BytesReceived.Add(uint64(n))
			l.stats.PayloadsReceived.Add(1)
			l.sink.Receive(ch, payload)
		}
		if cap(batch) > maxRetained {
			batch = nil
		}
	}
}
