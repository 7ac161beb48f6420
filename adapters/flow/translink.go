package flow

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gonetic/gonetic/message"
	"github.com/gonetic/gonetic/net/transport"
)

// link is one connection of the dedicated listener, at either end, on
// either carrier: a tcpLink over a socket of the package's own, or a
// transLink over a network adapter's link. Server and Client run the
// handshake and the session over it alone.
//
// The owner sets the link's receive and closed functions before any frame
// can arrive; receive then gets each frame (a flow frame, or a helloMsg or
// refuseMsg of the handshake) on the carrier's goroutine, and closed runs
// once, when the link is over: nil after a local close, io.EOF when the
// peer closed cleanly, or the error that broke it. finished is closed after
// closed returned.
type link interface {
	wire
	// sendMsg queues one message of linkRegistry. It never blocks.
	sendMsg(msg any) error
	// close sends what is queued, then ends the link; closeTimeout bounds
	// it. Idempotent.
	close()
	// abort ends the link now, dropping what is queued.
	abort()
	remoteAddr() string
	stats() Stats
	finished() <-chan struct{}
}

var (
	_ link           = (*tcpLink)(nil)
	_ link           = (*transLink)(nil)
	_ transport.Sink = (*transLink)(nil)
)

func (l *tcpLink) remoteAddr() string         { return l.remote }
func (l *tcpLink) finished() <-chan struct{} { return l.done }
func (l *tcpLink) stats() Stats {
	return Stats{BytesSent: l.bytesSent.Load(), BytesReceived: l.bytesReceived.Load()}
}

// transportConfig is what the dedicated listener asks of a network adapter:
// one channel, and payloads that hold a full chunk frame.
func transportConfig() transport.Config {
	return transport.Config{Channels: 1, MaxPayload: maxFrame}
}

// errLossy is why a lossy adapter cannot carry the dedicated listener.
func errLossy(name string) error {
	return fmt.Errorf("flow: the %s adapter's links are lossy (transport.Lossy); the dedicated listener needs reliable, ordered delivery: use a stream adapter (tcp, websocket, mem), or a Station over this adapter", name)
}

// transLink is one connection of the dedicated listener over a network
// adapter's link: one frame per payload, on channel 0, Reliable, framed
// as on a tcpLink but without the length prefix (the adapter frames).
//
// Its Send copies, so a chunk goes back to the pool as soon as the adapter
// took it. When the adapter's queue is full (transport.ErrQueueFull), the
// frames wait in the link's own queue, in order, and a goroutine of the
// link's hands them over as the adapter makes room: as on a tcpLink, the
// flows' credits bound that queue, and sending never fails because of it.
// A receive never blocks (the session queues within credit), so the
// adapter's reader never waits on a flow.
type transLink struct {
	ep *endpoint
	// receive and closed: see link. Set before the Sink is handed over.
	receive func(fr *frame, hs any)
	closed  func(err error)
	done    chan struct{}
	wake    chan struct{}
	wdone   chan struct{} // the writer returned; nil until it starts

	dec *message.Decoder // Receive only: the adapter does not overlap calls
	hr  message.Reader   // flow_data headers; Receive only
	bad error            // Receive only: set when a frame broke the protocol

	mu       sync.Mutex // guards the fields below
	tl       transport.Link
	enc      *message.Encoder
	hw       message.Writer // flow_data headers
	hbuf     []byte         // hw's buffer
	msg      []byte         // a control frame's buffer
	queue    [][]byte       // frames the adapter had no room for, in order
	owned    [][]byte       // owned[i], if not nil, is the pool buffer of queue[i]
	closing  bool           // no more frames; the link closes once the queue is sent
	shut     bool           // the adapter's link was closed or aborted, or is over
	aborted  bool           // abort came before tl was set
	err      error          // why the link failed here, for closed
	deadline *time.Timer
}

// newTransLink makes a link over tl; tl is nil for a link being dialed
// (see attach).
func newTransLink(ep *endpoint, reg *message.Factory, tl transport.Link) *transLink {
	return &transLink{
		ep: ep, tl: tl,
		dec: reg.NewDecoder(), enc: reg.NewEncoder(),
		hr: reg.Codec().NewReader(), hw: reg.Codec().NewWriter(),
		done: make(chan struct{}), wake: make(chan struct{}, 1),
	}
}

// attach gives the link its adapter link, once Dial returned it.
func (l *transLink) attach(tl transport.Link) {
	l.mu.Lock()
	l.tl = tl
	aborted := l.aborted
	l.mu.Unlock()
	if aborted {
		tl.Abort()
	}
}

func (l *transLink) remoteAddr() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tl == nil {
		return ""
	}
	return l.tl.RemoteAddr()
}

func (l *transLink) finished() <-chan struct{} { return l.done }

func (l *transLink) stats() Stats {
	l.mu.Lock()
	tl := l.tl
	l.mu.Unlock()
	if tl == nil {
		return Stats{}
	}
	st := tl.Stats()
	return Stats{BytesSent: st.BytesSent, BytesReceived: st.BytesReceived}
}

// send queues any frame but flow_data.
func (l *transLink) send(fr *frame) error { return l.sendMsg(fr.toMsg()) }

func (l *transLink) sendMsg(msg any) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closing {
		return ErrClosed
	}
	b, _, err := l.enc.Encode(l.msg[:0], msg)
	if err != nil {
		return err
	}
	l.msg = b
	return l.put(b, nil)
}

// sendData writes the frame's header in front of the chunk, in the
// headroom, and hands the frame to the adapter.
func (l *transLink) sendData(id, flags uint64, buf []byte) error {
	n := len(buf) - headroom
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closing {
		l.ep.pool.put(buf)
		return ErrClosed
	}
	l.hbuf = appendDataHeader(l.hw, l.hbuf[:0], id, flags, n)
	start := headroom - len(l.hbuf)
	copy(buf[start:], l.hbuf)
	return l.put(buf[start:], buf)
}

// put sends frame b, or queues it behind the frames that wait; owned, if
// not nil, is b's pool buffer. l.mu is held.
func (l *transLink) put(b, owned []byte) error {
	if len(l.queue) == 0 {
		err := l.tl.Send(0, transport.Reliable, b) // copies
		if !errors.Is(err, transport.ErrQueueFull) {
			if owned != nil {
				l.ep.pool.put(owned)
			}
			if errors.Is(err, transport.ErrClosed) {
				err = ErrClosed
			}
			return err
		}
		if l.wdone == nil {
			l.wdone = make(chan struct{})
			go l.writeLoop()
		}
		signal(l.wake)
	}
	if owned == nil { // a control frame's buffer is reused: keep a copy
		b = append([]byte(nil), b...)
	}
	l.queue = append(l.queue, b)
	l.owned = append(l.owned, owned)
	return nil
}

// writeLoop hands the queued frames to the adapter as it makes room. The
// adapter tells no one when it does, so the loop retries, backing off up to
// a millisecond: the queue fills only when the network is the bottleneck.
func (l *transLink) writeLoop() {
	defer close(l.wdone)
	var delay time.Duration
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		l.mu.Lock()
		for !l.shut && len(l.queue) > 0 {
			err := l.tl.Send(0, transport.Reliable, l.queue[0])
			if errors.Is(err, transport.ErrQueueFull) {
				break
			}
			if l.owned[0] != nil {
				l.ep.pool.put(l.owned[0])
			}
			l.queue[0], l.owned[0] = nil, nil
			l.queue, l.owned = l.queue[1:], l.owned[1:]
			delay = 0
			if err != nil { // closed: the Sink's Closed follows
				l.dropQueue()
			}
		}
		if l.shut {
			l.dropQueue()
			l.mu.Unlock()
			return
		}
		if len(l.queue) == 0 {
			l.queue, l.owned = nil, nil
			if l.closing {
				l.tl.Close()
			}
			l.mu.Unlock()
			<-l.wake
			continue
		}
		l.mu.Unlock()
		delay = min(max(2*delay, 20*time.Microsecond), time.Millisecond)
		timer.Reset(delay)
		select {
		case <-timer.C:
		case <-l.wake:
			if !timer.Stop() {
				<-timer.C
			}
		}
	}
}

// dropQueue gives the queued chunks back to the pool. l.mu is held.
func (l *transLink) dropQueue() {
	for _, b := range l.owned {
		if b != nil {
			l.ep.pool.put(b)
		}
	}
	l.queue, l.owned = nil, nil
}

func (l *transLink) close() {
	l.mu.Lock()
	if l.closing || l.shut {
		l.closing = true
		l.mu.Unlock()
		return
	}
	l.closing = true
	if l.tl == nil {
		l.aborted = true
		l.mu.Unlock()
		return
	}
	if len(l.queue) == 0 {
		l.tl.Close()
	} else { // the writer closes once the queue is sent
		l.deadline = time.AfterFunc(closeTimeout, l.abort)
		signal(l.wake)
	}
	l.mu.Unlock()
}

func (l *transLink) abort() {
	l.mu.Lock()
	l.closing = true
	tl := l.tl
	if tl == nil {
		l.aborted = true
	}
	l.mu.Unlock()
	if tl != nil {
		tl.Abort()
	}
}

// Receive takes one frame from the adapter. The payload is the adapter's
// until Receive returns: a chunk is copied into a pooled buffer, which
// becomes the flow's.
func (l *transLink) Receive(channel uint8, p []byte) {
	if l.bad != nil {
		return // the link is being aborted
	}
	if channel != 0 {
		l.fail(fmt.Errorf("%w: a payload on channel %d, the dedicated listener uses 0 only", errFrame, channel))
		return
	}
	if hlen, id, flags, size, ok := parseDataHeader(l.hr, p[:min(len(p), headroom)]); ok && hlen+size == len(p) {
		buf := l.ep.pool.get(size)
		copy(buf, p[hlen:])
		l.receive(&frame{kind: kData, flow: id, flags: flags, data: buf}, nil)
		return
	}
	fr, hs, err := decodeLinkFrame(l.dec, p)
	if err != nil {
		l.fail(fmt.Errorf("%w: %v", errFrame, err))
		return
	}
	l.receive(fr, hs)
}

// fail ends the link after a frame that breaks the protocol.
func (l *transLink) fail(err error) {
	l.bad = err
	l.mu.Lock()
	if l.err == nil {
		l.err = err
	}
	l.mu.Unlock()
	l.abort()
}

// Closed ends the link: the writer stops, then the owner is told.
func (l *transLink) Closed(err error) {
	l.mu.Lock()
	l.shut, l.closing = true, true
	if l.err != nil {
		err = l.err
	}
	if l.deadline != nil {
		l.deadline.Stop()
	}
	wdone := l.wdone
	l.mu.Unlock()
	signal(l.wake)
	if wdone != nil {
		<-wdone
	}
	l.mu.Lock()
	l.dropQueue()
	l.mu.Unlock()
	l.closed(err)
	close(l.done)
}
