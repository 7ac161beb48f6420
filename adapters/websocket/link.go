package websocket

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	stdnet "net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/gonetic/gonetic/adapters/internal/linkstats"
	"github.com/gonetic/gonetic/adapters/internal/wakeup"
	"github.com/gonetic/gonetic/net/transport"
)

// Buffer sizes of a link.
const (
	// readBufferSize is the read buffer a link keeps; a larger message
	// grows it as its bytes arrive, and the larger one is dropped after.
	readBufferSize = 4 << 10
	// maxRetained is the largest send buffer a link keeps after a burst.
	maxRetained = 1 << 20
	// queueHeader is the length that precedes each queued message.
	queueHeader = 4
)

// maxReason is the longest close reason a close frame carries.
const maxReason = 123

// browserOffset moves the close statuses a browser may not send (1002,
// 1003, 1009) into the range it may (4002, 4003, 4009); see sendStatus.
const browserOffset = 3000

// link is one WebSocket. Send only queues; the writer goroutine writes the
// queue one message at a time and, once the link is closing, closes the
// WebSocket gracefully. The reader goroutine reads messages, calls the Sink,
// and once the WebSocket is over waits for the writer and calls
// Sink.Closed.
type link struct {
	c        *conn
	cfg      transport.Config
	opts     Options
	client   bool           // masks its frames (RFC 6455), which Stats count
	sink     transport.Sink // set by start, before the goroutines run
	onDone   func()         // set before start; called once, when the link is over
	wake     wakeup.Chan    // the writer has something to do
	done     chan struct{}  // closed when the writer returns
	stopped  atomic.Bool    // set with shut: the reader stops delivering
	watchdog *time.Timer    // ends a write that takes Options.WriteTimeout

	mu        sync.Mutex           // guards the fields below
	pending   []byte               // queued messages, each behind its 4-byte length
	spare     []byte               // the other buffer; nil while a batch is written
	closing   bool                 // Send is refused: the link is ending
	local     bool                 // Close or Abort was called
	shut      bool                 // the connection was killed; later I/O errors are ours
	code      websocket.StatusCode // the close status the writer sends
	reason    string               // and its reason
	err       error                // first reason the link ended; nil for a local close
	writeErr  error                // why a write failed, if one did
	timer     *time.Timer          // bounds a graceful close
	fullSince time.Time            // when Send first found the queue full; zero while it takes payloads

	stats linkstats.Counters
}

func newLink(c *conn, cfg transport.Config, opts Options, client bool) *link {
	c.ws.SetReadLimit(readLimit(cfg))
	return &link{
		c:      c,
		cfg:    cfg,
		opts:   opts,
		client: client,
		wake:   wakeup.New(),
		done:   make(chan struct{}),
		code:   websocket.StatusNormalClosure,
	}
}

func (l *link) start(sink transport.Sink) {
	l.sink = sink
	l.watchdog = time.AfterFunc(time.Hour, l.tooSlow)
	l.watchdog.Stop()
	go l.writeLoop()
	go l.readLoop()
}

// Send queues the channel byte and the payload as one message. Safe for
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
	if queued > 0 && queued+queueHeader+1+len(payload) > l.opts.MaxQueued {
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
	l.pending = binary.BigEndian.AppendUint32(l.pending, uint32(1+len(payload)))
	l.pending = append(l.pending, channel)
	l.pending = append(l.pending, payload...)
	l.mu.Unlock()
	if queued == 0 {
		l.wake.Signal()
	}
	return nil
}

// Flush does nothing: every Send into an empty queue wakes the writer.
// Safe for concurrent use.
func (l *link) Flush() {}

// Close stops Send; the writer sends what is queued, then a close frame
// with status 1000 (normal closure), and the reader delivers what arrives
// until the peer's close frame. Safe for concurrent use; idempotent.
func (l *link) Close() {
	l.mu.Lock()
	if l.local {
		l.mu.Unlock()
		return
	}
	l.local = true
	l.beginClose()
	l.mu.Unlock()
	l.wake.Signal()
}

// beginClose refuses further Sends and starts the close timer. l.mu must
// be held.
func (l *link) beginClose() {
	l.closing = true
	if l.timer == nil && !l.shut {
		l.timer = time.AfterFunc(closeTimeout, l.timeout)
	}
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
func (l *link) RemoteAddr() string { return l.c.remote }

// Stats counts payloads, and bytes with the channel byte and the
// WebSocket frame header: sent once written, received as each message is
// delivered.
func (l *link) Stats() transport.Stats {
	return l.stats.Stats()
}

// setErr keeps the first reason the link ended. l.mu must be held.
func (l *link) setErr(err error) {
	if l.err == nil {
		l.err = err
	}
}

// shutdown kills the connection now and drops what is queued.
func (l *link) shutdown() {
	l.mu.Lock()
	if l.shut {
		l.mu.Unlock()
		return
	}
	l.shut = true
	l.closing = true
	l.pending = nil
	l.mu.Unlock()
	l.stopped.Store(true)
	l.c.kill()
	l.wake.Signal()
}

// timeout ends a graceful close that took too long.
func (l *link) timeout() {
	l.mu.Lock()
	if !l.shut {
		l.setErr(ErrCloseTimeout)
	}
	l.mu.Unlock()
	l.shutdown()
}

// tooSlow ends a link whose write made no progress for WriteTimeout.
func (l *link) tooSlow() {
	l.mu.Lock()
	if !l.shut {
		l.setErr(ErrTooSlow)
	}
	l.mu.Unlock()
	l.shutdown()
}

// frameOverhead is the WebSocket frame header of a message of n bytes.
func frameOverhead(n int, masked bool) int {
	h := 2
	switch {
	case n > 65535:
		h += 8
	case n > 125:
		h += 2
	}
	if masked {
		h += 4
	}
	return h
}

// writeLoop writes what Send queued, one message per queued entry, until
// the link is closing and the queue is empty; then it closes the WebSocket
// gracefully, unless the connection was killed. It swaps the queue with
// the spare buffer, so steady state allocates nothing.
func (l *link) writeLoop() {
	defer close(l.done)
	ctx := context.Background() // no deadline: the watchdog and kill bound writes
	for {
		l.mu.Lock()
		for !l.shut && len(l.pending) == 0 && !l.closing {
			l.mu.Unlock()
			<-l.wake
			l.mu.Lock()
		}
		if l.shut {
			l.mu.Unlock()
			return
		}
		if len(l.pending) == 0 { // closing, and everything is sent
			code, reason := l.code, l.reason
			l.mu.Unlock()
			// Waits for the peer's close frame, which the reader or this
			// call reads; the close timer bounds it.
			_ = l.c.ws.Close(sendStatus(code), reason)
			return
		}
		batch := l.pending
		l.pending, l.spare = l.spare[:0], nil
		l.fullSince = time.Time{}
		l.mu.Unlock()

		// The watchdog is re-armed as writes make progress, not for
		// every message: a timer reset costs more than a clock read.
		armed := time.Now()
		l.watchdog.Reset(l.opts.WriteTimeout)
		// Several messages leave in one write call.
		corked := int(binary.BigEndian.Uint32(batch))+queueHeader < len(batch)
		if corked {
			l.c.cork()
		}
		for off := 0; off < len(batch); {
			n := int(binary.BigEndian.Uint32(batch[off:]))
			msg := batch[off+queueHeader : off+queueHeader+n]
			off += queueHeader + n
			if err := l.c.ws.Write(ctx, websocket.MessageBinary, msg); err != nil {
				l.writeFailed(err)
				return
			}
			if !corked {
				l.countSent(n, 1)
			}
			if now := time.Now(); now.Sub(armed) > l.opts.WriteTimeout/4 {
				l.watchdog.Reset(l.opts.WriteTimeout)
				armed = now
			}
		}
		if corked {
			if err := l.c.uncork(); err != nil {
				l.writeFailed(err)
				return
			}
			l.countBatch(batch)
		}
		l.watchdog.Stop()
		l.mu.Lock()
		if cap(batch) <= maxRetained {
			l.spare = batch[:0]
		}
		l.mu.Unlock()
	}
}

// writeFailed ends the link after a failed write.
func (l *link) writeFailed(err error) {
	l.watchdog.Stop()
	l.mu.Lock()
	if l.writeErr == nil {
		l.writeErr = err
	}
	l.mu.Unlock()
	l.shutdown()
}

// countSent counts payloads payloads of n bytes each as sent.
func (l *link) countSent(n, payloads int) {
	l.stats.BytesSent.Add(uint64(payloads * (n + frameOverhead(n, l.client))))
	l.stats.PayloadsSent.Add(uint64(payloads))
}

// countBatch counts a batch written at once as sent.
func (l *link) countBatch(batch []byte) {
	bytes, payloads := 0, 0
	for off := 0; off < len(batch); payloads++ {
		n := int(binary.BigEndian.Uint32(batch[off:]))
		bytes += n + frameOverhead(n, l.client)
		off += queueHeader + n
	}
	l.stats.BytesSent.Add(uint64(bytes))
	l.stats.PayloadsSent.Add(uint64(payloads))
}

// errStopped ends the read loop once the connection is killed.
var errStopped = errors.New("websocket: link shut")

// readLoop delivers messages until the WebSocket ends, then finishes the
// link: it is the only caller of Sink.Closed.
func (l *link) readLoop() {
	err := l.readMessages()
	var fe *transport.FrameError
	if errors.As(err, &fe) && !l.stopped.Load() {
		l.farewell(fe)
	}
	l.mu.Lock()
	// A graceful close under way (Close, or after a bad message) ends
	// when the writer has sent the queue and the close frames have
	// crossed; anything else ends the connection now.
	graceful := l.closing && !l.shut && l.timer != nil
	if !graceful {
		l.closing = true
	}
	l.mu.Unlock()
	if !graceful {
		l.shutdown()
	}
	<-l.done
	l.c.release()

	l.mu.Lock()
	if l.timer != nil {
		l.timer.Stop()
	}
	switch {
	case l.err != nil:
		err = l.err
	case l.local:
		err = nil
	default:
		err = closedError(err, l.writeErr)
	}
	l.mu.Unlock()
	l.sink.Closed(err)
	if l.onDone != nil {
		l.onDone()
	}
}

// closedError is what Sink.Closed reports when the peer or the network
// ended the link: readErr is why reading stopped, writeErr why a write
// failed, if one did.
func closedError(readErr, writeErr error) error {
	var ce websocket.CloseError
	if errors.As(readErr, &ce) {
		switch ce.Code {
		case websocket.StatusMessageTooBig + browserOffset,
			websocket.StatusProtocolError + browserOffset,
			websocket.StatusUnsupportedData + browserOffset:
			ce.Code -= browserOffset // a browser's stand-in (sendStatus)
		}
		switch ce.Code {
		case websocket.StatusNormalClosure, websocket.StatusNoStatusRcvd:
			return io.EOF
		case websocket.StatusMessageTooBig:
			return &transport.FrameError{Reason: "the peer refused a message as too big: " + ce.Reason, TooLarge: true}
		}
		return &CloseError{Code: int(ce.Code), Reason: ce.Reason}
	}
	if writeErr != nil && (readErr == errStopped || errors.Is(readErr, stdnet.ErrClosed)) {
		return writeErr
	}
	if errors.Is(readErr, io.EOF) {
		// The TCP connection ended without a close frame.
		return io.ErrUnexpectedEOF
	}
	return readErr
}

// farewell handles a message that breaks the adapter's framing: it
// records the reason, picks the close status the peer will read, lets a
// transport.Farewell Sink say why, and closes the link gracefully, so that
// what the Sink sent goes before the close frame.
func (l *link) farewell(fe *transport.FrameError) {
	code := websocket.StatusProtocolError
	switch {
	case fe.TooLarge:
		code = websocket.StatusMessageTooBig
	case fe == errText:
		code = websocket.StatusUnsupportedData
	}
	reason := fe.Reason
	if len(reason) > maxReason {
		reason = strings.ToValidUTF8(reason[:maxReason], "")
	}
	l.mu.Lock()
	if !l.shut {
		l.setErr(fe)
	}
	if !l.closing {
		l.code, l.reason = code, reason
	}
	l.mu.Unlock()
	if fw, ok := l.sink.(transport.Farewell); ok {
		fw.Farewell(fe)
	}
	l.mu.Lock()
	l.local = true // the link, not the peer, ends it
	l.beginClose()
	l.mu.Unlock()
	l.wake.Signal()
}

// errText is the framing error of a text message.
var errText = &transport.FrameError{Reason: "a text message; gonetic speaks binary messages only"}

// readMessages reads whole messages into the read buffer and hands each to
// the Sink as a slice of it: no allocation per message.
func (l *link) readMessages() error {
	ctx := context.Background() // kill and coder/websocket's close end reads
	small := make([]byte, readBufferSize)
	buf := small
	// The longest message: the channel byte and MaxPayload bytes.
	max := 1 + l.cfg.MaxPayload
	for {
		typ, r, err := l.c.ws.Reader(ctx)
		if err != nil {
			return err
		}
		if typ != websocket.MessageBinary {
			return errText
		}
		n := 0
		for {
			end := min(len(buf), max+1) // never read past the byte that shows too much
			if n == end {
				if n > max {
					return tooLarge(l.cfg.MaxPayload)
				}
				// Grow as the bytes arrive, never past that byte.
				grown := make([]byte, min(2*len(buf), max+1))
				copy(grown, buf[:n])
				buf = grown
				end = len(buf)
			}
			m, err := r.Read(buf[n:end])
			n += m
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
		}
		if n > max {
			return tooLarge(l.cfg.MaxPayload)
		}
		if n == 0 {
			return &transport.FrameError{Reason: "an empty message; each message starts with its channel byte"}
		}
		if ch := buf[0]; int(ch) >= l.cfg.Channels {
			return &transport.FrameError{Reason: fmt.Sprintf("a message on channel %d; the link's channels are 0 to %d", ch, l.cfg.Channels-1)}
		}
		if l.stopped.Load() {
			return errStopped
		}
		l.stats.BytesReceived.Add(uint64(n + frameOverhead(n, !l.client)))
		l.stats.PayloadsReceived.Add(1)
		l.sink.Receive(buf[0], buf[1:n])
		if len(buf) > readBufferSize {
			buf = small
		}
	}
}

// tooLarge is the framing error of a message over the limit.
func tooLarge(maxPayload int) error {
	return &transport.FrameError{
		Reason:   fmt.Sprintf("a message of more than %d bytes, the limit is 1 channel byte + MaxPayload %d", 1+maxPayload, maxPayload),
		TooLarge: true,
	}
}
