package tcp

import (
	"encoding/binary"
	"errors"
	"io"
	stdnet "net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gonetic/gonetic/net/transport"
)

// maxRetained is the largest send buffer the writer keeps for good. A bigger
// one, grown by a burst, is kept while batches still fill a quarter of it
// and goes back to the garbage collector after shrinkAfter batches that do
// not.
const maxRetained = 4 << 20

// link is one TCP connection. It runs two goroutines: the writer sends what
// Send queued, in batches; the reader parses frames, calls the Sink, and
// once the connection is over waits for the writer, closes the connection
// and calls Sink.Closed.
type link struct {
	conn     *stdnet.TCPConn
	cfg      transport.Config
	opts     Options
	overhead int  // the most bytes opts.Framing adds to a payload
	binary   bool // opts.Framing is Binary, which Send frames inline
	remote   string
	sink     transport.Sink // set by start, before the goroutines run
	onDone   func()         // set before start; called once, when the link is over

	wake       chan struct{} // one slot: there is work for the writer
	writerDone chan struct{} // closed when the writer returns
	stopped    atomic.Bool   // set with shut: the reader stops delivering

	mu       sync.Mutex  // guards the fields below
	pending  []byte      // frames queued for the writer
	npending int         // payloads in pending
	closing  bool        // Send is refused: the link is ending
	local    bool        // Close or Abort was called
	flushed  bool        // the writer sent everything and half-closed
	shut     bool        // we closed the connection; later I/O errors are ours
	err      error       // first reason the link ended; nil for a local close
	timer    *time.Timer // bounds a graceful close

	bytesSent, payloadsSent         atomic.Uint64
	bytesReceived, payloadsReceived atomic.Uint64
}

var _ transport.Link = (*link)(nil)

func newLink(c *stdnet.TCPConn, cfg transport.Config, opts Options, overhead int) *link {
	_ = c.SetNoDelay(true) // Go's default, made explicit: batching is ours
	remote := ""
	if a := c.RemoteAddr(); a != nil {
		remote = a.String()
	}
	return &link{
		conn:       c,
		cfg:        cfg,
		opts:       opts,
		overhead:   overhead,
		binary:     isBinary(opts.Framing),
		remote:     remote,
		wake:       make(chan struct{}, 1),
		writerDone: make(chan struct{}),
	}
}

func (l *link) start(sink transport.Sink) {
	l.sink = sink
	go l.writeLoop()
	go l.readLoop()
}

// refuse closes a link that never started.
func (l *link) refuse() {
	l.Abort()
	if l.onDone != nil {
		l.onDone()
	}
}

// Send queues one frame, framed by Options.Framing under l.mu. Safe for
// concurrent use.
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
	queued := len(l.pending)
	if queued > 0 && queued+l.overhead+len(payload) > l.opts.MaxQueued {
		l.mu.Unlock()
		return ErrQueueFull
	}
	if l.binary {
		l.pending = binary.BigEndian.AppendUint32(l.pending, uint32(len(payload)))
		l.pending = append(l.pending, payload...)
	} else {
		pending, err := l.opts.Framing.AppendFrame(l.pending, payload)
		if err != nil {
			l.mu.Unlock()
			return err
		}
		l.pending = pending
	}
	l.npending++
	l.mu.Unlock()
	if queued == 0 {
		l.signal() // a non-empty queue means the writer is already due
	}
	return nil
}

// Flush wakes the writer; it already wakes on every Send into an empty
// queue, so this is rarely needed. Safe for concurrent use.
func (l *link) Flush() { l.signal() }

// Close stops Send, lets the writer send what is queued and half-close,
// and lets the reader deliver until the peer's end of stream, all within
// Options.CloseTimeout. Safe for concurrent use; idempotent.
func (l *link) Close() {
	l.mu.Lock()
	if l.local {
		l.mu.Unlock()
		return
	}
	l.local = true
	l.closing = true
	if l.timer == nil && !l.shut {
		l.timer = time.AfterFunc(l.opts.CloseTimeout, l.timeout)
	}
	l.mu.Unlock()
	l.signal()
}

// Abort closes the connection now, dropping what is queued. Safe for
// concurrent use; idempotent.
func (l *link) Abort() {
	l.mu.Lock()
	l.local = true
	l.closing = true
	l.mu.Unlock()
	l.shutdown()
}

// RemoteAddr is the peer's "host:port".
func (l *link) RemoteAddr() string { return l.remote }

// Stats counts payloads and bytes, framing included: sent once the kernel
// took them, received as each frame is delivered.
func (l *link) Stats() transport.Stats {
	return transport.Stats{
		BytesSent:        l.bytesSent.Load(),
		BytesReceived:    l.bytesReceived.Load(),
		PayloadsSent:     l.payloadsSent.Load(),
		PayloadsReceived: l.payloadsReceived.Load(),
	}
}

func (l *link) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// setErr keeps the first reason the link ended. l.mu must be held.
func (l *link) setErr(err error) {
	if l.err == nil {
		l.err = err
	}
}

// shutdown closes the connection now and drops what is queued.
func (l *link) shutdown() {
	l.mu.Lock()
	if l.shut {
		l.mu.Unlock()
		return
	}
	l.shut = true
	l.closing = true
	l.pending, l.npending = nil, 0
	l.mu.Unlock()
	l.stopped.Store(true)
	_ = l.conn.Close()
	l.signal()
}

// timeout ends a graceful close that took too long.
func (l *link) timeout() {
	l.mu.Lock()
	if !l.flushed && !l.shut {
		l.setErr(ErrCloseTimeout)
	}
	l.mu.Unlock()
	l.shutdown()
}

// writeLoop sends the queue in batches: it swaps the queue with its spare
// buffer and writes the batch with one call, so steady state allocates
// nothing.
func (l *link) writeLoop() {
	defer close(l.writerDone)
	var spare []byte
	underused := 0 // batches in a row that used little of a big buffer
	for {
		l.mu.Lock()
		for len(l.pending) == 0 && !l.closing {
			l.mu.Unlock()
			<-l.wake
			l.mu.Lock()
		}
		if l.shut {
			l.mu.Unlock()
			return
		}
		if len(l.pending) == 0 { // closing, and everything is sent
			l.mu.Unlock()
			break
		}
		batch, n := l.pending, l.npending
		l.pending, l.npending = spare[:0], 0
		l.mu.Unlock()

		if _, err := l.conn.Write(batch); err != nil {
			l.mu.Lock()
			if !l.shut {
				l.setErr(err)
			}
			l.mu.Unlock()
			l.shutdown()
			return
		}
		l.bytesSent.Add(uint64(len(batch)))
		l.payloadsSent.Add(uint64(n))
		if cap(batch) > maxRetained && len(batch) < cap(batch)/4 {
			if underused++; underused >= shrinkAfter {
				underused, batch = 0, nil
			}
		} else {
			underused = 0
		}
		spare = batch
	}
	err := l.conn.CloseWrite()
	l.mu.Lock()
	if err == nil {
		l.flushed = true
	} else if !l.shut {
		l.setErr(err)
	}
	l.mu.Unlock()
}

// errStopped ends the read loop once the connection is shut.
var errStopped = errors.New("tcp: link shut")

// readLoop delivers frames until the connection ends, then finishes the
// link: it is the only caller of Sink.Closed.
func (l *link) readLoop() {
	err := l.readFrames()
	badFrame, linger := l.badFrame(err)
	l.mu.Lock()
	if !l.shut {
		switch {
		case badFrame:
			// badFrame has set the reason.
		case err == io.EOF:
			if !l.local {
				l.setErr(io.EOF)
			}
		case l.local && l.flushed:
			// The peer reset after taking everything: still a clean close.
		default:
			l.setErr(err)
		}
	}
	// After the peer's end of stream, or a bad frame the OnBadFrame hook
	// answered with Close, send what is queued, then close; after anything
	// else, close now.
	graceful := (err == io.EOF || linger) && !l.shut
	l.closing = true
	if graceful && l.timer == nil {
		l.timer = time.AfterFunc(l.opts.CloseTimeout, l.timeout)
	}
	l.mu.Unlock()
	if graceful {
		l.signal()
	} else {
		l.shutdown()
	}
	<-l.writerDone
	l.shutdown()

	l.mu.Lock()
	if l.timer != nil {
		l.timer.Stop()
	}
	err = l.err
	l.mu.Unlock()
	l.sink.Closed(err)
	if l.onDone != nil {
		l.onDone()
	}
}

// badFrame handles a read loop that ended with a *transport.FrameError: it
// runs Options.OnBadFrame, records the reason the link closes with and, if
// the hook closed the link gracefully, discards what the peer still sends
// until its end of stream or the close timer. linger reports that case.
func (l *link) badFrame(err error) (bad, linger bool) {
	fe, bad := err.(*transport.FrameError)
	if !bad || l.stopped.Load() {
		return bad, false
	}
	var reason error = fe
	if l.opts.OnBadFrame != nil {
		if r := l.opts.OnBadFrame(l, fe); r != nil {
			reason = r
		}
	}
	l.mu.Lock()
	if !l.shut {
		l.setErr(reason)
	}
	linger = l.local && !l.shut
	l.mu.Unlock()
	if linger {
		l.signal()
		// Reading on keeps the kernel from answering the peer's data with a
		// reset, which could destroy the last payloads before it reads them.
		buf := make([]byte, 4<<10)
		for {
			if _, err := l.conn.Read(buf); err != nil {
				break
			}
		}
	}
	return bad, linger
}

// readFrames reads the connection in large chunks and hands every complete
// frame to the Sink as a slice of the read buffer. It returns io.EOF at a
// clean end of stream.
func (l *link) readFrames() error {
	f := newFrameReader(l.opts.Framing, readBufferSize, l.cfg.MaxPayload, l.overhead)
	var rerr error
	for {
		for {
			p, size, err := f.next()
			if err != nil {
				return err
			}
			if size == 0 {
				break
			}
			if l.stopped.Load() {
				return errStopped
			}
			l.bytesReceived.Add(uint64(size))
			l.payloadsReceived.Add(1)
			l.sink.Receive(0, p)
		}
		if rerr != nil {
			if rerr == io.EOF && f.buffered() > 0 {
				return io.ErrUnexpectedEOF
			}
			return rerr
		}
		var n int
		n, rerr = l.conn.Read(f.space())
		f.fill(n)
	}
}
