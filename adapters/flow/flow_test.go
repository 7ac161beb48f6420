package flow

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/json"
	"github.com/gonetic/gonetic/adapters/mem"
	"github.com/gonetic/gonetic/adapters/msgpack"
	"github.com/gonetic/gonetic/message"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/nettest"
)

func msgpackCodec() message.Codec { return msgpack.New() }

// Entity is a typed packet.
type Entity struct {
	ID   uint64
	X, Y float32
	Name string
}

// RegionHeader is a typed header.
type RegionHeader struct {
	Region string
	Count  int
}

// Summary is a typed success value.
type Summary struct {
	Entities int
	Raw      int
	Sum      uint64
}

func entities(n int) iter.Seq[Entity] {
	return func(yield func(Entity) bool) {
		for i := range n {
			if !yield(Entity{ID: uint64(i), X: float32(i), Y: -1, Name: fmt.Sprint("e", i)}) {
				return
			}
		}
	}
}

// counting yields n raw packets of size bytes (the first 8 are the index)
// and counts them.
func counting(n, size int, produced *atomic.Int64) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		buf := make([]byte, size)
		for i := 0; n < 0 || i < n; i++ {
			binary.LittleEndian.PutUint64(buf, uint64(i))
			produced.Add(1)
			if !yield(buf) {
				return
			}
		}
	}
}

func TestRoundTrip(t *testing.T) {
	forEach(t, func(t *testing.T, c carrier) {
		e := c.new(t, Config{}, Config{})
		e.handle("region", func(f *Flow, r *Reply) (any, error) {
			if f.Name() != "region" || f.ID()%2 != 1 || f.RemoteAddr() == "" || (f.Conn() != nil) != e.shared {
				return nil, fmt.Errorf("flow %q id %d from %q", f.Name(), f.ID(), f.RemoteAddr())
			}
			var h RegionHeader
			if err := f.Header().Decode(&h); err != nil {
				return nil, err
			}
			var s Summary
			for ent, err := range Decode[Entity](f.Packets()) {
				if err != nil {
					return nil, err
				}
				if ent.Name != fmt.Sprint("e", ent.ID) || ent.X != float32(ent.ID) {
					return nil, fmt.Errorf("bad entity %+v", ent)
				}
				s.Entities++
				s.Sum += ent.ID
				if s.Entities%100 == 0 {
					if err := r.Send(fmt.Appendf(nil, "progress %d", s.Entities)); err != nil {
						return nil, err
					}
				}
			}
			if s.Entities != h.Count {
				return nil, fmt.Errorf("got %d entities, header says %d", s.Entities, h.Count)
			}
			return s, nil
		})
		var heard []string
		req := Request{
			Name: "region", Header: RegionHeader{"north", 1000},
			OnMessage: func(p Packet) { heard = append(heard, string(p.Bytes())) },
		}
		msgs, final, err := collect(Call(context.Background(), e.caller, req, entities(1000)))
		if err != nil {
			t.Fatalf("flow failed: %v", err)
		}
		if len(msgs) != 10 || len(heard) != 10 {
			t.Fatalf("got %d messages, listener heard %d, want 10", len(msgs), len(heard))
		}
		for i, m := range msgs {
			if want := fmt.Sprint("progress ", (i+1)*100); string(m) != want || heard[i] != want {
				t.Fatalf("message %d is %q (listener %q), want %q", i, m, heard[i], want)
			}
		}
		var s Summary
		if err := final.Decode(&s); err != nil {
			t.Fatal(err)
		}
		if s.Entities != 1000 || s.Sum != 999*1000/2 {
			t.Fatalf("summary %+v", s)
		}
		// The generic packet map reads the same value.
		v, err := final.Value()
		if err != nil {
			t.Fatal(err)
		}
		if m, ok := v.(map[string]any); !ok || fmt.Sprint(m["Entities"]) != "1000" {
			t.Fatalf("final as generic value: %#v", v)
		}
	})
}

// regionHandler is a handler struct, built per flow.
type regionHandler struct {
	f *Flow
	r *Reply
}

func (h *regionHandler) HandleFlow() (any, error) {
	n, total := 0, 0
	for p, err := range h.f.Packets() {
		if err != nil {
			return nil, err
		}
		if p.IsValue() {
			var m map[string]any
			if err := p.Decode(&m); err != nil {
				return nil, err
			}
			if m["kind"] != "tree" {
				return nil, fmt.Errorf("packet map %v", m)
			}
		} else if !bytes.Equal(p.Bytes(), bytes.Repeat([]byte{byte(n)}, n)) {
			return nil, fmt.Errorf("raw packet %d: %d bytes", n, p.Len())
		}
		n++
		total += p.Len()
	}
	return []byte(fmt.Sprint(n)), nil
}

func TestHandlerStructAndMixedPackets(t *testing.T) {
	forEach(t, func(t *testing.T, c carrier) {
		e := c.new(t, Config{ChunkSize: 4096}, Config{ChunkSize: 4096})
		e.handleStruct("mixed", func(f *Flow, r *Reply) Handler { return &regionHandler{f, r} })
		packets := func(yield func(any) bool) {
			for i := range 300 {
				var p any = bytes.Repeat([]byte{byte(i)}, i) // raw, some split over chunks
				if i%3 == 0 {
					p = map[string]any{"kind": "tree", "i": i} // the generic packet map
				}
				if i == 299 {
					p = bytes.Repeat([]byte{byte(i)}, i) // exercise below
				}
				if !yield(p) {
					return
				}
			}
		}
		final, err := Wait(Call(context.Background(), e.caller, Request{Name: "mixed"}, packets))
		if err != nil {
			t.Fatal(err)
		}
		if string(final.Bytes()) != "300" || final.IsValue() {
			t.Fatalf("final %v %q", final, final.Bytes())
		}
	})
}

func TestLargePacketsAreSplit(t *testing.T) {
	forEach(t, func(t *testing.T, c carrier) {
		cfg := Config{ChunkSize: 16 << 10, Window: 64 << 10}
		e := c.new(t, cfg, cfg)
		e.handle("big", func(f *Flow, r *Reply) (any, error) {
			i := 0
			for p, err := range f.Packets() {
				if err != nil {
					return nil, err
				}
				if p.Len() != 200_000+i || p.Bytes()[p.Len()-1] != byte(i) {
					return nil, fmt.Errorf("packet %d: %d bytes", i, p.Len())
				}
				i++
			}
			// A reply larger than a chunk, too.
			if err := r.Send(bytes.Repeat([]byte{7}, 100_000)); err != nil {
				return nil, err
			}
			return i, nil
		})
		packets := func(yield func([]byte) bool) {
			for i := range 5 {
				b := make([]byte, 200_000+i)
				b[len(b)-1] = byte(i)
				if !yield(b) {
					return
				}
			}
		}
		msgs, final, err := collect(Call(context.Background(), e.caller, Request{Name: "big"}, packets))
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := final.Decode(&n); err != nil || n != 5 || len(msgs) != 1 || len(msgs[0]) != 100_000 {
			t.Fatalf("final %d (%v), %d messages", n, err, len(msgs))
		}
	})
}

func TestHandlerErrorStopsProducer(t *testing.T) {
	forEach(t, func(t *testing.T, c carrier) {
		e := c.new(t, Config{}, Config{})
		e.handle("fail", func(f *Flow, r *Reply) (any, error) {
			n := 0
			for _, err := range f.Packets() {
				if err != nil {
					return nil, err
				}
				if n++; n == 500 {
					return nil, errors.New("disk full at packet 500")
				}
			}
			return nil, nil
		})
		var produced atomic.Int64
		_, _, err := collect(Call(context.Background(), e.caller, Request{Name: "fail"}, counting(-1, 100, &produced)))
		var fe *Error
		if !errors.As(err, &fe) || !errors.Is(err, ErrHandler) || !fe.Remote || fe.Message != "disk full at packet 500" {
			t.Fatalf("got %v, want the handler's error", err)
		}
		if !strings.Contains(err.Error(), "disk full at packet 500") {
			t.Fatalf("error text %q lacks the handler's message", err)
		}
		// The producer stopped: what it made fits the credit window.
		if n := produced.Load(); n > 500+int64(2*DefaultWindow+4*DefaultChunkSize)/100 {
			t.Fatalf("producer made %d packets after the handler failed at 500", n)
		}
	})
}

// The handler's messages sent before its error reach the caller before the
// error, even when the error arrived before the caller read them.
func TestRepliesBeforeHandlerError(t *testing.T) {
	forEach(t, func(t *testing.T, c carrier) {
		e := c.new(t, Config{}, Config{})
		e.handle("fail", func(f *Flow, r *Reply) (any, error) {
			for i := range 3 {
				if err := r.Send([]byte{byte(i)}); err != nil {
					return nil, err
				}
			}
			return nil, errors.New("the disk is on fire")
		})
		s, err := e.caller.session()
		if err != nil {
			t.Fatal(err)
		}
		var got []byte
		var end error
		for p, err := range Call(context.Background(), e.caller, Request{Name: "fail"}, iter.Seq[[]byte](nil)) {
			if err != nil {
				end = err
				break
			}
			if len(got) == 0 {
				// Wait until the handler's failure arrived: the flow is
				// over at this end, with two replies still queued.
				waitFor(t, "the handler's failure to arrive", func() bool {
					s.mu.Lock()
					defer s.mu.Unlock()
					return len(s.flows) == 0
				})
			}
			got = append(got, p.Bytes()[0])
		}
		if !bytes.Equal(got, []byte{0, 1, 2}) {
			t.Fatalf("got replies %v before the error, want [0 1 2]", got)
		}
		if !errors.Is(end, ErrHandler) || !strings.Contains(end.Error(), "the disk is on fire") {
			t.Fatalf("flow ended with %v, want the handler's error", end)
		}
	})
}

func TestHandlerPanic(t *testing.T) {
	forEach(t, func(t *testing.T, c carrier) {
		e := c.new(t, Config{}, Config{})
		e.handle("panic", func(f *Flow, r *Reply) (any, error) {
			panic("boom")
		})
		_, err := Wait(Call(context.Background(), e.caller, Request{Name: "panic"}, counting(10, 10, new(atomic.Int64))))
		if !errors.Is(err, ErrHandler) || !strings.Contains(err.Error(), "boom") {
			t.Fatalf("got %v", err)
		}
	})
}

// abortHandler records how a handler's range ended.
func abortHandler(e *env, started chan struct{}, ended chan error) {
	e.handle("sink", func(f *Flow, r *Reply) (any, error) {
		n := 0
		for _, err := range f.Packets() {
			if err != nil {
				ended <- err
				return nil, err
			}
			if n++; n == 100 {
				close(started)
			}
		}
		ended <- nil
		return n, nil
	})
}

func TestClientIteratorPanic(t *testing.T) {
	forEach(t, func(t *testing.T, c carrier) {
		e := c.new(t, Config{}, Config{})
		started, ended := make(chan struct{}), make(chan error, 1)
		abortHandler(e, started, ended)
		packets := func(yield func([]byte) bool) {
			for i := 0; ; i++ {
				if i == 200 {
					panic("iterator exploded")
				}
				if !yield([]byte("x")) {
					return
				}
			}
		}
		_, err := Wait(Call(context.Background(), e.caller, Request{Name: "sink"}, packets))
		var pe *PanicError
		if !errors.As(err, &pe) || pe.Value != "iterator exploded" || !errors.Is(err, ErrAborted) {
			t.Fatalf("client got %v, want a panic error", err)
		}
		herr := wait(t, ended, "the handler's range to end")
		if !errors.Is(herr, ErrAborted) || !strings.Contains(herr.Error(), "iterator exploded") {
			t.Fatalf("handler's range ended with %v", herr)
		}
	})
}

// A caller's packet iterator that fails after yielding (a panic in a tight
// loop, an oversized or unencodable packet): the handler reads every packet
// yielded before the failure, then the failure; the caller gets the failure.
func TestFailureAfterYields(t *testing.T) {
	const yielded = 100
	for _, tc := range []struct {
		name string
		fail func(yield func(any) bool) // called after the good packets
		is   error                      // what both ends' errors match
		text string                     // what both ends' errors say
	}{
		{"panic", func(func(any) bool) { panic("iterator exploded") }, ErrAborted, "iterator exploded"},
		{"too large", func(yield func(any) bool) { yield(make([]byte, 1001)) }, ErrTooLarge, "1001"},
		{"unencodable", func(yield func(any) bool) { yield(make(chan int)) }, ErrAborted, "chan int"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEach(t, func(t *testing.T, c carrier) {
				cfg := Config{MaxPacket: 1000}
				e := c.new(t, cfg, cfg)
				type result struct {
					n   int
					err error
				}
				ended := make(chan result, 1)
				e.handle("sink", func(f *Flow, r *Reply) (any, error) {
					n := 0
					for p, err := range f.Packets() {
						if err != nil {
							ended <- result{n, err}
							return nil, err
						}
						if got := binary.LittleEndian.Uint64(p.Bytes()); got != uint64(n) {
							err := fmt.Errorf("packet %d arrived as number %d", got, n)
							ended <- result{n, err}
							return nil, err
						}
						n++
					}
					ended <- result{n, nil}
					return n, nil
				})
				packets := func(yield func(any) bool) {
					for i := range yielded { // a tight loop: all queued when it fails
						if !yield(binary.LittleEndian.AppendUint64(nil, uint64(i))) {
							return
						}
					}
					tc.fail(yield)
				}
				_, err := Wait(Call(context.Background(), e.caller, Request{Name: "sink"}, packets))
				if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.text) {
					t.Fatalf("caller got %v, want %v saying %q", err, tc.is, tc.text)
				}
				if pe := (*PanicError)(nil); tc.name == "panic" && !errors.As(err, &pe) {
					t.Fatalf("caller got %v, want a *PanicError", err)
				}
				got := wait(t, ended, "the handler's range to end")
				if got.n != yielded || !errors.Is(got.err, tc.is) || !strings.Contains(got.err.Error(), tc.text) {
					t.Fatalf("handler read %d packets then %v; want %d, then %v saying %q", got.n, got.err, yielded, tc.is, tc.text)
				}
			})
		})
	}
}

// The handler's messages that reached the caller before the caller's own
// failure are read before that failure, as they are before a handler's.
func TestRepliesBeforeCallerFailure(t *testing.T) {
	forEach(t, func(t *testing.T, c carrier) {
		e := c.new(t, Config{}, Config{})
		first := make(chan struct{}) // the caller read the first reply
		e.handle("chatty", func(f *Flow, r *Reply) (any, error) {
			for i := range 3 {
				if err := r.Send([]byte{byte(i)}); err != nil {
					return nil, err
				}
				if i == 0 { // the others come in chunks of their own, queued
					select {
					case <-first:
					case <-f.Context().Done():
						return nil, f.Context().Err()
					}
				}
			}
			for _, err := range f.Packets() {
				if err != nil {
					return nil, err
				}
			}
			return nil, nil
		})
		s, err := e.caller.session()
		if err != nil {
			t.Fatal(err)
		}
		// unread counts the replies that arrived in chunks not read yet,
		// or is -1 once the flow is over at this end.
		unread := func() int {
			s.mu.Lock()
			defer s.mu.Unlock()
			n := -1
			for _, f := range s.flows {
				n = 0
				f.in.mu.Lock()
				for _, it := range f.in.items {
					n += records(it.data, 0)
				}
				f.in.mu.Unlock()
			}
			return n
		}
		read := make(chan struct{})
		packets := func(yield func([]byte) bool) {
			select {
			case <-read: // the caller read the first reply; two wait
			case <-time.After(deadline): // the test failed
				return
			}
			panic("iterator exploded")
		}
		var got []byte
		var end error
		for p, err := range Call(context.Background(), e.caller, Request{Name: "chatty"}, packets) {
			if err != nil {
				end = err
				break
			}
			if len(got) == 0 {
				close(first)
				waitFor(t, "the other two replies", func() bool { return unread() == 2 })
				close(read)
				// The flow is over at this end, two replies still unread.
				waitFor(t, "the caller's failure to end the flow", func() bool { return unread() == -1 })
			}
			got = append(got, p.Bytes()[0])
		}
		var pe *PanicError
		if !bytes.Equal(got, []byte{0, 1, 2}) || !errors.As(end, &pe) {
			t.Fatalf("got replies %v, then %v; want [0 1 2], then the iterator's panic", got, end)
		}
	})
}

// records counts the records of chunk from pos on.
func records(chunk []byte, pos int) int {
	n := 0
	for pos < len(chunk) {
		_, _, _, end, err := nextRecord(chunk, pos)
		if err != nil {
			return n
		}
		n, pos = n+1, end
	}
	return n
}

func TestContextCancel(t *testing.T) {
	forEach(t, func(t *testing.T, c carrier) {
		e := c.new(t, Config{}, Config{})
		started, ended := make(chan struct{}), make(chan error, 1)
		abortHandler(e, started, ended)
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			<-started
			cancel()
		}()
		var produced atomic.Int64
		_, err := Wait(Call(ctx, e.caller, Request{Name: "sink"}, counting(-1, 10, &produced)))
		if !errors.Is(err, context.Canceled) || !errors.Is(err, ErrAborted) {
			t.Fatalf("client got %v", err)
		}
		herr := wait(t, ended, "the handler's range to end")
		if !errors.Is(herr, ErrAborted) || !strings.Contains(herr.Error(), "cancel") {
			t.Fatalf("handler's range ended with %v", herr)
		}
	})
}

func TestStopReading(t *testing.T) {
	forEach(t, func(t *testing.T, c carrier) {
		e := c.new(t, Config{}, Config{})
		ended := make(chan error, 1)
		e.handle("chatty", func(f *Flow, r *Reply) (any, error) {
			for i := 0; ; i++ {
				if err := r.Send(i); err != nil {
					ended <- err
					return nil, err
				}
			}
		})
		n := 0
		for _, err := range Call[[]byte](context.Background(), e.caller, Request{Name: "chatty"}, nil) {
			if err != nil {
				t.Fatal(err)
			}
			if n++; n == 50 {
				break
			}
		}
		if err := wait(t, ended, "the handler to notice"); !errors.Is(err, ErrAborted) {
			t.Fatalf("handler's Send failed with %v", err)
		}
	})
}

func TestConnectionDrop(t *testing.T) {
	forEach(t, func(t *testing.T, c carrier) {
		e := c.new(t, Config{}, Config{})
		started, ended := make(chan struct{}), make(chan error, 1)
		abortHandler(e, started, ended)
		go func() {
			<-started
			e.dropClient()
		}()
		_, err := Wait(Call(context.Background(), e.caller, Request{Name: "sink"}, counting(-1, 10, new(atomic.Int64))))
		if !errors.Is(err, ErrAborted) {
			t.Fatalf("client got %v", err)
		}
		herr := wait(t, ended, "the handler's range to end")
		if !errors.Is(herr, ErrAborted) || !errors.Is(herr, ErrConnLost) {
			t.Fatalf("handler's range ended with %v", herr)
		}
	})
}

func TestServerDeath(t *testing.T) {
	forEach(t, func(t *testing.T, c carrier) {
		e := c.new(t, Config{}, Config{})
		started := make(chan struct{})
		e.handle("sink", func(f *Flow, r *Reply) (any, error) {
			n := 0
			for _, err := range f.Packets() {
				if err != nil {
					return nil, err
				}
				if n++; n == 100 {
					close(started)
				}
			}
			return nil, nil
		})
		go func() {
			<-started
			e.killServer()
		}()
		_, err := Wait(Call(context.Background(), e.caller, Request{Name: "sink"}, counting(-1, 10, new(atomic.Int64))))
		if !errors.Is(err, ErrConnLost) {
			t.Fatalf("client got %v, want the connection lost", err)
		}
	})
}

func TestOversizedPacket(t *testing.T) {
	forEach(t, func(t *testing.T, c carrier) {
		cfg := Config{MaxPacket: 1000}
		e := c.new(t, cfg, cfg)
		ended := make(chan error, 1)
		e.handle("sink", func(f *Flow, r *Reply) (any, error) {
			for _, err := range f.Packets() {
				if err != nil {
					ended <- err
					return nil, err
				}
			}
			ended <- nil
			return nil, nil
		})
		packets := func(yield func([]byte) bool) {
			_ = yield(make([]byte, 1000)) && yield(make([]byte, 1001)) && yield(make([]byte, 10))
		}
		_, err := Wait(Call(context.Background(), e.caller, Request{Name: "sink"}, packets))
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "1001") {
			t.Fatalf("client got %v", err)
		}
		if herr := wait(t, ended, "the handler's range to end"); !errors.Is(herr, ErrAborted) {
			t.Fatalf("handler's range ended with %v", herr)
		}
	})
}

func TestReceiverLimit(t *testing.T) {
	forEach(t, func(t *testing.T, c carrier) {
		e := c.new(t, Config{MaxPacket: 1000}, Config{MaxPacket: 1 << 20})
		ended := make(chan error, 1)
		e.handle("sink", func(f *Flow, r *Reply) (any, error) {
			for _, err := range f.Packets() {
				if err != nil {
					ended <- err
					return nil, err
				}
			}
			return nil, nil
		})
		packets := func(yield func([]byte) bool) {
			for yield(make([]byte, 5000)) {
			}
		}
		_, err := Wait(Call(context.Background(), e.caller, Request{Name: "sink"}, packets))
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("client got %v", err)
		}
		if herr := wait(t, ended, "the handler's range to end"); !errors.Is(herr, ErrTooLarge) {
			t.Fatalf("handler's range ended with %v", herr)
		}
	})
}

func TestFlowLimit(t *testing.T) {
	forEach(t, func(t *testing.T, c carrier) {
		e := c.new(t, Config{MaxFlows: 2}, Config{})
		release := make(chan struct{})
		running := make(chan struct{}, 2)
		e.handle("hold", func(f *Flow, r *Reply) (any, error) {
			running <- struct{}{}
			select {
			case <-release:
			case <-f.Context().Done():
			}
			return "ok", nil
		})
		results := make(chan error, 2)
		for range 2 {
			go func() {
				_, err := Wait(Call[[]byte](context.Background(), e.caller, Request{Name: "hold"}, nil))
				results <- err
			}()
		}
		wait(t, running, "flow 1")
		wait(t, running, "flow 2")
		_, err := Wait(Call[[]byte](context.Background(), e.caller, Request{Name: "hold"}, nil))
		if !errors.Is(err, ErrTooManyFlows) || !strings.Contains(err.Error(), "MaxFlows") {
			t.Fatalf("third flow got %v", err)
		}
		_, err = Wait(Call[[]byte](context.Background(), e.caller, Request{Name: "nobody"}, nil))
		if !errors.Is(err, ErrNoHandler) {
			t.Fatalf("unknown handler got %v", err)
		}
		close(release)
		for range 2 {
			if err := wait(t, results, "held flows"); err != nil {
				t.Fatal(err)
			}
		}
		// The slots are free again.
		if _, err := Wait(Call[[]byte](context.Background(), e.caller, Request{Name: "hold"}, nil)); err != nil {
			t.Fatal(err)
		}
	})
}

func TestManyFlowsAtOnce(t *testing.T) {
	forEach(t, func(t *testing.T, c carrier) {
		e := c.new(t, Config{}, Config{})
		e.handle("sum", func(f *Flow, r *Reply) (any, error) {
			var sum uint64
			for p, err := range f.Packets() {
				if err != nil {
					return nil, err
				}
				sum += binary.LittleEndian.Uint64(p.Bytes())
			}
			return sum, nil
		})
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for i := range 16 {
			wg.Go(func() {
				n := 200 + i*50
				final, err := Wait(Call(context.Background(), e.caller, Request{Name: "sum"}, counting(n, 3000, new(atomic.Int64))))
				var sum uint64
				if err == nil {
					err = final.Decode(&sum)
				}
				if err == nil && sum != uint64(n*(n-1)/2) {
					err = fmt.Errorf("flow %d: sum %d", i, sum)
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
	})
}

func TestBackpressure(t *testing.T) {
	forEach(t, func(t *testing.T, c carrier) {
		cfg := Config{Window: 256 << 10, ChunkSize: 32 << 10}
		e := c.new(t, cfg, cfg)
		stalled := make(chan struct{})
		var once sync.Once
		hook := func() { once.Do(func() { close(stalled) }) }
		e.clientEP.hookStall.Store(&hook)
		release := make(chan struct{})
		var consumed atomic.Int64
		e.handle("slow", func(f *Flow, r *Reply) (any, error) {
			for _, err := range f.Packets() {
				if err != nil {
					return nil, err
				}
				if consumed.Add(1) == 1 {
					select { // a handler stuck on its first packet
					case <-release:
					case <-f.Context().Done():
						return nil, f.Context().Err()
					}
				}
			}
			return consumed.Load(), nil
		})
		var produced atomic.Int64
		done := make(chan error, 1)
		go func() {
			_, err := Wait(Call(context.Background(), e.caller, Request{Name: "slow"}, counting(20_000, 1000, &produced)))
			done <- err
		}()
		wait(t, stalled, "the sender to run out of credit")
		// Credit covers a window; the sender holds at most two chunks more.
		bound := int64(cfg.Window+2*cfg.ChunkSize)/1000 + 2
		if p := produced.Load(); p > bound {
			t.Fatalf("produced %d packets of 1000 bytes while the handler was stuck; bound %d", p, bound)
		}
		close(release)
		if err := wait(t, done, "the flow"); err != nil {
			t.Fatal(err)
		}
		if consumed.Load() != 20_000 {
			t.Fatalf("consumed %d", consumed.Load())
		}
	})
}

func TestCompression(t *testing.T) {
	for _, comp := range []Compression{S2, Zstd} {
		t.Run(comp.String(), func(t *testing.T) {
			forEach(t, func(t *testing.T, c carrier) {
				e := c.new(t, Config{}, Config{})
				e.handle("echo", func(f *Flow, r *Reply) (any, error) {
					n := 0
					for p, err := range f.Packets() {
						if err != nil {
							return nil, err
						}
						if want := line(n); string(p.Bytes()) != want {
							return nil, fmt.Errorf("packet %d: %q", n, p.Bytes())
						}
						if n%1000 == 0 {
							if err := r.Send(p.Bytes()); err != nil {
								return nil, err
							}
						}
						n++
					}
					if f.Compression() != comp {
						return nil, fmt.Errorf("compression %v", f.Compression())
					}
					return n, nil
				})
				const n = 20_000
				raw := 0
				packets := func(yield func([]byte) bool) {
					for i := range n {
						raw += len(line(i))
						if !yield([]byte(line(i))) {
							return
						}
					}
				}
				before := e.sent()
				msgs, final, err := collect(Call(context.Background(), e.caller, Request{Name: "echo", Compression: comp}, packets))
				if err != nil {
					t.Fatal(err)
				}
				var got int
				if err := final.Decode(&got); err != nil || got != n || len(msgs) != n/1000 || string(msgs[3]) != line(3000) {
					t.Fatalf("final %d (%v), %d messages", got, err, len(msgs))
				}
				if sent := e.sent() - before; sent > uint64(raw)/3 {
					t.Fatalf("sent %d bytes for %d bytes of packets: not compressed", sent, raw)
				}
			})
		})
	}
}

func line(i int) string {
	return fmt.Sprintf("entity %08d at (%d, %d) kind=tree hp=100 owner=nobody;", i, i%640, i%480)
}

func TestLazyStart(t *testing.T) {
	forEach(t, func(t *testing.T, c carrier) {
		e := c.new(t, Config{}, Config{})
		var mu sync.Mutex
		var opened []string
		hook := func(name string) {
			mu.Lock()
			opened = append(opened, name)
			mu.Unlock()
		}
		e.serverEP.hookOpened.Store(&hook)
		count := func(yield func([]byte) bool) {}
		e.handle("lazy", func(f *Flow, r *Reply) (any, error) {
			n := 0
			for _, err := range f.Packets() {
				if err != nil {
					return nil, err
				}
				n++
			}
			return n, nil
		})
		e.handle("probe", func(f *Flow, r *Reply) (any, error) { return nil, nil })
		var iterated atomic.Bool
		packets := func(yield func([]byte) bool) {
			iterated.Store(true)
			for range 10 {
				if !yield([]byte("p")) {
					return
				}
			}
		}
		results := Call(context.Background(), e.caller, Request{Name: "lazy"}, packets)
		// Another flow on the same connection, opened after Call returned:
		// frames arrive in order, so had Call sent anything, the server
		// would have seen "lazy" open first.
		if _, err := Wait(Call(context.Background(), e.caller, Request{Name: "probe"}, count)); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		seen := fmt.Sprint(opened)
		mu.Unlock()
		if seen != "[probe]" {
			t.Fatalf("the server saw flows opened: %s; want only the probe before the lazy result is ranged", seen)
		}
		if iterated.Load() {
			t.Fatal("the packet iterator ran before the result was ranged over")
		}
		final, err := Wait(results)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := final.Decode(&n); err != nil || n != 10 {
			t.Fatalf("final %d, %v", n, err)
		}
	})
}

func TestGameMessagesNotStarved(t *testing.T) {
	forEach(t, func(t *testing.T, c carrier) {
		e := c.new(t, Config{}, Config{})
		if !e.shared {
			return // the dedicated listener carries no game messages: nothing to starve
		}
		mid := make(chan struct{})
		e.handle("bulk", func(f *Flow, r *Reply) (any, error) {
			n := 0
			for _, err := range f.Packets() {
				if err != nil {
					return nil, err
				}
				if n++; n == 10 {
					close(mid)
					// Stop reading until the game message got through: the
					// window fills up behind it, the chat must still pass.
					select {
					case m := <-e.chats:
						if m.Msg != "still here" {
							return nil, fmt.Errorf("chat %+v", m)
						}
					case <-time.After(deadline):
						return nil, errors.New("the chat message did not pass the flow")
					}
				}
			}
			return n, nil
		})
		go func() {
			<-mid
			if err := e.chat(Chat{"Tom", "still here"}); err != nil {
				t.Error(err)
			}
		}()
		final, err := Wait(Call(context.Background(), e.caller, Request{Name: "bulk"}, counting(2000, 64<<10, new(atomic.Int64))))
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := final.Decode(&n); err != nil || n != 2000 {
			t.Fatalf("final %d, %v", n, err)
		}
	})
}

// A game message sent while a flow streams at full speed waits behind at
// most Config.InFlight bytes of flow data (plus the chunk being sent):
// the flow data the server handles between the send and the message.
func TestGameMessageBehindInFlight(t *testing.T) {
	forEach(t, func(t *testing.T, c carrier) {
		cfg := Config{Rate: -1} // the InFlight bound alone
		e := c.new(t, cfg, cfg)
		if !e.shared {
			return // the dedicated listener carries no game messages
		}
		const rounds = 20
		// The flow data the server handled when the chat arrived, less
		// what it had handled once the chat was queued: a frame sent after
		// the chat comes after it; one sent before and not yet handled is
		// in flight, not yet acknowledged.
		arrived := make(chan int64, 1)
		hook := func() { arrived <- e.serverReceived() }
		e.onChat.Store(&hook)
		sent := make(chan struct{}, 1)
		e.handle("bulk", func(f *Flow, r *Reply) (any, error) {
			n := 0
			for _, err := range f.Packets() {
				if err != nil {
					return nil, err
				}
				if n++; n%50 == 0 {
					signal(sent) // a round: the sender sends a chat
				}
			}
			return n, nil
		})
		worst := make(chan int64, 1)
		go func() {
			var w int64
			for range rounds {
				select {
				case <-sent:
				case <-time.After(deadline):
					worst <- -1
					return
				}
				if err := e.chat(Chat{"Tom", "still here"}); err != nil {
					worst <- -1
					return
				}
				queued := e.serverReceived()
				select {
				case n := <-arrived:
					w = max(w, n-queued)
				case <-time.After(deadline):
					worst <- -1
					return
				}
			}
			worst <- w
		}()
		final, err := Wait(Call(context.Background(), e.caller, Request{Name: "bulk"}, counting(100*rounds+100, 4<<10, new(atomic.Int64))))
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := final.Decode(&n); err != nil || n != 100*rounds+100 {
			t.Fatalf("final %d, %v", n, err)
		}
		w := wait(t, worst, "the chat rounds")
		bound := int64(DefaultInFlight + DefaultStationChunkSize)
		if w < 0 || w > bound {
			t.Fatalf("a chat message waited behind %d bytes of flow data; bound %d (InFlight and a chunk)", w, bound)
		}
		t.Logf("at most %d bytes of flow data ahead of a chat message", w)
	})
}

func TestCallOnClosed(t *testing.T) {
	forEach(t, func(t *testing.T, c carrier) {
		e := c.new(t, Config{}, Config{})
		e.dropClient()
		// The Station notices at its next watch; the listener's client at
		// once. Either way the call fails, it does not hang.
		_, err := Wait(Call[[]byte](context.Background(), e.caller, Request{Name: "x"}, nil))
		if err == nil {
			t.Fatal("call over a dropped connection succeeded")
		}
	})
}

// TestStationJSON runs a flow over a connection whose codec is JSON: the
// flow frames and the value packets use it too.
func TestStationJSON(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() { nettest.CheckGoroutines(t, before) })
	newF := func() *message.Factory {
		f := message.NewFactory(json.New())
		if err := Register(f); err != nil {
			t.Fatal(err)
		}
		return f
	}
	fs, fc := newF(), newF()
	network := &mem.Network{}
	srv, err := gnet.Listen(gnet.ServerConfig{Config: gnet.Config{Factory: fs, Transport: network}, Addr: "server:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	sst, err := Attach(srv, fs, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer sst.Close()
	if _, err := Attach(srv, fs, Config{Codec: msgpackCodec()}); err == nil {
		t.Fatal("Attach with another codec than the connection's succeeded")
	}
	cl, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: fc, Transport: network}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	cst, err := Attach(cl, fc, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer cst.Close()
	sst.HandleFunc("names", func(f *Flow, r *Reply) (any, error) {
		var names []string
		for e, err := range Decode[Entity](f.Packets()) {
			if err != nil {
				return nil, err
			}
			names = append(names, e.Name)
		}
		return strings.Join(names, ","), nil
	})
	stop := make(chan struct{})
	sl := loop(srv, stop)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	conn, err := cl.Dial(ctx, srv.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	cLoop := loop(cl, stop)
	defer func() { close(stop); <-sl; <-cLoop }()
	final, err := Wait(Call(ctx, cst.Over(conn), Request{Name: "names"}, entities(3)))
	var got string
	if err == nil {
		err = final.Decode(&got)
	}
	if err != nil || got != "e0,e1,e2" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestShutdown(t *testing.T) {
	forEach(t, func(t *testing.T, c carrier) {
		e := c.new(t, Config{}, Config{})
		running, release := make(chan struct{}), make(chan struct{})
		var flows atomic.Int32
		e.handle("slow", func(f *Flow, r *Reply) (any, error) {
			if flows.Add(1) > 1 {
				return "early", nil // opened before Shutdown began
			}
			close(running)
			select {
			case <-release:
				return "finished", nil
			case <-f.Context().Done():
				return nil, f.Context().Err()
			}
		})
		result := make(chan error, 1)
		go func() {
			final, err := Wait(Call[[]byte](context.Background(), e.caller, Request{Name: "slow"}, nil))
			var s string
			if err == nil {
				err = final.Decode(&s)
			}
			if err == nil && s != "finished" {
				err = fmt.Errorf("final %q", s)
			}
			result <- err
		}()
		wait(t, running, "the flow to start")
		stopped := make(chan error, 1)
		go func() { stopped <- e.shutdown(context.Background()) }()
		// New flows are refused while the running one may finish.
		for {
			_, err := Wait(Call[[]byte](context.Background(), e.caller, Request{Name: "slow"}, nil))
			if errors.Is(err, ErrClosed) {
				break
			}
			if err != nil {
				t.Fatalf("a flow during shutdown: %v", err)
			}
		}
		close(release)
		if err := wait(t, result, "the running flow"); err != nil {
			t.Fatalf("the running flow: %v", err)
		}
		if err := wait(t, stopped, "Shutdown"); err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	})
}

func TestListenerHandshake(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() { nettest.CheckGoroutines(t, before) })
	srv, err := Listen(ServerConfig{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	if _, err := Dial(ctx, srv.Addr(), ClientConfig{Config: Config{Codec: json.New()}}); err == nil || !strings.Contains(err.Error(), "codec differs") {
		t.Fatalf("a client with another codec: %v", err)
	}
	c1, err := Dial(ctx, srv.Addr(), ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	if c1.RemoteAddr() != srv.Addr() {
		t.Fatalf("RemoteAddr %s, server %s", c1.RemoteAddr(), srv.Addr())
	}
	if _, err := Dial(ctx, srv.Addr(), ClientConfig{}); err == nil || !strings.Contains(err.Error(), "server full") {
		t.Fatalf("a second client: %v", err)
	}
	if _, err := Listen(ServerConfig{Config: Config{Window: 100}}); err == nil {
		t.Fatal("a window below InitialWindow was accepted")
	}
	c1.Close()
	if _, err := Wait(Call[[]byte](ctx, c1, Request{Name: "x"}, nil)); !errors.Is(err, ErrClosed) {
		t.Fatalf("a call on a closed client: %v", err)
	}
}
