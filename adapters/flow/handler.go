package flow

import (
	"context"
	"fmt"
	"io"
	"iter"
	"runtime/debug"

	gnet "github.com/gonetic/gonetic/net"
)

// Handler handles one flow. A handler struct is built for each flow by the
// constructor given to Handle, with the Flow to read and the Reply to
// answer through, then HandleFlow is called once.
//
// HandleFlow runs on a goroutine of its own, one per flow, never on the
// game's Update goroutine: it may block on the flow, and must synchronise
// with game state as any goroutine would (a channel to the game loop is
// the usual way). It reads the header (Flow.Header), ranges over the
// packets (Flow.Packets), may send messages back at any time (Reply.Send),
// and returns the flow's success value, or an error that ends the flow at
// both ends: the caller's result ends with an *Error carrying the error's
// text. A panic is recovered and reported the same way. It should return
// soon after its Flow's context is done.
type Handler interface {
	HandleFlow() (success any, err error)
}

// HandlerFunc is a handler as a function: see Server.HandleFunc and
// Station.HandleFunc.
type HandlerFunc func(f *Flow, r *Reply) (success any, err error)

type funcHandler struct {
	fn HandlerFunc
	f  *Flow
	r  *Reply
}

func (h funcHandler) HandleFlow() (any, error) { return h.fn(h.f, h.r) }

func (fn HandlerFunc) constructor() func(*Flow, *Reply) Handler {
	return func(f *Flow, r *Reply) Handler { return funcHandler{fn, f, r} }
}

// Flow is the reading side of a flow, as its handler sees it. Its methods
// are for the handler's goroutine.
type Flow struct{ f *flowState }

// Name is the name the flow was opened with (the handler's).
func (fl *Flow) Name() string { return fl.f.name }

// ID is the flow's number on its connection.
func (fl *Flow) ID() uint64 { return fl.f.id }

// Header is the flow's header, as the caller sent it (Request.Header).
func (fl *Flow) Header() Packet { return fl.f.header }

// Compression is the flow's compression, chosen by the caller.
func (fl *Flow) Compression() Compression { return fl.f.comp }

// Context is done when the flow is over: ended by the caller, by a lost
// connection, or by Close. When the caller ended it, Packets still yields
// the packets that arrived before the caller's end, then the error.
func (fl *Flow) Context() context.Context { return fl.f.ctx }

// Conn is the connection the flow came on, for a flow over a Station; nil
// over a dedicated listener.
func (fl *Flow) Conn() *gnet.Conn { return fl.f.s.conn }

// RemoteAddr is the caller's address.
func (fl *Flow) RemoteAddr() string { return fl.f.s.remote }

// Packets returns an iterator over the flow's packets, in order. It ends
// after the caller's last packet, or with an error (and no packet) when
// the flow ends early: the caller cancelled, its packet iterator panicked,
// its connection dropped, or this end closed; that error matches
// ErrAborted. When the caller ended the flow, the packets it sent before
// come first, then its error. Breaking out of the loop and ranging again continues where
// it stopped. A packet is valid until the loop body returns.
func (fl *Flow) Packets() iter.Seq2[Packet, error] {
	return func(yield func(Packet, error) bool) {
		for {
			p, err := fl.f.next()
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(Packet{}, err)
				return
			}
			if !yield(p, nil) {
				return
			}
		}
	}
}

// Reply sends messages back to the caller of a flow, in order, before the
// success value. Its methods are safe for concurrent use.
type Reply struct{ f *flowState }

// Send sends a message to the caller: a []byte travels as raw bytes,
// anything else is encoded with the codec. It waits while the caller's
// credit is used up (the caller reads slowly) and fails once the flow is
// over, or for a message larger than Config.MaxPacket (ErrTooLarge).
func (r *Reply) Send(msg any) error { return r.f.send(msg) }

// runHandler runs a handler flow on the goroutine admit counted, then
// sends its end and releases its slot.
func (f *flowState) runHandler(nh func(*Flow, *Reply) Handler) {
	defer f.s.ep.release()
	val, err := f.call(nh)
	if f.isDone() { // aborted meanwhile: the peer knows, or cannot be told
		f.waitSent()
		return
	}
	var term *frame
	if err != nil {
		term = &frame{kind: kFail, flow: f.id, n: uint64(CodeHandler), text: err.Error()}
	} else {
		f.out.encMu.Lock()
		data, value, eerr := f.out.encode(val)
		switch {
		case eerr != nil:
			term = &frame{kind: kFail, flow: f.id, n: uint64(CodeHandler), text: fmt.Sprintf("encode the success value (%T): %v", val, eerr)}
		case len(data) > MaxChunkSize:
			term = &frame{kind: kFail, flow: f.id, n: uint64(CodeTooLarge), text: fmt.Sprintf("success value of %d bytes, more than %d", len(data), MaxChunkSize)}
		default:
			var flags uint64
			if value {
				flags = flagValue
			}
			term = &frame{kind: kEnd, flow: f.id, flags: flags, data: append([]byte(nil), data...)}
		}
		f.out.encMu.Unlock()
	}
	f.finishSend(term, nil)
	f.waitSent()
	if term.kind == kFail {
		f.finish(&Error{Name: f.name, Code: Code(term.n), Message: term.text, Err: err})
	} else {
		f.finish(nil)
	}
}

// call runs the handler, turning a panic into an error.
func (f *flowState) call(nh func(*Flow, *Reply) Handler) (val any, err error) {
	defer func() {
		if p := recover(); p != nil {
			stack := debug.Stack()
			f.s.ep.cfg.Logger.Error("flow: handler panicked", "name", f.name, "remote", f.s.remote, "panic", p, "stack", string(stack))
			val, err = nil, fmt.Errorf("the handler panicked: %v", p)
		}
	}()
	h := nh(&Flow{f}, &Reply{f})
	if h == nil {
		return nil, fmt.Errorf("the handler constructor for %q returned nil", f.name)
	}
	return h.HandleFlow()
}
