package flow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/gonetic/gonetic/message"
	"github.com/gonetic/gonetic/net/transport"
)

// flowState is one flow at one end: what came in and waits to be read,
// what goes out and waits for credit.
type flowState struct {
	s      *session
	id     uint64
	name   string
	opener bool // this end opened it (and reads replies, then a final value)
	comp   Compression
	header Packet // handler side: the header from flow_open

	done  chan struct{} // closed when the flow is over at this end
	once  sync.Once
	err   *Error // why it ended early, or nil; set before done is closed
	drain bool   // the reader takes what is queued before err; set before done is closed

	ctx    context.Context // handler side: Flow.Context
	cancel context.CancelFunc

	in  inbound
	out outbound
}

func newFlow(s *session, id uint64, name string, opener bool, comp Compression) *flowState {
	f := &flowState{s: s, id: id, name: name, opener: opener, comp: comp, done: make(chan struct{})}
	f.in.granted = InitialWindow
	f.in.ready = make(chan struct{}, 1)
	f.in.r = s.ep.cfg.Codec.NewReader()
	f.out.credit = InitialWindow
	f.out.room = make(chan struct{}, 1)
	f.out.work = make(chan struct{}, 1)
	f.out.w = s.ep.cfg.Codec.NewWriter()
	if !opener {
		f.ctx, f.cancel = context.WithCancel(s.ep.ctx)
	}
	return f
}

// finish ends the flow at this end, with e (nil for a normal end). Only
// the first call (of finish and finishAfterQueued) counts; it reports
// whether it was this one. What is queued for the reader is dropped.
func (f *flowState) finish(e *Error) bool { return f.end(e, false) }

// finishAfterQueued is finish for an end that follows, in the order it was
// sent, what is queued for the reader: the peer's flow_fail (its data came
// before it), or this opener's own failure once the data its producer
// yielded before failing is sent. The reader takes the queue first, then e.
func (f *flowState) finishAfterQueued(e *Error) bool { return f.end(e, true) }

func (f *flowState) end(e *Error, drain bool) bool {
	first := false
	f.once.Do(func() {
		first = true
		f.err, f.drain = e, drain
		close(f.done)
		if f.cancel != nil {
			f.cancel()
		}
		f.s.remove(f.id)
	})
	return first
}

// abort ends the flow early from this end and tells the peer why.
func (f *flowState) abort(code Code, msg string, cause error) *Error {
	e := &Error{Name: f.name, Code: code, Message: msg, Err: cause}
	if f.finish(e) {
		_ = f.s.w.send(&frame{kind: kFail, flow: f.id, n: uint64(code), text: msg})
	}
	return f.err
}

// endErr is the error for a caller that finds the flow over.
func (f *flowState) endErr() error {
	<-f.done
	if f.err != nil {
		return f.err
	}
	return &Error{Name: f.name, Code: CodeAborted, Message: "the flow is over"}
}

func (f *flowState) isDone() bool {
	select {
	case <-f.done:
		return true
	default:
		return false
	}
}

// sendFailed ends the flow after a send error and returns the error.
func (f *flowState) sendFailed(err error) *Error {
	switch {
	case isGone(err):
		f.s.lost(err)
		f.finish(&Error{Name: f.name, Code: CodeConnLost, Message: "the connection closed", Err: err})
	case errors.Is(err, transport.ErrPayloadTooLarge):
		return f.abort(CodeTooLarge, "a frame was too large for the connection: lower Config.ChunkSize or raise the connection's message size limit", err)
	default:
		return f.abort(CodeAborted, "send: "+err.Error(), err)
	}
	return f.err
}

// grant gives the peer the rest of the window, past InitialWindow.
func (f *flowState) grant() {
	w := int64(f.s.ep.cfg.Window)
	f.in.mu.Lock()
	extra := w - f.in.granted
	f.in.granted = w
	f.in.mu.Unlock()
	if extra > 0 {
		_ = f.s.w.send(&frame{kind: kCredit, flow: f.id, n: uint64(extra)})
	}
}

// ---------------------------------------------------------------- inbound

// inbound is what arrived for a flow and waits for the goroutine that
// reads it (the handler, or the caller ranging the result).
type inbound struct {
	mu       sync.Mutex // guards items, received, granted, ended
	items    []inItem
	received int64 // chunk bytes received in all
	granted  int64 // credit given to the peer in all, InitialWindow included
	ended    bool  // flow_end arrived: nothing may follow
	ready    chan struct{}

	// Used only by the reading goroutine.
	cur      []byte // the chunk being read (decompressed)
	owned    []byte // the pool buffer cur is in, if any
	pos      int
	curWire  int64 // cur's size as it travelled, credited once cur is read
	consumed int64 // bytes read and not yet credited back
	asm      []byte
	asmOn    bool // a split packet is being put together in asm
	asmValue bool
	zbuf     []byte
	r        message.Reader
}

type inItem struct {
	end   bool // flow_end: data is the final value (opener side), or empty
	flags uint64
	data  []byte
}

// pushData queues a chunk. Runs on the carrier's goroutine.
func (f *flowState) pushData(flags uint64, chunk []byte) {
	in := &f.in
	in.mu.Lock()
	switch {
	case in.ended:
		in.mu.Unlock()
		f.abort(CodeProtocol, "flow_data after flow_end", nil)
		return
	case in.received >= in.granted:
		in.mu.Unlock()
		f.abort(CodeProtocol, fmt.Sprintf("flow_data beyond the credit given (%d bytes)", in.granted), nil)
		return
	case len(chunk) > MaxChunkSize:
		in.mu.Unlock()
		f.abort(CodeProtocol, fmt.Sprintf("chunk of %d bytes, more than %d", len(chunk), MaxChunkSize), nil)
		return
	}
	in.received += int64(len(chunk))
	in.items = append(in.items, inItem{flags: flags, data: chunk})
	in.mu.Unlock()
	signal(in.ready)
}

// pushEnd queues the end of what the peer sends. Runs on the carrier's
// goroutine.
func (f *flowState) pushEnd(flags uint64, value []byte) {
	in := &f.in
	if len(value) > MaxChunkSize {
		f.abort(CodeProtocol, fmt.Sprintf("value of %d bytes, more than %d", len(value), MaxChunkSize), nil)
		return
	}
	in.mu.Lock()
	if in.ended {
		in.mu.Unlock()
		f.abort(CodeProtocol, "flow_end twice", nil)
		return
	}
	in.ended = true
	if !f.opener {
		value = nil // the opener's flow_end carries no value
	}
	in.items = append(in.items, inItem{end: true, flags: flags, data: value})
	in.mu.Unlock()
	signal(in.ready)
}

// hasEnd reports whether the peer's flow_end arrived.
func (f *flowState) hasEnd() bool {
	f.in.mu.Lock()
	defer f.in.mu.Unlock()
	return f.in.ended
}

// take waits for the next item. A flow that ended at this end returns its
// error at once, dropping what is queued, unless it ended with
// finishAfterQueued: the peer's flow_fail, or the opener's own failure
// after its producer's last packets were sent. Then what came before the
// failure is read first, in the order it was sent: a failed handler's
// messages at the opener, the packets a caller yielded before its failure
// at the handler.
func (f *flowState) take() (inItem, error) {
	in := &f.in
	for {
		if f.isDone() && !f.drain {
			return inItem{}, f.endErr()
		}
		in.mu.Lock()
		if len(in.items) > 0 {
			it := in.items[0]
			in.items[0] = inItem{}
			in.items = in.items[1:]
			in.mu.Unlock()
			return it, nil
		}
		in.mu.Unlock()
		if f.isDone() {
			return inItem{}, f.endErr()
		}
		select {
		case <-in.ready:
		case <-f.done:
		}
	}
}

// next returns the next packet. At the end of what the peer sends it
// returns io.EOF on the handler side, and the final value on the opener's.
// Only the reading goroutine calls it.
func (f *flowState) next() (Packet, error) {
	in := &f.in
	maxPacket := f.s.ep.cfg.MaxPacket
	for {
		if in.pos < len(in.cur) {
			data, value, more, end, err := nextRecord(in.cur, in.pos)
			if err != nil {
				return Packet{}, f.abort(CodeProtocol, err.Error(), nil)
			}
			in.pos = end
			if !more && !in.asmOn {
				if len(data) > maxPacket {
					return Packet{}, f.tooLarge(len(data))
				}
				return Packet{data: data, value: value, r: in.r}, nil
			}
			if !in.asmOn {
				in.asmOn, in.asmValue, in.asm = true, value, in.asm[:0]
			} else if value != in.asmValue {
				return Packet{}, f.abort(CodeProtocol, "the records of a split packet disagree on its kind", nil)
			}
			if len(in.asm)+len(data) > maxPacket {
				return Packet{}, f.tooLarge(len(in.asm) + len(data))
			}
			in.asm = append(in.asm, data...)
			if more {
				continue
			}
			in.asmOn = false
			return Packet{data: in.asm, value: in.asmValue, r: in.r}, nil
		}
		if in.cur != nil {
			f.consumed(in.curWire)
			in.cur, in.pos = nil, 0
			if in.owned != nil {
				f.s.ep.pool.put(in.owned)
				in.owned = nil
			}
		}
		it, err := f.take()
		if err != nil {
			return Packet{}, err
		}
		if it.end {
			if in.asmOn {
				return Packet{}, f.abort(CodeProtocol, "flow_end inside a split packet", nil)
			}
			if !f.opener {
				return Packet{}, io.EOF
			}
			return Packet{data: it.data, value: it.flags&flagValue != 0, final: true, r: in.r}, nil
		}
		in.curWire = int64(len(it.data))
		in.cur, in.owned = it.data, it.data
		if it.flags&flagCompressed != 0 {
			if f.comp == NoCompression {
				return Packet{}, f.abort(CodeProtocol, "compressed chunk in a flow without compression", nil)
			}
			out, err := f.s.ep.comp.decompress(f.comp, in.zbuf, it.data)
			if err != nil {
				return Packet{}, f.abort(CodeProtocol, "decompress: "+err.Error(), err)
			}
			f.s.ep.pool.put(it.data)
			in.cur, in.owned, in.zbuf = out, nil, out[:0]
		}
		if len(in.cur) == 0 {
			in.cur = nil
			f.consumed(in.curWire)
			if in.owned != nil {
				f.s.ep.pool.put(in.owned)
				in.owned = nil
			}
		}
	}
}

func (f *flowState) tooLarge(n int) *Error {
	return f.abort(CodeTooLarge, fmt.Sprintf("received a packet of %d bytes or more, above Config.MaxPacket (%d)", n, f.s.ep.cfg.MaxPacket), nil)
}

// consumed credits n bytes back to the peer once a quarter window is read.
func (f *flowState) consumed(n int64) {
	in := &f.in
	in.consumed += n
	if in.consumed < int64(f.s.ep.cfg.Window)/4 || f.isDone() {
		return
	}
	c := in.consumed
	in.consumed = 0
	in.mu.Lock()
	in.granted += c
	in.mu.Unlock()
	_ = f.s.w.send(&frame{kind: kCredit, flow: f.id, n: uint64(c)})
}

// --------------------------------------------------------------- outbound

// outbound batches what a flow sends into chunks. Pushers (the producer
// goroutine of a Call, or a handler's Reply) append records to cur; the
// pump goroutine takes cur whenever it has credit and room on the
// connection, so chunks grow while it waits and leave at once when it
// does not.
type outbound struct {
	encMu   sync.Mutex // serialises pushers: guards w, scratch
	w       message.Writer
	scratch []byte

	mu      sync.Mutex // guards the fields below
	cur     []byte     // headroom, then the records to send next; a pool buffer
	credit  int64      // bytes the peer lets us send; may go below 0 by one chunk
	term    *frame     // flow_end or flow_fail, sent after cur
	after   *Error     // the opener's own failure: ends the flow once term is sent
	started bool       // the pump runs, or the terminal frame went out directly
	fin     chan struct{}
	room    chan struct{} // pump → pushers: cur was taken
	work    chan struct{} // → pump: records, a terminal frame, or credit
}

// encode returns v as it travels: a []byte as it is, anything else
// encoded with the codec. The result is valid until the next encode.
func (o *outbound) encode(v any) (data []byte, value bool, err error) {
	switch b := v.(type) {
	case nil:
		return nil, false, nil
	case []byte:
		return b, false, nil
	}
	o.w.Reset(o.scratch[:0])
	if err := o.w.Value(v); err != nil {
		return nil, true, err
	}
	o.scratch = o.w.Buffer()
	return o.scratch, true, nil
}

// errTooLarge builds the sender's error for an oversized packet.
func (f *flowState) errTooLarge(n int) error {
	return fmt.Errorf("%w: a packet of %d bytes, the limit is %d", ErrTooLarge, n, f.s.ep.cfg.MaxPacket)
}

// send sends one packet: v is a []byte (raw) or a value for the codec.
// It waits while a whole chunk is already queued. Safe for concurrent use.
func (f *flowState) send(v any) error {
	if b, ok := v.([]byte); ok {
		return f.sendBytes(b)
	}
	o := &f.out
	if f.isDone() {
		return f.endErr()
	}
	o.encMu.Lock()
	defer o.encMu.Unlock()
	data, value, err := o.encode(v)
	if err != nil {
		return fmt.Errorf("flow: encode %T: %w", v, err)
	}
	return f.sendLocked(data, value)
}

// sendBytes sends a raw packet.
func (f *flowState) sendBytes(b []byte) error {
	if f.isDone() {
		return f.endErr()
	}
	f.out.encMu.Lock()
	defer f.out.encMu.Unlock()
	return f.sendLocked(b, false)
}

// sendLocked queues one packet's records; o.encMu is held.
func (f *flowState) sendLocked(data []byte, value bool) error {
	o := &f.out
	if len(data) > f.s.ep.cfg.MaxPacket {
		return f.errTooLarge(len(data))
	}
	chunk := f.s.ep.cfg.ChunkSize
	for first := true; first || len(data) > 0; first = false {
		o.mu.Lock()
		for o.cur != nil && len(o.cur)-headroom+maxRecordHeader+1 > chunk {
			if o.term != nil {
				o.mu.Unlock()
				return errors.New("flow: sending after the end")
			}
			o.mu.Unlock()
			select {
			case <-o.room:
			case <-f.done:
				return f.endErr()
			}
			o.mu.Lock()
		}
		if o.term != nil {
			o.mu.Unlock()
			return errors.New("flow: sending after the end")
		}
		if o.cur == nil {
			o.cur = f.s.ep.pool.get(headroom)
		}
		n := min(len(data), chunk-(len(o.cur)-headroom)-maxRecordHeader)
		o.cur = appendRecord(o.cur, data[:n], value, n < len(data))
		data = data[n:]
		start := !o.started
		if start {
			o.started = true
			o.fin = make(chan struct{})
		}
		o.mu.Unlock()
		if start && !f.s.ep.spawn(func() { f.pump() }) {
			close(o.fin)
			return f.abort(CodeClosed, "closed", ErrClosed)
		}
		signal(o.work)
	}
	return nil
}

// finishSend queues the terminal frame after what is queued; after, if
// not nil, ends the flow at this end (finishAfterQueued) once term is
// sent. The first call counts.
func (f *flowState) finishSend(term *frame, after *Error) {
	o := &f.out
	o.mu.Lock()
	if o.term != nil {
		o.mu.Unlock()
		return
	}
	o.term, o.after = term, after
	if !o.started {
		o.started = true
		o.fin = make(chan struct{})
		close(o.fin)
		o.mu.Unlock()
		f.sendTerm(term, after)
		return
	}
	o.mu.Unlock()
	signal(o.work)
}

// sendTerm sends the terminal frame, unless the flow is over, then ends
// the flow with after, if any.
func (f *flowState) sendTerm(term *frame, after *Error) {
	if f.isDone() {
		return
	}
	if err := f.s.w.send(term); err != nil {
		f.sendFailed(err)
		return
	}
	if after != nil {
		f.finishAfterQueued(after)
	}
}

// failedLocally reports the opener's own failure queued by finishSend, if
// any.
func (f *flowState) failedLocally() *Error {
	f.out.mu.Lock()
	defer f.out.mu.Unlock()
	return f.out.after
}

// waitSent waits for the pump, if one was started, to return.
func (f *flowState) waitSent() {
	o := &f.out
	o.mu.Lock()
	fin := o.fin
	o.mu.Unlock()
	if fin != nil {
		<-fin
	}
}

func (o *outbound) addCredit(f *flowState, n uint64) {
	o.mu.Lock()
	o.credit += int64(min(n, 1<<40))
	o.mu.Unlock()
	signal(o.work)
}

// pump sends chunks as credit and the connection allow, then the terminal
// frame. It returns when that is sent or the flow is over.
func (f *flowState) pump() {
	o := &f.out
	defer close(o.fin)
	comp := f.comp
	for {
		o.mu.Lock()
		hasData := len(o.cur) > headroom
		if !hasData && o.term != nil {
			term, after := o.term, o.after
			o.mu.Unlock()
			f.sendTerm(term, after)
			return
		}
		if !hasData || o.credit <= 0 {
			full := hasData && len(o.cur)-headroom+maxRecordHeader+1 > f.s.ep.cfg.ChunkSize
			o.mu.Unlock()
			if hook := f.s.ep.hookStall.Load(); full && hook != nil {
				(*hook)()
			}
			select {
			case <-o.work:
			case <-f.done:
				return
			}
			continue
		}
		o.mu.Unlock()
		if !f.s.pace(f) {
			return
		}
		o.mu.Lock()
		buf := o.cur
		o.cur = nil
		o.mu.Unlock()
		signal(o.room)

		payload, flags := buf, uint64(0)
		if comp != NoCompression {
			zb := f.s.ep.pool.get(headroom)
			if out, ok := f.s.ep.comp.compress(comp, zb, buf[headroom:]); ok {
				f.s.ep.pool.put(buf)
				payload, flags = out, flagCompressed
			} else {
				f.s.ep.pool.put(zb)
			}
		}
		n := len(payload) - headroom
		o.mu.Lock()
		o.credit -= int64(n)
		o.mu.Unlock()
		if f.isDone() {
			f.s.adjust(0)
			f.s.ep.pool.put(payload)
			return
		}
		err := f.s.w.sendData(f.id, flags, payload) // payload is the wire's now
		if err != nil {
			n = 0
		}
		f.s.adjust(n)
		if err != nil {
			f.sendFailed(err)
			return
		}
	}
}

// signal puts a token in a one-slot channel, if it has room.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
