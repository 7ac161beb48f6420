package flow

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"runtime/debug"
)

// Request is what opens a flow, besides its packets.
type Request struct {
	// Name selects the handler, as registered on the other end with
	// Handle or HandleFunc.
	Name string
	// Header is what the handler reads first (Flow.Header): nil, a []byte
	// (sent as it is) or a value the codec encodes (a struct, a map). At
	// most MaxChunkSize bytes once encoded.
	Header any
	// Compression compresses the flow's chunks, both ways. Default none.
	Compression Compression
	// OnMessage, when set, sees every message the handler sends back (not
	// the final value) as it arrives, in order, before it is yielded: the
	// station's message_received listener. It runs on the goroutine that
	// ranges the result.
	OnMessage func(Packet)
}

// Caller is where a flow goes: a *Client (a dedicated flow listener), or
// one connection of a Station (Station.Over).
type Caller interface {
	session() (*session, error)
}

// Call opens a flow to the handler named req.Name and sends it packets,
// lazily: nothing is sent until the returned iterator is ranged over.
//
// Ranging the result starts the flow: flow_open goes out with the header,
// then the packets iterator runs, on a goroutine of its own, and each
// packet is sent as it is produced, within the handler's credit (so a
// producer faster than the handler waits, holding at most about one
// Config.Window plus two chunks in memory). A []byte packet travels as it
// is (the fast path; the iterator may reuse its buffer once yield returns);
// anything else is encoded with the codec: a struct, or a map[string]any
// (the generic packet map). packets may be nil, for a flow that is only a
// header.
//
// The result yields what comes back in order: the handler's messages,
// then its success value (Packet.Final), which ends a successful flow. A
// failed flow ends instead with a non-nil error, an *Error: the handler's
// error (ErrHandler, with its text), a refusal (ErrNoHandler,
// ErrTooManyFlows), a lost connection (ErrConnLost), an oversized packet
// (ErrTooLarge, found here, before it is sent), ctx's end (wrapping
// ctx's error), or a panic of the packets iterator (wrapping a
// *PanicError). Once the flow has failed the packets iterator is stopped:
// its yield returns false.
//
// A failure of the caller's own side after packets were yielded (the
// iterator panics, a packet is too large or does not encode) comes after
// them at both ends: the packets yielded before it are sent, the handler
// reads them and then the failure (ErrAborted), and the result yields the
// handler's messages that arrived until then, then the failure. ctx's end
// and breaking out of the range, by contrast, stop the flow at once.
//
// Breaking out of the range aborts the flow: the handler's packet range
// ends with ErrAborted. The range returns only after the packets iterator
// has returned, so an iterator that blocks must watch ctx. A flow that
// travels over a Station needs the Station's connection's Update to run:
// never range the result on the goroutine that calls Update.
func Call[P any](ctx context.Context, to Caller, req Request, packets iter.Seq[P]) iter.Seq2[Packet, error] {
	return func(yield func(Packet, error) bool) {
		if to == nil {
			yield(Packet{}, errors.New("flow: Call to a nil Caller"))
			return
		}
		if err := ctx.Err(); err != nil {
			yield(Packet{}, &Error{Name: req.Name, Code: CodeAborted, Message: "the caller cancelled: " + err.Error(), Err: err})
			return
		}
		s, err := to.session()
		if err != nil {
			var fe *Error
			if errors.As(err, &fe) && fe.Name == "" {
				fe.Name = req.Name
			}
			yield(Packet{}, err)
			return
		}
		f, err := s.open(&req)
		if err != nil {
			yield(Packet{}, err)
			return
		}
		produced := make(chan struct{})
		if !s.ep.spawn(func() {
			defer close(produced)
			produce(f, packets)
		}) {
			close(produced)
			f.finish(&Error{Name: req.Name, Code: CodeClosed, Message: "closed", Err: ErrClosed})
		}
		stop := context.AfterFunc(ctx, func() {
			cause := context.Cause(ctx)
			f.abort(CodeAborted, "the caller cancelled: "+cause.Error(), cause)
		})
		defer func() {
			stop()
			// Does nothing after a normal end; stops the producer if the
			// loop body broke out or panicked.
			f.abort(CodeAborted, "the caller stopped reading the result", nil)
			<-produced
			f.waitSent()
		}()
		for {
			p, err := f.next()
			if err != nil {
				yield(Packet{}, err)
				return
			}
			if p.final {
				// The handler's success crossed this end's own failure:
				// the caller must hear of its iterator's failure.
				if e := f.failedLocally(); e != nil {
					f.finish(e)
					yield(Packet{}, e)
					return
				}
				f.finish(nil)
				yield(p, nil)
				return
			}
			if req.OnMessage != nil {
				req.OnMessage(p)
			}
			if !yield(p, nil) {
				return
			}
		}
	}
}

// produce runs the caller's packet iterator and sends what it yields. A
// failure (a panic, a packet too large or that does not encode) ends the
// flow after the packets yielded before it: they are sent, then
// flow_fail, and only then does the flow end at this end too.
func produce[P any](f *flowState, packets iter.Seq[P]) {
	defer func() {
		if p := recover(); p != nil {
			pe := &PanicError{Value: p, Stack: debug.Stack()}
			f.failAfterSent(CodeAborted, fmt.Sprintf("the caller's packet iterator panicked: %v", p), pe)
		}
	}()
	if packets != nil {
		for p := range packets {
			var err error
			if b, ok := any(p).([]byte); ok {
				err = f.sendBytes(b) // no boxing on the fast path
			} else {
				err = f.send(p)
			}
			if err != nil {
				switch {
				case f.isDone():
				case errors.Is(err, ErrTooLarge):
					f.failAfterSent(CodeTooLarge, err.Error(), err)
				default:
					f.failAfterSent(CodeAborted, err.Error(), err)
				}
				return
			}
		}
	}
	f.finishSend(&frame{kind: kEnd, flow: f.id}, nil)
}

// failAfterSent ends the opener's flow with its own failure once what it
// queued before is sent: the handler reads those packets, then the
// failure; the caller reads what the handler sent until then, then the
// failure.
func (f *flowState) failAfterSent(code Code, msg string, cause error) {
	e := &Error{Name: f.name, Code: code, Message: msg, Err: cause}
	f.finishSend(&frame{kind: kFail, flow: f.id, n: uint64(code), text: msg}, e)
}
