package net_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gonetic/gonetic/adapters/mem"
	"github.com/gonetic/gonetic/adapters/msgpack"
	"github.com/gonetic/gonetic/message"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/nettest"
	"github.com/gonetic/gonetic/net/transport"
)

// The registry of FuzzServer: plain ints, strings, nested structs, slices
// and a map, a type registered by name, and a type no handler method takes
// (it goes to OnReceive), on three channels.
type (
	fzInts struct {
		A int8
		B uint16
		C int32
		D int64
		E uint64
		F bool
		G float32
	}
	fzPoint  struct{ X, Y float32 }
	fzPlayer struct {
		ID   uint32
		Name string
		Pos  fzPoint
	}
	fzSnapshot struct {
		Tick    int
		Players []fzPlayer
		Corners [2]fzPoint
		Owner   *fzPlayer
	}
	fzSlices struct {
		Names []string
		Data  []byte
		Nums  []int16
		Tags  map[string]int32
	}
	fzUnhandled struct{ N uint8 }
)

func fuzzFactory() *message.Factory {
	f := message.NewFactory(msgpack.New())
	message.MustRegister[nettest.Chat](f, message.Name("chat_msg"))                                                     // 1
	message.MustRegister[fzInts](f, message.Name("ints"))                                                               // 2
	message.MustRegister[fzSnapshot](f, message.Name("snapshot"), message.Channel(1))                                   // 3
	message.MustRegister[fzSlices](f, message.Name("slices"), message.Channel(2), message.Deliver(message.Unsequenced)) // 4
	if _, err := f.Define("shout", []string{"who", "what"}, message.Channel(1)); err != nil {                           // 5
		panic(err)
	}
	message.MustRegister[fzUnhandled](f, message.Name("unhandled")) // 6
	return f
}

// fzEnd is the Msg of the chat FuzzServer sends after the fuzzer's
// payloads: once its handler has it, the server has taken everything
// before it.
const fzEnd = "\x00fuzz: end of input"

// fzHandler is the server's handler of one connection; it reads every
// field it is given and echoes chats, so that the send path runs too.
type fzHandler struct {
	gnet.Handler
	mu     sync.Mutex // guards the fields below: read by the fuzz body between Updates
	chats  int
	ended  bool  // the fzEnd chat arrived
	gone   error // OnDisconnect's reason; non-nil once disconnected
	sink   int   // what the methods read, so that nothing is optimised away
	opened bool
}

func (h *fzHandler) OnConnect() { h.mu.Lock(); h.opened = true; h.mu.Unlock() }

func (h *fzHandler) OnDisconnect(reason error) {
	h.mu.Lock()
	h.gone = reason
	if reason == nil {
		h.gone = errors.New("OnDisconnect(nil)")
	}
	h.mu.Unlock()
}

func (h *fzHandler) OnReceive(msg any) {
	if _, ok := msg.(*fzUnhandled); !ok {
		if _, ok := msg.(fzUnhandled); !ok {
			panic("OnReceive got a message a Net method takes")
		}
	}
}

func (h *fzHandler) NetChatMsg(m nettest.Chat) {
	h.mu.Lock()
	h.chats++
	if m.Msg == fzEnd {
		h.ended = true
	}
	h.mu.Unlock()
	if m.Msg != fzEnd {
		_ = h.Conn().Send(&m) // may fail: the connection may be closing
	}
}

func (h *fzHandler) NetInts(m fzInts) {
	h.add(int(m.A) + int(m.B) + int(m.C) + int(m.D) + int(m.E))
}

func (h *fzHandler) NetSnapshot(m fzSnapshot) {
	n := m.Tick
	for _, p := range m.Players {
		n += int(p.ID) + len(p.Name)
	}
	if m.Owner != nil {
		n += len(m.Owner.Name)
	}
	h.add(n)
}

func (h *fzHandler) NetSlices(m fzSlices) {
	n := len(m.Data) + len(m.Tags)
	for _, s := range m.Names {
		n += len(s)
	}
	for _, v := range m.Nums {
		n += int(v)
	}
	h.add(n)
}

func (h *fzHandler) NetShout(m message.Value) { _ = m.Get("who"); _ = m.At(1); h.add(1) }

func (h *fzHandler) add(n int) { h.mu.Lock(); h.sink += n; h.mu.Unlock() }

func (h *fzHandler) state() (chats int, ended bool, gone error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.chats, h.ended, h.gone
}

// fzSink is the fuzzed peer's end: what the server sends it. Unbounded, so
// that the adapter's goroutine never blocks on it whatever the server echoes.
type fzSink struct {
	changed chan struct{} // one slot: a payload arrived or the link closed

	mu       sync.Mutex // guards payloads and closed
	payloads [][]byte
	closed   bool
}

func newFzSink() *fzSink { return &fzSink{changed: make(chan struct{}, 1)} }

func (s *fzSink) Receive(_ uint8, p []byte) {
	s.mu.Lock()
	s.payloads = append(s.payloads, append([]byte(nil), p...))
	s.mu.Unlock()
	s.signal()
}

func (s *fzSink) Closed(error) { s.mu.Lock(); s.closed = true; s.mu.Unlock(); s.signal() }

func (s *fzSink) signal() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

func (s *fzSink) get() (payloads [][]byte, closed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.payloads, s.closed
}

// wait waits until cond holds: what the adapter delivers to the peer needs
// no Update of the server, and waking on it saves the idle wait of one.
func (s *fzSink) wait(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(nettest.Deadline)
	defer deadline.Stop()
	for !cond() {
		select {
		case <-s.changed:
		case <-deadline.C:
			t.Fatalf("%s: not within %v", what, nettest.Deadline)
		}
	}
}

// fzRecords splits a fuzz input into (channel, payload) records: a
// channel byte, a 2-byte big-endian length, the payload; a length beyond
// the end takes what is left.
func fzRecords(b []byte, yield func(ch uint8, p []byte)) {
	for len(b) >= 3 {
		ch, n := b[0], int(binary.BigEndian.Uint16(b[1:3]))
		b = b[3:]
		n = min(n, len(b))
		yield(ch, b[:n])
		b = b[n:]
	}
}

// fzInput builds a fuzz input from records on channel 0, or on the channel
// given by a uint8 before the payload.
func fzInput(records ...any) []byte {
	var out []byte
	ch := uint8(0)
	for _, r := range records {
		switch r := r.(type) {
		case uint8:
			ch = r
			continue
		case []byte:
			out = append(out, ch)
			out = binary.BigEndian.AppendUint16(out, uint16(len(r)))
			out = append(out, r...)
		}
		ch = 0
	}
	return out
}

// fzCheckEvery is how many inputs go by between two looks at the goroutine
// count, which may have to wait for the link goroutines of the last input.
const fzCheckEvery = 64

// FuzzServer drives a whole server with arbitrary payloads from a peer
// that made a valid handshake. The input is a sequence of (channel,
// payload) records (fzRecords), sent after the welcome, then a closing
// chat (fzEnd), then the peer closes. Checked for every input: no panic;
// the server ends the peer, if it does, with a non-empty reason of at most
// MaxReasonBytes; the server hears the peer's end; a well-behaved client
// beside it still has a chat handled. Every fzCheckEvery inputs: the
// goroutine count has not grown.
//
// One server serves every input of a fuzzing process: a server costs
// goroutines and a listener, and the inputs need not be isolated from
// each other, since each one is a connection of its own that is over (on
// both ends, its handler told) before the next begins — the server keeps
// nothing of it but counters. A crash that depends on earlier inputs shows
// up as a well-behaved client that stops being served, or as a leak.
func FuzzServer(f *testing.F) {
	fac := fuzzFactory()
	enc := fac.NewEncoder()
	pack := func(msg any) []byte {
		b, _, err := enc.Encode(nil, msg)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	chat := pack(&nettest.Chat{Player: "Tom", Msg: "Test message"})
	ints := pack(&fzInts{A: -8, B: 65535, C: -1 << 31, D: 1 << 62, E: 1<<64 - 1, F: true, G: 1.5})
	snap := pack(&fzSnapshot{Tick: 7, Players: []fzPlayer{{1, "a", fzPoint{1.5, -2}}, {2, "é", fzPoint{}}}, Owner: &fzPlayer{ID: 9, Name: "o"}})
	slices := pack(&fzSlices{Names: []string{"x", ""}, Data: []byte{0, 1, 2}, Nums: []int16{-1, 1}, Tags: map[string]int32{"k": 3}})
	shout, err := enc.EncodeArgs(nil, fac.ByName("shout"), "Tom", []any{1, "two"})
	if err != nil {
		f.Fatal(err)
	}
	unhandled := pack(&fzUnhandled{N: 3})
	hello := nettest.Hello(fac)
	bye := []byte{0x00, 0x92, 0xa3, 'b', 'y', 'e', 0xa4, 'd', 'o', 'n', 'e'}
	ping := []byte{0x00, 0x92, 0xa4, 'p', 'i', 'n', 'g', 0x01}

	f.Add(fzInput())
	f.Add(fzInput(chat, ints, uint8(1), snap, uint8(2), slices, uint8(1), shout, unhandled))
	f.Add(fzInput(append(append([]byte(nil), chat...), 0xc0)))                                                               // a trailing byte
	f.Add(fzInput([]byte{0x92, 0x01, 0xa1, 'x'}))                                                                            // wrong arity
	f.Add(fzInput(snap[:len(snap)-3]))                                                                                       // truncated
	f.Add(fzInput([]byte{0x91, 0x63}))                                                                                       // unknown type id 99
	f.Add(fzInput([]byte{0x91, 0x00}))                                                                                       // type id 0
	f.Add(fzInput(chat, bye, chat))                                                                                          // a bye, then more
	f.Add(fzInput(hello))                                                                                                    // a second hello
	f.Add(fzInput(nettest.HelloData(fac, []byte("token"))))                                                                  // a second hello, with data
	f.Add(fzInput(ping, []byte{0x00, 0x92, 0xa4, 'p', 'o', 'n', 'g', 0x02}))                                                 // the peer's own ping and pong
	f.Add(fzInput([]byte{0x00, 0x93, 0xa4, 'p', 'o', 'n', 'g', 0x02, 0xcf, 0x18, 0x7e, 0x8a, 0x26, 0x0c, 0x90, 0x80, 0x00})) // a pong with a clock
	f.Add(fzInput([]byte{0x00, 0x92, 0xa6, 'r', 'e', 'f', 'u', 's', 'e', 0xa0}))                                             // a client may not refuse
	f.Add(fzInput([]byte{0x00, 0x92, 0xa7, 'w', 'e', 'l', 'c', 'o', 'm', 'e', 0x01}))
	f.Add(fzInput([]byte{0x00}, []byte{}, []byte{0x01}))
	f.Add(fzInput(uint8(200), chat, uint8(255), ints)) // channels the registry does not have
	// An unknown control kind of 2000 bytes: the error quotes it, the reason
	// must be cut.
	long := append([]byte{0x00, 0x91, 0xda, 0x07, 0xd0}, bytes.Repeat([]byte("é"), 1000)...)
	f.Add(fzInput(long))

	nw := new(mem.Network)
	var (
		hmu      sync.Mutex // guards handlers: NewHandler runs inside Update
		handlers []*fzHandler
	)
	srv, err := gnet.Listen(gnet.ServerConfig{
		Config: gnet.Config{Factory: fac, Transport: nw},
		Addr:   "server:0",
		// Every input's handshake goes through an approval, on its own
		// goroutine: the leak check covers those too.
		Approve: func(context.Context, gnet.Hello) (any, error) { return "fuzzer", nil },
		NewHandler: func() any {
			h := &fzHandler{}
			hmu.Lock()
			handlers = append(handlers, h)
			hmu.Unlock()
			return h
		},
	})
	if err != nil {
		f.Fatal(err)
	}
	// The handler Listen made to check serves the first connection: the
	// well-behaved client's.
	hmu.Lock()
	goodSide := handlers[0]
	handlers = handlers[:0]
	hmu.Unlock()
	cli, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: fuzzFactory(), Transport: nw}})
	if err != nil {
		f.Fatal(err)
	}
	good, err := cli.Connect(srv.Addr(), nil)
	if err != nil {
		f.Fatal(err)
	}
	pump := func(t testing.TB, what string, cond func() bool, us ...nettest.Updater) {
		t.Helper()
		end := time.Now().Add(nettest.Deadline)
		for !cond() {
			if time.Now().After(end) {
				t.Fatalf("%s: not within %v", what, nettest.Deadline)
			}
			for _, u := range us {
				if err := u.Update(time.Millisecond); err != nil {
					t.Fatalf("Update: %v", err)
				}
			}
		}
	}
	pump(f, "the well-behaved client connects", good.Connected, srv, cli)
	checkGood := func(t testing.TB) {
		t.Helper()
		before, _, _ := goodSide.state()
		if err := good.Send(&nettest.Chat{Player: "good", Msg: "still here?"}); err != nil {
			t.Fatalf("the well-behaved client cannot send: %v", err)
		}
		pump(t, "the well-behaved client's chat is handled", func() bool {
			n, _, _ := goodSide.state()
			return n > before
		}, srv, cli)
	}
	checkGood(f)
	// Settled: the goroutines of the server, the client and their link.
	baseline := runtime.NumGoroutine()
	checkGoroutines := func(t testing.TB) {
		t.Helper()
		// A finished connection's link goroutines may take a moment to
		// return; a leak keeps growing past any slack.
		const slack = 16
		end := time.Now().Add(nettest.Deadline)
		for runtime.NumGoroutine() > baseline+slack {
			if time.Now().After(end) {
				buf := make([]byte, 1<<16)
				t.Fatalf("goroutines grew from %d to %d\n%s", baseline, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
			}
			time.Sleep(time.Millisecond)
		}
	}
	f.Cleanup(func() {
		checkGood(f)
		cli.Close()
		srv.Close()
	})

	end := pack(&nettest.Chat{Player: "fuzz", Msg: fzEnd})
	runs := 0
	f.Fuzz(func(t *testing.T, in []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), nettest.Deadline)
		defer cancel()
		sink := newFzSink()
		link, err := nw.Dial(ctx, srv.Addr(), transport.Config{Channels: 256}, sink)
		if err != nil {
			t.Fatal(err)
		}
		defer link.Abort()
		if err := link.Send(0, transport.Reliable, hello); err != nil {
			t.Fatal(err)
		}
		// OnConnect runs in the Update that sends the welcome.
		var h *fzHandler
		pump(t, "the server opens the connection", func() bool {
			hmu.Lock()
			defer hmu.Unlock()
			if len(handlers) == 0 {
				return false
			}
			h = handlers[len(handlers)-1]
			h.mu.Lock()
			defer h.mu.Unlock()
			return h.opened
		}, srv)
		hmu.Lock()
		handlers = handlers[:0]
		hmu.Unlock()
		sink.wait(t, "the server's welcome", func() bool { p, _ := sink.get(); return len(p) > 0 })
		if p, _ := sink.get(); string(p[0]) != "\x00\x92\xa7welcome\x01" {
			t.Fatalf("the server's answer to a valid hello: %q", p[0])
		}

		fzRecords(in, func(ch uint8, p []byte) {
			// ErrClosed once the server ended the link; ErrPayloadTooLarge
			// never reaches the server.
			_ = link.Send(ch, transport.Reliable, p)
		})
		_ = link.Send(0, transport.Reliable, end)
		pump(t, "the server takes the input", func() bool {
			_, ended, gone := h.state()
			return ended || gone != nil
		}, srv)
		link.Close()
		pump(t, "the server hears the peer's end", func() bool {
			_, _, gone := h.state()
			return gone != nil
		}, srv)
		sink.wait(t, "the server closes its end", func() bool { _, closed := sink.get(); return closed })

		// Every reason the server gave the peer, and its own.
		payloads, _ := sink.get()
		r := msgpack.New().NewReader()
		for _, p := range payloads[1:] {
			if len(p) == 0 || p[0] != 0x00 {
				continue
			}
			r.Reset(p[1:])
			if _, err := r.Array(); err != nil {
				t.Fatalf("the server sent a malformed control message %q: %v", p, err)
			}
			kind, err := r.String()
			if err != nil {
				t.Fatalf("the server sent a malformed control message %q: %v", p, err)
			}
			if kind != "bye" && kind != "refuse" {
				continue
			}
			reason, err := r.String()
			if err != nil || reason == "" || len(reason) > gnet.MaxReasonBytes || !utf8.ValidString(reason) {
				t.Fatalf("the server's %s reason %q (%d bytes; %v): want 1 to %d bytes of UTF-8", kind, reason, len(reason), err, gnet.MaxReasonBytes)
			}
		}
		_, _, gone := h.state()
		var de *gnet.DisconnectError
		if !errors.As(gone, &de) {
			t.Fatalf("OnDisconnect's reason is %#v, not a *DisconnectError", gone)
		}
		// The server's own ending (a protocol error, a Disconnect) has a
		// reason; one the adapter reported (the peer's close) has an error.
		if len(de.Reason) > gnet.MaxReasonBytes || (!de.Remote && de.Reason == "" && de.Err == nil) {
			t.Fatalf("the server ended the peer with the reason %q (%d bytes), error %v", de.Reason, len(de.Reason), de.Err)
		}

		checkGood(t)
		if runs++; runs%fzCheckEvery == 0 {
			checkGoroutines(t)
		}
	})
}
