package flow

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	stdnet "net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gonetic/gonetic/adapters/msgpack"
	"github.com/gonetic/gonetic/message"
)

// ProtocolVersion is the version of the dedicated listener's protocol,
// exchanged in flow_hello.
const ProtocolVersion = 1

// The handshake of the dedicated listener.
type (
	helloMsg struct {
		Version uint64
		Codec   string
	}
	refuseMsg struct {
		Reason string
	}
)

// linkRegistry is the registry of the dedicated listener: the six flow
// frames (ids 1 to 6, channel 0), then flow_hello (7) and flow_refuse (8),
// always in msgpack.
func linkRegistry() *message.Factory {
	f := message.NewFactory(msgpack.New())
	if err := registerOn(f, 0); err != nil {
		panic(err) // a fresh factory always takes them
	}
	message.MustRegister[helloMsg](f, message.Name("flow_hello"))
	message.MustRegister[refuseMsg](f, message.Name("flow_refuse"))
	f.Freeze()
	return f
}

const (
	// linkDataID is flow_data's id in linkRegistry.
	linkDataID = 2
	// maxFrame is the largest frame of the dedicated listener: a full chunk
	// and its header.
	maxFrame = MaxChunkSize + 1024
	// closeTimeout bounds a graceful close of a dedicated connection.
	closeTimeout = 5 * time.Second
	// readBuffer is the reader's buffer; larger chunks are read into
	// their own buffer directly.
	readBuffer = 64 << 10
)

var errFrame = errors.New("flow: bad frame from peer")

// tcpLink is one connection of the dedicated listener, at either end. It
// frames like adapters/tcp (a 4-byte big-endian length, then the frame)
// but moves chunks without copying them: the writer goroutine hands
// every queued frame to one writev, straight from the chunk buffers; the
// reader goroutine reads each chunk straight into a pooled buffer, which
// becomes the flow's.
type tcpLink struct {
	c      *stdnet.TCPConn
	ep     *endpoint
	remote string
	dec    *message.Decoder // the reader goroutine only
	hr     message.Reader   // flow_data headers; the reader goroutine only
	// receive is called by the reader goroutine for each frame: a flow
	// frame, or the handshake message (a helloMsg or refuseMsg).
	receive func(fr *frame, hs any)
	// closed is called once, when both goroutines are done.
	closed func(err error)
	done   chan struct{} // closed after closed returned
	wake   chan struct{}
	wdone  chan struct{} // the writer returned

	bytesSent, bytesReceived atomic.Uint64

	mu       sync.Mutex // guards the fields below
	enc      *message.Encoder
	hw       message.Writer // flow_data headers
	hbuf     []byte         // hw's buffer
	segs     [][]byte       // frames queued for the writer, in order
	owned    [][]byte       // owned[i], if not nil, is the pool buffer of segs[i]
	ctl      []byte         // control frames queued after segs
	ctlFree  [][]byte
	closing  bool // no more frames; the writer flushes and half-closes
	shut     bool // the socket is closed
	err      error
	deadline *time.Timer
}

func newTCPLink(c *stdnet.TCPConn, ep *endpoint, reg *message.Factory) *tcpLink {
	_ = c.SetNoDelay(true)
	return &tcpLink{
		c: c, ep: ep, remote: c.RemoteAddr().String(),
		dec: reg.NewDecoder(), enc: reg.NewEncoder(),
		hr: reg.Codec().NewReader(), hw: reg.Codec().NewWriter(),
		done: make(chan struct{}), wake: make(chan struct{}, 1), wdone: make(chan struct{}),
	}
}

// start runs the link's two goroutines; they are not counted by the
// endpoint's WaitGroup: Close waits for done.
func (l *tcpLink) start() {
	go l.writeLoop()
	go l.readLoop()
}

// send queues any frame but flow_data. It never blocks.
func (l *tcpLink) send(fr *frame) error { return l.sendMsg(fr.toMsg()) }

// sendMsg queues one message of linkRegistry.
func (l *tcpLink) sendMsg(msg any) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closing {
		return ErrClosed
	}
	mark := len(l.ctl)
	if l.ctl == nil && len(l.ctlFree) > 0 {
		l.ctl = l.ctlFree[len(l.ctlFree)-1]
		l.ctlFree = l.ctlFree[:len(l.ctlFree)-1]
	}
	b, _, err := l.enc.Encode(append(l.ctl, 0, 0, 0, 0), msg)
	if err != nil {
		l.ctl = l.ctl[:mark]
		return err
	}
	binary.BigEndian.PutUint32(b[mark:], uint32(len(b)-mark-4))
	l.ctl = b
	if len(l.segs) == 0 && mark == 0 {
		signal(l.wake)
	}
	return nil
}

// sendData writes the frame's length and header in front of the chunk, in
// the headroom, and queues the buffer itself: it goes back to the pool
// once written.
func (l *tcpLink) sendData(id, flags uint64, buf []byte) error {
	n := len(buf) - headroom
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closing {
		l.ep.pool.put(buf)
		return ErrClosed
	}
	l.hbuf = appendDataHeader(l.hw, l.hbuf[:0], id, flags, n)
	hdr := l.hbuf
	start := headroom - 4 - len(hdr)
	binary.BigEndian.PutUint32(buf[start:], uint32(len(hdr)+n))
	copy(buf[start+4:], hdr)
	wasIdle := len(l.segs) == 0 && len(l.ctl) == 0
	if len(l.ctl) > 0 { // control frames queued before go first
		l.segs = append(l.segs, l.ctl)
		l.owned = append(l.owned, nil)
		l.ctl = nil
	}
	l.segs = append(l.segs, buf[start:])
	l.owned = append(l.owned, buf)
	if wasIdle {
		signal(l.wake)
	}
	return nil
}

// appendDataHeader appends to dst what precedes n chunk bytes in a
// flow_data frame: what the Encoder writes for [linkDataID, flow, flags,
// bin(n)] up to the chunk itself. w is the link registry's codec's.
func appendDataHeader(w message.Writer, dst []byte, id, flags uint64, n int) []byte {
	w.Reset(dst)
	w.Array(4)
	w.Uint(linkDataID)
	w.Uint(id)
	w.Uint(flags)
	w.End()
	b := msgpack.AppendBytesHeader(w.Buffer(), n)
	w.Reset(nil)
	return b
}

// parseDataHeader recognises the start of a flow_data frame in b (its
// first bytes, without the chunk) and returns the header's length, the
// flow, the flags and the chunk's length. r is the link registry's
// codec's.
func parseDataHeader(r message.Reader, b []byte) (hlen int, id, flags uint64, n int, ok bool) {
	defer r.Reset(nil)
	r.Reset(b)
	if k, err := r.Array(); err != nil || k != 4 {
		return 0, 0, 0, 0, false
	}
	if kind, err := r.Uint(); err != nil || kind != linkDataID {
		return 0, 0, 0, 0, false
	}
	var err error
	if id, err = r.Uint(); err != nil {
		return 0, 0, 0, 0, false
	}
	if flags, err = r.Uint(); err != nil {
		return 0, 0, 0, 0, false
	}
	p := len(b) - r.Len()
	n, size, err := msgpack.ReadBytesHeader(b[p:])
	if err != nil {
		return 0, 0, 0, 0, false
	}
	return p + size, id, flags, n, true
}

// writeLoop writes everything queued with one writev per batch.
func (l *tcpLink) writeLoop() {
	defer close(l.wdone)
	var bufs stdnet.Buffers
	var segs, owned [][]byte
	for {
		l.mu.Lock()
		for len(l.segs) == 0 && len(l.ctl) == 0 && !l.closing && !l.shut {
			l.mu.Unlock()
			<-l.wake
			l.mu.Lock()
		}
		if l.shut {
			l.mu.Unlock()
			return
		}
		if len(l.segs) == 0 && len(l.ctl) == 0 { // closing, all written
			l.mu.Unlock()
			break
		}
		if len(l.ctl) > 0 {
			l.segs = append(l.segs, l.ctl)
			l.owned = append(l.owned, nil)
			l.ctl = nil
		}
		segs, l.segs = l.segs, segs[:0]
		owned, l.owned = l.owned, owned[:0]
		l.mu.Unlock()

		bufs = append(bufs[:0], segs...)
		n, err := bufs.WriteTo(l.c)
		l.bytesSent.Add(uint64(n))
		l.mu.Lock()
		for i, b := range segs {
			if owned[i] != nil {
				l.ep.pool.put(owned[i])
			} else if len(l.ctlFree) < 4 && cap(b) <= 64<<10 {
				l.ctlFree = append(l.ctlFree, b[:0])
			}
			segs[i], owned[i] = nil, nil
		}
		l.mu.Unlock()
		clear(bufs[:cap(bufs)])
		if err != nil {
			l.fail(err)
			return
		}
	}
	_ = l.c.CloseWrite()
}

// readLoop reads frames until the connection ends, then finishes the link.
func (l *tcpLink) readLoop() {
	err := l.readFrames()
	l.mu.Lock()
	graceful := err == io.EOF && !l.shut
	local := l.shut || l.closing
	if !graceful {
		l.setErr(err)
	}
	l.closing = true
	if graceful && l.deadline == nil {
		l.deadline = time.AfterFunc(closeTimeout, l.shutdown)
	}
	l.mu.Unlock()
	signal(l.wake)
	if !graceful {
		l.shutdown()
	}
	<-l.wdone
	l.shutdown()
	l.mu.Lock()
	if l.deadline != nil {
		l.deadline.Stop()
	}
	err = l.err
	l.mu.Unlock()
	if err == nil && !local {
		err = io.EOF
	}
	l.closed(err)
	close(l.done)
}

func (l *tcpLink) readFrames() error {
	br := bufio.NewReaderSize(l.c, readBuffer)
	var scratch []byte
	var lenBuf [4]byte
	for {
		if _, err := io.ReadFull(br, lenBuf[:]); err != nil {
			return err // io.EOF between frames is a clean end
		}
		n := int(binary.BigEndian.Uint32(lenBuf[:]))
		l.bytesReceived.Add(uint64(4 + n))
		if n > maxFrame {
			return fmt.Errorf("%w: frame of %d bytes, the limit is %d", errFrame, n, maxFrame)
		}
		peek, err := br.Peek(min(n, headroom))
		if err != nil {
			return unexpected(err)
		}
		if hlen, id, flags, size, ok := parseDataHeader(l.hr, peek); ok && hlen+size == n {
			_, _ = br.Discard(hlen)
			buf := l.ep.pool.get(size)
			if _, err := io.ReadFull(br, buf); err != nil {
				return unexpected(err)
			}
			l.receive(&frame{kind: kData, flow: id, flags: flags, data: buf}, nil)
			continue
		}
		if cap(scratch) < n {
			scratch = make([]byte, n)
		}
		b := scratch[:n]
		if _, err := io.ReadFull(br, b); err != nil {
			return unexpected(err)
		}
		fr, hs, err := decodeLinkFrame(l.dec, b)
		if err != nil {
			return fmt.Errorf("%w: %v", errFrame, err)
		}
		l.receive(fr, hs)
	}
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// decodeLinkFrame decodes one frame of a dedicated link. Data frames come
// here only when they do not take the fast path.
func decodeLinkFrame(d *message.Decoder, p []byte) (*frame, any, error) {
	msg, _, err := d.Decode(p)
	if err != nil {
		return nil, nil, err
	}
	switch m := msg.(type) {
	case openMsg:
		return &frame{kind: kOpen, flow: m.Flow, text: m.Name, flags: m.Flags, data: m.Header}, nil, nil
	case dataMsg:
		return &frame{kind: kData, flow: m.Flow, flags: m.Flags, data: m.Chunk}, nil, nil
	case creditMsg:
		return &frame{kind: kCredit, flow: m.Flow, n: m.Bytes}, nil, nil
	case endMsg:
		return &frame{kind: kEnd, flow: m.Flow, flags: m.Flags, data: m.Value}, nil, nil
	case failMsg:
		return &frame{kind: kFail, flow: m.Flow, n: m.Code, text: m.Message}, nil, nil
	case ackMsg:
		return &frame{kind: kAck, n: m.Bytes}, nil, nil
	case helloMsg, refuseMsg:
		return nil, m, nil
	}
	return nil, nil, fmt.Errorf("unexpected %T", msg)
}

func (l *tcpLink) setErr(err error) {
	if l.err == nil && !l.shut {
		l.err = err
	}
}

// fail ends the link after an I/O error.
func (l *tcpLink) fail(err error) {
	l.mu.Lock()
	l.setErr(err)
	l.mu.Unlock()
	l.shutdown()
}

// close sends what is queued, then ends the connection; the peer closes
// its side in turn. closeTimeout bounds it. Idempotent.
func (l *tcpLink) close() {
	l.mu.Lock()
	if !l.closing {
		l.closing = true
		l.deadline = time.AfterFunc(closeTimeout, l.shutdown)
	}
	l.mu.Unlock()
	signal(l.wake)
}

// abort ends the connection now, dropping what is queued.
func (l *tcpLink) abort() {
	l.mu.Lock()
	l.closing = true
	l.mu.Unlock()
	l.shutdown()
}

// shutdown closes the socket; both goroutines then end.
func (l *tcpLink) shutdown() {
	l.mu.Lock()
	if l.shut {
		l.mu.Unlock()
		return
	}
	l.shut = true
	l.closing = true
	for _, b := range l.owned {
		if b != nil {
			l.ep.pool.put(b)
		}
	}
	l.segs, l.owned, l.ctl = nil, nil, nil
	l.mu.Unlock()
	_ = l.c.Close()
	signal(l.wake)
}
