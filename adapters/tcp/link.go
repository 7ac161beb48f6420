package tcp

import (
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	stdnet "net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gonetic/gonetic/adapters/internal/linkstats"
	"github.com/gonetic/gonetic/adapters/internal/wakeup"
	"github.com/gonetic/gonetic/net/transport"
)

// maxRetained is the largest send buffer a link keeps for good. A bigger
// one, grown by a burst, is kept while batches still fill a quarter of it
// and goes back to the garbage collector after shrinkAfter batches that do
// not.
const maxRetained = 4 << 20

// link is one TCP connection. Send only queues: a link of a listener
// hands its queue to the listener's flusher, which writes it without
// blocking; a dialed link, a TLS link, or what has to wait for room in the
// kernel's buffer, goes to the link's writer goroutine. The reader parses frames,
// calls the Sink, and once the connection is over waits for the writer,
// closes the connection and calls Sink.Closed.
type link struct {
	conn     *stdnet.TCPConn // the socket: closed and half-closed here
	rw       stdnet.Conn     // what reads and writes: conn, or tls over it
	tls      *tls.Conn       // nil without Options.TLS
	raw      syscall.RawConn // conn's descriptor, for the flusher's non-blocking write
	cfg      transport.Config
	opts     Options
	overhead int  // the most bytes opts.Framing adds to a payload
	binary   bool // opts.Framing is Binary, which Send frames inline
	remote   string
	sink     transport.Sink // set by start, before the goroutines run
	onDone   func()         // set before start; called once, when the link is over
	queued   *budget        // the listener's Options.MaxQueuedTotal; nil for Dial
	receive  *budget        // the listener's Options.MaxReceiving; nil for Dial
	flusher  *flusher       // the listener's; nil for Dial and with TLS

	wake       wakeup.Chan   // the writer has something to do
	writerDone chan struct{} // closed when the writer returns
	stopped    atomic.Bool   // set with shut: the reader stops delivering

	mu        sync.Mutex  // guards the fields below
	pending   []byte      // frames queued behind the write in progress
	npending  int         // payloads in pending
	spare     []byte      // the other buffer; nil while a batch is being written
	rest      []byte      // a batch the flusher could not finish, for the writer
	restOff   int         // where in rest the kernel stopped taking it
	restN     int         // payloads in rest
	underused int         // batches in a row that used little of a big buffer
	writer    writeOwner  // who writes now; only they touch the connection's send side
	closing   bool        // Send is refused: the link is ending
	local     bool        // Close or Abort was called
	flushed   bool        // the writer sent everything and half-closed
	shut      bool        // we closed the connection; later I/O errors are ours
	err       error       // first reason the link ended; nil for a local close
	timer     *time.Timer // bounds a graceful close
	// fullSince is when Send first found the queue full since a write
	// last took it; zero while the queue takes payloads.
	fullSince time.Time

	stats linkstats.Counters
}

// writeOwner says who may write to the connection: one goroutine at a time,
// so that frames go out whole and in order. While someone owns the write,
// Sends only queue; pending is empty whenever nobody does.
type writeOwner uint8

const (
	nobody    writeOwner = iota
	aFlusher             // the link is due at the flusher, or it writes the link's batch
	theWriter            // the writer goroutine writes until the queue is empty
)

var _ transport.Link = (*link)(nil)

// newLink makes a link of c; sc, when not nil, is the TLS connection over
// c that carries the payloads.
func newLink(c *stdnet.TCPConn, sc *tls.Conn, cfg transport.Config, opts Options, overhead int, queued, receive *budget, f *flusher) *link {
	_ = c.SetNoDelay(true) // Go's default, made explicit: batching is ours
	remote := ""
	if a := c.RemoteAddr(); a != nil {
		remote = a.String()
	}
	raw, _ := c.SyscallConn() // fails only for a nil connection
	var rw stdnet.Conn = c
	if sc != nil {
		rw = sc
	}
	return &link{
		conn:       c,
		rw:         rw,
		tls:        sc,
		raw:        raw,
		cfg:        cfg,
		opts:       opts,
		overhead:   overhead,
		binary:     isBinary(opts.Framing),
		remote:     remote,
		queued:     queued,
		receive:    receive,
		flusher:    f,
		wake:       wakeup.New(),
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

// Send frames the payload by Options.Framing into the queue, under l.mu,
// and when nobody is writing hands the queue to the flusher, or for a
// dialed link to the writer. Safe for concurrent use.
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
		now := time.Now()
		if l.fullSince.IsZero() {
			l.fullSince = now
		} else if now.Sub(l.fullSince) >= l.opts.WriteTimeout {
			// The peer reads, but too little to ever empty the queue.
			l.setErr(ErrTooSlow)
			l.mu.Unlock()
			l.shutdown()
			return ErrQueueFull
		}
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
	if added := len(l.pending) - queued; queued == 0 {
		l.queued.force(added)
	} else if !l.queued.take(added) {
		l.pending = l.pending[:queued]
		l.mu.Unlock()
		return ErrQueueFull
	}
	l.npending++
	switch {
	case l.writer != nobody:
		l.mu.Unlock() // whoever writes sends this too
	case l.flusher != nil:
		l.writer = aFlusher
		l.mu.Unlock()
		l.flusher.add(l)
	default:
		l.writer = theWriter
		l.mu.Unlock()
		l.wake.Signal()
	}
	return nil
}

// flush is the flusher's write: it hands the queue to the kernel without
// blocking, and leaves to the writer goroutine what has to wait. The
// flusher owns the write (l.writer is aFlusher).
func (l *link) flush() {
	l.mu.Lock()
	if l.shut {
		l.mu.Unlock()
		return
	}
	batch, n := l.takeBatch()
	l.mu.Unlock()
	written, err := writeNonblocking(l.raw, batch)
	if err != nil {
		err = &stdnet.OpError{Op: "write", Net: "tcp", Source: l.conn.LocalAddr(), Addr: l.conn.RemoteAddr(), Err: err}
	}
	l.queued.give(written)
	l.stats.BytesSent.Add(uint64(written))
	l.mu.Lock()
	switch {
	case err != nil || l.shut:
		l.queued.give(len(batch) - written)
		if err != nil && !l.shut {
			l.setErr(err)
		}
		l.writer = theWriter // it finds the link shut and returns
		l.mu.Unlock()
		l.shutdown()
		return
	case written == len(batch):
		l.stats.PayloadsSent.Add(uint64(n))
		l.recycle(batch)
	default:
		// The kernel's buffer is full: the writer waits for room, and
		// finishes the batch before it takes the queue.
		l.rest, l.restOff, l.restN = batch, written, n
	}
	if l.rest == nil && len(l.pending) == 0 && !l.closing {
		l.writer = nobody
		l.mu.Unlock()
		return
	}
	l.writer = theWriter
	l.mu.Unlock()
	l.wake.Signal()
}

// takeBatch takes the queue for a write and gives the queue the spare
// buffer. l.mu must be held, by the goroutine that owns the write.
func (l *link) takeBatch() ([]byte, int) {
	batch, n := l.pending, l.npending
	l.pending, l.npending, l.spare = l.spare[:0], 0, nil
	l.fullSince = time.Time{}
	return batch, n
}

// recycle keeps batch, written, as the spare buffer, unless a burst grew it
// and batches have not filled a quarter of it for shrinkAfter writes. l.mu
// must be held.
func (l *link) recycle(batch []byte) {
	if cap(batch) > maxRetained && len(batch) < cap(batch)/4 {
		if l.underused++; l.underused >= shrinkAfter {
			l.underused, batch = 0, nil
		}
	} else {
		l.underused = 0
	}
	l.spare = batch[:0]
}

// Flush does nothing: every Send into an empty queue starts the write.
// Safe for concurrent use.
func (l *link) Flush() {}

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
	l.wake.Signal()
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
	return l.stats.Stats()
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
	l.queued.give(len(l.pending) + len(l.rest) - l.restOff)
	l.pending, l.npending = nil, 0
	l.rest, l.restOff, l.restN = nil, 0, 0
	l.mu.Unlock()
	l.stopped.Store(true)
	_ = l.conn.Close()
	l.wake.Signal()
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

// writeLoop sends, with blocking writes, what Send or the flusher handed
// over (l.writer is theWriter) until the queue is empty, and on a graceful
// close what is queued before it half-closes. It swaps the queue with the spare buffer,
// so steady state allocates nothing.
func (l *link) writeLoop() {
	defer close(l.writerDone)
	for {
		l.mu.Lock()
		for !l.shut && l.writer != theWriter && (l.writer != nobody || !l.closing) {
			l.mu.Unlock()
			<-l.wake
			l.mu.Lock()
		}
		if l.shut {
			l.mu.Unlock()
			return
		}
		batch, off, n := l.rest, l.restOff, l.restN
		l.rest, l.restOff, l.restN = nil, 0, 0
		if batch == nil && len(l.pending) == 0 {
			if l.closing { // everything is sent
				l.writer = theWriter
				l.mu.Unlock()
				break
			}
			l.writer = nobody
			l.mu.Unlock()
			continue
		}
		l.writer = theWriter
		if batch == nil {
			batch, n = l.takeBatch()
		}
		l.mu.Unlock()

		err := l.write(batch[off:])
		l.queued.give(len(batch) - off)
		if err != nil {
			l.mu.Lock()
			if !l.shut {
				l.setErr(err)
			}
			l.mu.Unlock()
			l.shutdown()
			return
		}
		l.stats.BytesSent.Add(uint64(len(batch) - off))
		l.stats.PayloadsSent.Add(uint64(n))
		l.mu.Lock()
		l.recycle(batch)
		l.mu.Unlock()
	}
	err := l.closeWrite()
	l.mu.Lock()
	if err == nil {
		l.flushed = true
	} else if !l.shut {
		l.setErr(err)
	}
	l.mu.Unlock()
}

// closeWrite ends the stream this way: TLS's close_notify, which the
// peer's TLS reads as its end of stream, then TCP's half-close.
func (l *link) closeWrite() error {
	if l.tls != nil {
		if err := l.tls.CloseWrite(); err != nil {
			return err
		}
	}
	return l.conn.CloseWrite()
}

// tlsChunk is the most a TLS link writes under one deadline: a write that
// times out leaves TLS unable to write again, so progress is measured per
// chunk, a few records, rather than per byte.
const tlsChunk = 64 << 10

// write writes b, and fails with ErrTooSlow when a write makes no progress
// for Options.WriteTimeout: the peer does not read. It clears the deadline
// when done, or the flusher's next write would fail on it.
func (l *link) write(b []byte) error {
	defer func() { _ = l.conn.SetWriteDeadline(time.Time{}) }()
	if l.tls != nil {
		for len(b) > 0 {
			n := min(len(b), tlsChunk)
			_ = l.conn.SetWriteDeadline(time.Now().Add(l.opts.WriteTimeout))
			if _, err := l.tls.Write(b[:n]); err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) {
					return ErrTooSlow
				}
				return err
			}
			b = b[n:]
		}
		return nil
	}
	for {
		_ = l.conn.SetWriteDeadline(time.Now().Add(l.opts.WriteTimeout))
		n, err := l.conn.Write(b)
		if err == nil {
			return nil
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return err
		}
		if n == 0 {
			return ErrTooSlow
		}
		b = b[n:]
	}
}

// errStopped ends the read loop once the connection is shut.
var errStopped = errors.New("tcp: link shut")

// readLoop delivers frames until the connection ends, then finishes the
// link: it is the only caller of Sink.Closed.
func (l *link) readLoop() {
	err := l.readFrames()
	badFrame, linger := l.farewell(err)
	l.mu.Lock()
	if !l.shut {
		switch {
		case badFrame:
			// farewell has set the reason.
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
	// After the peer's end of stream, or a bad frame, send what is queued
	// (the farewell among it), then close; after anything else, close now.
	graceful := (err == io.EOF || linger) && !l.shut
	l.closing = true
	if graceful && l.timer == nil {
		l.timer = time.AfterFunc(l.opts.CloseTimeout, l.timeout)
	}
	l.mu.Unlock()
	if graceful {
		l.wake.Signal()
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

// farewell handles a read loop that ended because of the peer: bytes that
// break the framing (a *transport.FrameError) or a frame the listener has
// no room for (ErrBusy). It records the reason, lets a transport.Farewell
// Sink tell the peer, closes the link gracefully and discards what the peer
// still sends until its end of stream or the close timer. bad reports such
// an end, linger that the graceful close is under way.
func (l *link) farewell(err error) (bad, linger bool) {
	_, bad = err.(*transport.FrameError)
	bad = bad || err == ErrBusy
	if !bad || l.stopped.Load() {
		return bad, false
	}
	l.mu.Lock()
	if !l.shut {
		l.setErr(err)
	}
	l.mu.Unlock()
	if fw, ok := l.sink.(transport.Farewell); ok {
		fw.Farewell(err)
	}
	l.Close()
	l.mu.Lock()
	linger = !l.shut
	l.mu.Unlock()
	if linger {
		// Reading on keeps the kernel from answering the peer's data with a
		// reset, which could destroy the last payloads before it reads them.
		buf := make([]byte, 4<<10)
		for {
			if _, err := l.rw.Read(buf); err != nil {
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
	f := newFrameReader(l.opts.Framing, readBufferSize, l.cfg.MaxPayload, l.overhead, l.receive)
	defer f.close()
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
			l.stats.BytesReceived.Add(uint64(size))
			l.stats.PayloadsReceived.Add(1)
			l.sink.Receive(0, p)
		}
		if rerr != nil {
			if rerr == io.EOF && f.buffered() > 0 {
				return io.ErrUnexpectedEOF
			}
			return rerr
		}
		space, err := f.space()
		if err != nil {
			return err
		}
		var n int
		n, rerr = l.rw.Read(space)
		f.fill(n)
	}
}
