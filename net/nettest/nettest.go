// Package nettest is the conformance suite every network adapter must
// pass under package net: the same behaviour tests, whatever moves the
// bytes. Adapter packages call Run from their tests.
package nettest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/json"
	"github.com/gonetic/gonetic/adapters/msgpack"
	"github.com/gonetic/gonetic/message"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/transport"
)

// Deadline bounds every wait in the suite. The suite synchronises on
// events; the deadline only turns a hang into a failure.
const Deadline = 20 * time.Second

// Chat is the suite's chat message: chat_msg(player, msg).
type Chat struct {
	Player string
	Msg    string
}

// Seq carries a sequence number and a payload.
type Seq struct {
	N    int
	Data []byte
}

// Adapter describes the adapter under test.
type Adapter struct {
	// New returns a fresh transport for one endpoint. Server and clients
	// of one test get transports from the same call sequence, so an
	// in-memory adapter may return the same network each time.
	New func(t testing.TB) transport.Transport
	// Addr is the address a server listens on ("127.0.0.1:0").
	Addr string
}

// NewFactory returns the suite's registry: chat_msg then seq, with codec c
// (msgpack when nil).
func NewFactory(c message.Codec) *message.Factory {
	if c == nil {
		c = msgpack.New()
	}
	f := message.NewFactory(c)
	message.MustRegister[Chat](f, message.Name("chat_msg"))
	message.MustRegister[Seq](f)
	return f
}

// Run runs the whole suite on one adapter.
func Run(t *testing.T, a Adapter) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Adapter)
	}{
		{"Chat", testChat},
		{"JSONCodec", testJSON},
		{"Events", testEvents},
		{"FunctionHandlers", testFunctions},
		{"DynamicTypes", testDynamic},
		{"RefuseRegistry", testRefuseRegistry},
		{"RefuseCodec", testRefuseCodec},
		{"ConnLimit", testConnLimit},
		{"Order", testOrder},
		{"LargeMessages", testLarge},
		{"DisconnectReasons", testReasons},
		{"FlushOnDisconnect", testFlush},
		{"Stats", testStats},
		{"BadHandler", testBadHandler},
		{"Shutdown", testShutdown},
		{"ConnectFailure", testConnectFailure},
		{"BadInput", testBadInput},
		{"KeepAlive", testKeepAlive},
		{"MalformedNeverDispatched", testMalformedNeverDispatched},
		{"ReasonBounds", testReasonBounds},
		{"ServerFull", testServerFull},
		{"SameEnding", testSameEnding},
		{"ShutdownBesideTheLoop", testShutdownBesideTheLoop},
		{"TimeoutIsNotAProtocolError", testTimeoutIsNotAProtocolError},
		{"RTTFromPings", testRTTFromPings},
		{"ApproveIdentity", testApproveIdentity},
		{"ApproveRefuse", testApproveRefuse},
		{"ApprovePending", testApprovePending},
		{"ApproveTimeout", testApproveTimeout},
		{"ApproveHelloBounds", testApproveHelloBounds},
		{"TokenChat", testTokenChat},
		{"TokenRefusals", testTokenRefusals},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			t.Cleanup(func() { CheckGoroutines(t, before) }) // runs after the test's own cleanups
			tc.fn(t, a)
		})
	}
}

// CheckGoroutines fails t if the goroutine count does not come back to at
// most before within the deadline.
func CheckGoroutines(t testing.TB, before int) {
	t.Helper()
	end := time.Now().Add(Deadline)
	for runtime.NumGoroutine() > before {
		if time.Now().After(end) {
			buf := make([]byte, 1<<16)
			n := runtime.Stack(buf, true)
			t.Fatalf("goroutines leaked: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:n])
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

// Updater is a Server or a Client.
type Updater interface{ Update(time.Duration) error }

// Pump calls Update on every updater until cond holds; it fails t after
// Deadline.
func Pump(t testing.TB, cond func() bool, us ...Updater) {
	t.Helper()
	end := time.Now().Add(Deadline)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("condition not met within %v", Deadline)
		}
		for _, u := range us {
			if err := u.Update(time.Millisecond); err != nil {
				t.Fatalf("Update: %v", err)
			}
		}
	}
}

// ChatHandler records what one connection sees. On a server it relays chat
// to every other connection.
type ChatHandler struct {
	gnet.Handler
	mu           sync.Mutex
	Connects     int
	Disconnected error
	Chats        []Chat
	Seqs         []int
	Other        []any
}

// OnConnect counts the connect.
func (h *ChatHandler) OnConnect() { h.mu.Lock(); h.Connects++; h.mu.Unlock() }

// OnDisconnect records the reason.
func (h *ChatHandler) OnDisconnect(reason error) {
	h.mu.Lock()
	h.Disconnected = reason
	h.mu.Unlock()
}

// NetChatMsg records the chat and, on a server, relays it.
func (h *ChatHandler) NetChatMsg(m Chat) {
	h.mu.Lock()
	h.Chats = append(h.Chats, m)
	h.mu.Unlock()
	if s := h.Server(); s != nil {
		_ = s.Broadcast(&m, h.Conn())
	}
}

// NetSeq records the sequence number.
func (h *ChatHandler) NetSeq(m Seq) {
	h.mu.Lock()
	h.Seqs = append(h.Seqs, m.N)
	h.mu.Unlock()
}

func (h *ChatHandler) chats() int          { h.mu.Lock(); defer h.mu.Unlock(); return len(h.Chats) }
func (h *ChatHandler) seqs() int           { h.mu.Lock(); defer h.mu.Unlock(); return len(h.Seqs) }
func (h *ChatHandler) gone() error         { h.mu.Lock(); defer h.mu.Unlock(); return h.Disconnected }
func (h *ChatHandler) connects() int       { h.mu.Lock(); defer h.mu.Unlock(); return h.Connects }
func (h *ChatHandler) isGone() func() bool { return func() bool { return h.gone() != nil } }

// wantEnd fails t unless err is a *DisconnectError with exactly remote and
// reason and no underlying error: the ending a bye or Disconnect gives.
func wantEnd(t testing.TB, who string, err error, remote bool, reason string) {
	t.Helper()
	var de *gnet.DisconnectError
	if !errors.As(err, &de) || de.Remote != remote || de.Reason != reason || de.Err != nil {
		t.Fatalf("%s: %#v, want a DisconnectError{Remote: %v, Reason: %q}", who, err, remote, reason)
	}
}

// ConnHandler records only connects and disconnects.
type ConnHandler struct {
	mu       sync.Mutex
	connects int
	reason   error
}

// OnConnect counts the connect.
func (h *ConnHandler) OnConnect() { h.mu.Lock(); h.connects++; h.mu.Unlock() }

// OnDisconnect records the reason.
func (h *ConnHandler) OnDisconnect(reason error) { h.mu.Lock(); h.reason = reason; h.mu.Unlock() }

func (h *ConnHandler) gone() error { h.mu.Lock(); defer h.mu.Unlock(); return h.reason }

// serverSet collects the handlers a server creates.
type serverSet struct {
	mu sync.Mutex
	hs []*ChatHandler
}

func (s *serverSet) newHandler() any {
	h := &ChatHandler{}
	s.mu.Lock()
	s.hs = append(s.hs, h)
	s.mu.Unlock()
	return h
}

func (s *serverSet) get(i int) *ChatHandler {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i >= len(s.hs) {
		return nil
	}
	return s.hs[i]
}

func (s *serverSet) len() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.hs) }

func listen(t testing.TB, a Adapter, cfg gnet.ServerConfig) *gnet.Server {
	t.Helper()
	if cfg.Factory == nil {
		cfg.Factory = NewFactory(nil)
	}
	if cfg.Transport == nil {
		cfg.Transport = a.New(t)
	}
	if cfg.Addr == "" {
		cfg.Addr = a.Addr
	}
	s, err := gnet.Listen(cfg)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func client(t testing.TB, a Adapter, cfg gnet.ClientConfig) *gnet.Client {
	t.Helper()
	if cfg.Factory == nil {
		cfg.Factory = NewFactory(nil)
	}
	if cfg.Transport == nil {
		cfg.Transport = a.New(t)
	}
	c, err := gnet.NewClient(cfg)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// openPair starts a server whose handlers set collects and a client with
// one connection to it, handled by h, and returns once the server's
// handler has seen OnConnect.
func openPair(t testing.TB, a Adapter) (s *gnet.Server, c *gnet.Client, set *serverSet, h *ChatHandler) {
	t.Helper()
	set = new(serverSet)
	s = listen(t, a, gnet.ServerConfig{NewHandler: set.newHandler})
	c = client(t, a, gnet.ClientConfig{})
	h = &ChatHandler{}
	dial(t, c, s, h)
	Pump(t, func() bool { return set.len() == 1 && set.get(0).connects() == 1 }, s, c)
	return s, c, set, h
}

func dial(t testing.TB, c *gnet.Client, s *gnet.Server, h any, opts ...gnet.ConnectOption) *gnet.Conn {
	t.Helper()
	conn, err := dialErr(c, s, h, opts...)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	return conn
}

// dialErr dials s while updating it, and returns what Dial returns.
func dialErr(c *gnet.Client, s *gnet.Server, h any, opts ...gnet.ConnectOption) (*gnet.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), Deadline)
	defer cancel()
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() { // the server must answer the handshake while we wait
		defer close(stopped)
		for {
			select {
			case <-done:
				return
			default:
				_ = s.Update(time.Millisecond)
			}
		}
	}()
	conn, err := c.Dial(ctx, s.Addr(), h, opts...)
	close(done)
	<-stopped // Update is for one goroutine at a time
	return conn, err
}

func testChat(t *testing.T, a Adapter) {
	var set serverSet
	s := listen(t, a, gnet.ServerConfig{NewHandler: set.newHandler})
	c1, c2 := client(t, a, gnet.ClientConfig{}), client(t, a, gnet.ClientConfig{})
	h1, h2 := &ChatHandler{}, &ChatHandler{}
	conn1 := dial(t, c1, s, h1)
	dial(t, c2, s, h2)
	Pump(t, func() bool { return s.NumConns() == 2 && set.len() == 2 }, s, c1, c2)
	if h1.connects() != 1 || h2.connects() != 1 {
		t.Fatalf("OnConnect calls: %d, %d; want 1 each", h1.connects(), h2.connects())
	}
	if err := conn1.Send(&Chat{Player: "Tom", Msg: "Test message"}); err != nil {
		t.Fatal(err)
	}
	Pump(t, func() bool { return h2.chats() == 1 }, s, c1, c2)
	if got := h2.Chats[0]; got != (Chat{"Tom", "Test message"}) {
		t.Fatalf("client 2 got %+v", got)
	}
	if n := h1.chats(); n != 0 {
		t.Fatalf("the sender got its own message back %d times; Broadcast must exclude it", n)
	}
	first := slices.Collect(s.Connections(nil))[0]
	if got := len(slices.Collect(s.Connections(first))); got != 1 {
		t.Fatalf("Connections(exclude) returned %d, want 1", got)
	}
	if got := len(slices.Collect(s.Handlers(nil))); got != 2 {
		t.Fatalf("Handlers returned %d, want 2", got)
	}
	if err := conn1.SendArgs("chat_msg", "Ann", "hi"); err != nil {
		t.Fatal(err)
	}
	if err := conn1.SendArgs("chat_msg", "Ann"); !errors.Is(err, message.ErrArity) {
		t.Fatalf("SendArgs with one field: %v, want ErrArity", err)
	}
	Pump(t, func() bool { return h2.chats() == 2 }, s, c1, c2)
	if got := h2.Chats[1]; got != (Chat{"Ann", "hi"}) {
		t.Fatalf("client 2 got %+v", got)
	}
}

func testJSON(t *testing.T, a Adapter) {
	var set serverSet
	s := listen(t, a, gnet.ServerConfig{Config: gnet.Config{Factory: NewFactory(json.New())}, NewHandler: set.newHandler})
	c1 := client(t, a, gnet.ClientConfig{Config: gnet.Config{Factory: NewFactory(json.New())}})
	h := &ChatHandler{}
	conn := dial(t, c1, s, h)
	if err := conn.Send(Chat{Player: "Tom", Msg: "Test message"}); err != nil {
		t.Fatal(err)
	}
	Pump(t, func() bool { return set.len() == 1 && set.get(0).chats() == 1 }, s, c1)
	if got := set.get(0).Chats[0]; got != (Chat{"Tom", "Test message"}) {
		t.Fatalf("server got %+v over JSON", got)
	}
}

func testEvents(t *testing.T, a Adapter) {
	s := listen(t, a, gnet.ServerConfig{Config: gnet.Config{EventQueue: 4}})
	c := client(t, a, gnet.ClientConfig{Config: gnet.Config{EventQueue: 4}})
	conn := dial(t, c, s, nil)
	var kinds []string
	var got []Chat
	const n = 20 // more than the queue holds: nothing may be dropped
	for i := range n {
		if err := conn.Send(&Chat{Player: "p", Msg: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	conn.Disconnect("bye now")
	Pump(t, func() bool {
		for ev, ok := s.Poll(); ok; ev, ok = s.Poll() {
			switch ev := ev.(type) {
			case gnet.Accepted:
				kinds = append(kinds, "accepted")
			case gnet.Received:
				got = append(got, ev.Msg.(Chat))
				if ev.Type.Name() != "chat_msg" {
					t.Errorf("event type %v", ev.Type)
				}
			case gnet.Disconnected:
				kinds = append(kinds, "disconnected:"+ev.Reason.Error())
			}
		}
		return len(kinds) == 2
	}, s, c)
	if kinds[0] != "accepted" || kinds[1] != "disconnected:gonetic: disconnected by peer: bye now" {
		t.Fatalf("events %q", kinds)
	}
	if len(got) != n {
		t.Fatalf("got %d messages through a 4-event queue, want %d", len(got), n)
	}
	for i, m := range got {
		if m.Msg != fmt.Sprint(i) {
			t.Fatalf("message %d is %q: out of order", i, m.Msg)
		}
	}
	var clientKinds []string
	var clientEnd error
	Pump(t, func() bool {
		for ev, ok := c.Poll(); ok; ev, ok = c.Poll() {
			switch ev := ev.(type) {
			case gnet.Connected:
				clientKinds = append(clientKinds, "connected")
				if ev.Conn != conn {
					t.Errorf("Connected event for %v, want %v", ev.Conn, conn)
				}
			case gnet.Disconnected:
				clientKinds = append(clientKinds, "disconnected")
				clientEnd = ev.Reason
			default:
				clientKinds = append(clientKinds, fmt.Sprintf("%T", ev))
			}
		}
		return len(clientKinds) >= 2
	}, s, c)
	if len(clientKinds) != 2 || clientKinds[0] != "connected" || clientKinds[1] != "disconnected" {
		t.Fatalf("client events %q, want connected then disconnected", clientKinds)
	}
	wantEnd(t, "the client's Disconnected event", clientEnd, false, "bye now")
}

func testFunctions(t *testing.T, a Adapter) {
	s := listen(t, a, gnet.ServerConfig{})
	var got []Chat
	var from *gnet.Conn
	if err := gnet.On(s, func(c *gnet.Conn, m Chat) { got = append(got, m); from = c }); err != nil {
		t.Fatal(err)
	}
	if err := gnet.On(s, func(c *gnet.Conn, m struct{ X int }) {}); !errors.Is(err, message.ErrNotRegistered) {
		t.Fatalf("On for an unregistered type: %v", err)
	}
	c := client(t, a, gnet.ClientConfig{})
	conn := dial(t, c, s, nil)
	if err := conn.Send(&Chat{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	Pump(t, func() bool { return len(got) == 1 }, s, c)
	if got[0] != (Chat{"a", "b"}) || from == nil || from.Addr() == "" {
		t.Fatalf("function handler got %+v from %v", got, from)
	}
}

func testDynamic(t *testing.T, a Adapter) {
	// A script-style client defines chat_msg by name; the server uses the struct.
	f := message.NewFactory(msgpack.New())
	if _, err := f.Define("chat_msg", []string{"player", "msg"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Define("seq", []string{"n", "data"}); err != nil {
		t.Fatal(err)
	}
	var set serverSet
	s := listen(t, a, gnet.ServerConfig{NewHandler: set.newHandler})
	c := client(t, a, gnet.ClientConfig{Config: gnet.Config{Factory: f}})
	var got []message.Value
	var from []*gnet.Conn
	if err := gnet.OnValue(c, "chat_msg", func(c *gnet.Conn, v message.Value) { got = append(got, v); from = append(from, c) }); err != nil {
		t.Fatal(err)
	}
	conn := dial(t, c, s, nil)
	c2 := client(t, a, gnet.ClientConfig{})
	conn2 := dial(t, c2, s, nil)
	if err := conn.SendArgs("chat_msg", "Tom", "dynamic"); err != nil {
		t.Fatal(err)
	}
	Pump(t, func() bool { return set.len() == 2 && set.get(0).chats() == 1 }, s, c, c2)
	if got := set.get(0).Chats[0]; got != (Chat{"Tom", "dynamic"}) {
		t.Fatalf("server got %+v", got)
	}
	if err := conn2.Send(&Chat{"Ann", "typed"}); err != nil {
		t.Fatal(err)
	}
	Pump(t, func() bool { return len(got) == 1 }, s, c, c2)
	if got[0].Get("player") != "Ann" || got[0].At(1) != "typed" {
		t.Fatalf("dynamic client got %v", got[0])
	}
	if from[0] != conn {
		t.Fatalf("OnValue's function got the message from %v, want %v", from[0], conn)
	}
}

func testRefuseRegistry(t *testing.T, a Adapter) {
	var made ConnHandler // every handler NewHandler makes: none may be called
	s := listen(t, a, gnet.ServerConfig{Config: gnet.Config{EventQueue: 8}, NewHandler: func() any { return &made }})
	f := message.NewFactory(msgpack.New())
	message.MustRegister[Chat](f, message.Name("chat_msg"))
	message.MustRegister[Seq](f, message.Name("sequence")) // differs
	c := client(t, a, gnet.ClientConfig{Config: gnet.Config{Factory: f}})
	h := &ConnHandler{}
	if _, err := c.Connect(s.Addr(), h); err != nil {
		t.Fatal(err)
	}
	var refused error
	Pump(t, func() bool {
		if ev, ok := s.Poll(); ok {
			if r, ok := ev.(gnet.Refused); ok {
				refused = r.Reason
			}
		}
		return h.gone() != nil && refused != nil
	}, s, c)
	if h.connects != 0 {
		t.Fatal("OnConnect ran for a refused connection")
	}
	if made.connects != 0 || made.gone() != nil {
		t.Fatal("a server handler was called for a refused connection")
	}
	for _, reason := range []error{h.gone(), refused} {
		if !errors.Is(reason, gnet.ErrRefused) {
			t.Errorf("reason %v does not wrap ErrRefused", reason)
		}
		// On a lossy adapter the reason may be cut to the size of the
		// hello (SaysOrCut), its beginning kept: what differs.
		cut := strings.HasSuffix(reason.Error(), "…")
		for i, want := range []string{"registry differs: type 2", "seq(n,data)", "sequence(n,data)"} {
			if !strings.Contains(reason.Error(), want) && (i == 0 || !cut) {
				t.Errorf("reason %q does not say %q", reason, want)
			}
		}
	}
}

func testRefuseCodec(t *testing.T, a Adapter) {
	s := listen(t, a, gnet.ServerConfig{})
	c := client(t, a, gnet.ClientConfig{Config: gnet.Config{Factory: NewFactory(json.New())}})
	ctx, cancel := context.WithTimeout(context.Background(), Deadline)
	defer cancel()
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for ctx.Err() == nil {
			_ = s.Update(time.Millisecond)
		}
	}()
	_, err := c.Dial(ctx, s.Addr(), nil)
	cancel()
	<-stopped
	if !errors.Is(err, gnet.ErrRefused) || !strings.Contains(err.Error(), `codec differs: client "json", server "msgpack"`) {
		t.Fatalf("Dial with another codec: %v", err)
	}
}

func testConnLimit(t *testing.T, a Adapter) {
	s := listen(t, a, gnet.ServerConfig{MaxConns: 2})
	c := client(t, a, gnet.ClientConfig{})
	dial(t, c, s, nil)
	dial(t, c, s, nil)
	h := &ChatHandler{}
	if _, err := c.Connect(s.Addr(), h); err != nil {
		t.Fatal(err)
	}
	Pump(t, h.isGone(), s, c)
	if err := h.gone(); !errors.Is(err, gnet.ErrRefused) || !strings.Contains(err.Error(), "server full") {
		t.Fatalf("connection 3 of 2: %v", err)
	}
	if n := s.NumConns(); n != 2 {
		t.Fatalf("server has %d connections, want 2", n)
	}
}

func testOrder(t *testing.T, a Adapter) {
	var set serverSet
	s := listen(t, a, gnet.ServerConfig{NewHandler: set.newHandler})
	c := client(t, a, gnet.ClientConfig{})
	conn := dial(t, c, s, nil)
	const n = 10000
	for i := range n {
		if err := conn.Send(&Seq{N: i}); err != nil {
			t.Fatal(err)
		}
	}
	Pump(t, func() bool { return set.len() == 1 && set.get(0).seqs() == n }, s, c)
	for i, v := range set.get(0).Seqs {
		if v != i {
			t.Fatalf("message %d has sequence %d", i, v)
		}
	}
}

func testLarge(t *testing.T, a Adapter) {
	const max = 256 << 10
	s := listen(t, a, gnet.ServerConfig{Config: gnet.Config{MaxMessageSize: max}})
	c := client(t, a, gnet.ClientConfig{Config: gnet.Config{MaxMessageSize: max}})
	conn := dial(t, c, s, nil)
	big := make([]byte, max-64)
	for i := range big {
		big[i] = byte(i * 7)
	}
	var got []byte
	if err := gnet.On(s, func(_ *gnet.Conn, m Seq) { got = m.Data }); err != nil {
		t.Fatal(err)
	}
	if err := conn.Send(&Seq{N: 1, Data: big}); err != nil {
		t.Fatal(err)
	}
	if err := conn.Send(&Seq{N: 2, Data: make([]byte, max)}); !errors.Is(err, transport.ErrPayloadTooLarge) {
		t.Fatalf("sending more than MaxMessageSize: %v, want ErrPayloadTooLarge", err)
	}
	Pump(t, func() bool { return got != nil }, s, c)
	if string(got) != string(big) {
		t.Fatalf("large message corrupted: %d bytes back of %d", len(got), len(big))
	}
	if !conn.Connected() {
		t.Fatal("an oversized Send closed the connection; it must only fail")
	}
}

func testReasons(t *testing.T, a Adapter) {
	s, c, set, h := openPair(t, a)
	set.get(0).Conn().Disconnect("kicked for spamming")
	Pump(t, func() bool { return h.gone() != nil && set.get(0).gone() != nil }, s, c)
	var de *gnet.DisconnectError
	if !errors.As(h.gone(), &de) || !de.Remote || de.Reason != "kicked for spamming" {
		t.Fatalf("client's reason: %#v", h.gone())
	}
	if !errors.As(set.get(0).gone(), &de) || de.Remote || de.Reason != "kicked for spamming" {
		t.Fatalf("server's reason: %#v", set.get(0).gone())
	}
	// And the other way.
	h2 := &ChatHandler{}
	conn := dial(t, c, s, h2)
	Pump(t, func() bool { return set.len() == 2 && set.get(1).connects() == 1 }, s, c)
	conn.Disconnect("quit")
	Pump(t, func() bool { return set.get(1).gone() != nil && h2.gone() != nil }, s, c)
	if !errors.As(set.get(1).gone(), &de) || !de.Remote || de.Reason != "quit" {
		t.Fatalf("server's reason: %v", set.get(1).gone())
	}
	if err := conn.Send(&Chat{}); !errors.Is(err, gnet.ErrClosed) {
		t.Fatalf("Send after Disconnect: %v, want ErrClosed", err)
	}
}

func testFlush(t *testing.T, a Adapter) {
	var set serverSet
	s := listen(t, a, gnet.ServerConfig{NewHandler: set.newHandler})
	c := client(t, a, gnet.ClientConfig{})
	conn := dial(t, c, s, nil)
	const n = 50000
	for i := range n {
		if err := conn.Send(&Seq{N: i}); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	conn.Disconnect("done")
	Pump(t, func() bool { return set.len() == 1 && set.get(0).gone() != nil }, s, c)
	if got := set.get(0).seqs(); got != n {
		t.Fatalf("server got %d of %d messages sent before Disconnect", got, n)
	}
	wantEnd(t, "the server's reason", set.get(0).gone(), true, "done")
}

func testStats(t *testing.T, a Adapter) {
	var set serverSet
	quiet := gnet.Config{PingInterval: -1} // pings would move the byte counts
	s := listen(t, a, gnet.ServerConfig{Config: quiet, NewHandler: set.newHandler})
	c := client(t, a, gnet.ClientConfig{Config: quiet})
	conn := dial(t, c, s, nil)
	const n = 100
	for i := range n {
		if err := conn.Send(&Chat{"Tom", fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	Pump(t, func() bool { return set.len() == 1 && set.get(0).chats() == n && conn.Stats().MessagesSent == n }, s, c)
	cs, ss := conn.Stats(), set.get(0).Conn().Stats()
	if ss.MessagesReceived != n {
		t.Fatalf("server counted %d messages received, want %d", ss.MessagesReceived, n)
	}
	if cs.BytesSent < n*8 || ss.BytesReceived < n*8 || ss.BytesReceived != cs.BytesSent {
		t.Fatalf("bytes: client sent %d, server received %d", cs.BytesSent, ss.BytesReceived)
	}
	// The other way, to a connection with no handler: the messages that no
	// method takes count too.
	for i := range n / 2 {
		if err := set.get(0).Conn().Send(&Seq{N: i}); err != nil {
			t.Fatal(err)
		}
	}
	Pump(t, func() bool { return conn.Stats().MessagesReceived >= n/2 }, s, c)
	Pump(t, func() bool {
		cs, ss = conn.Stats(), set.get(0).Conn().Stats()
		return ss.BytesSent == cs.BytesReceived
	}, s, c)
	if cs.MessagesReceived != n/2 || ss.MessagesSent != n/2 || cs.MessagesSent != n || ss.MessagesReceived != n {
		t.Fatalf("messages: client sent %d, received %d; server sent %d, received %d; want %d, %d, %d, %d",
			cs.MessagesSent, cs.MessagesReceived, ss.MessagesSent, ss.MessagesReceived, n, n/2, n/2, n)
	}
	if cs.BytesReceived < n/2*4 {
		t.Fatalf("bytes: server sent %d, client received %d", ss.BytesSent, cs.BytesReceived)
	}
}

// BadHandler has a message method with the wrong signature.
type BadHandler struct{}

// NetChatMsg takes the wrong type.
func (BadHandler) NetChatMsg(s string) {}

func testBadHandler(t *testing.T, a Adapter) {
	c := client(t, a, gnet.ClientConfig{})
	_, err := c.Connect(a.Addr, BadHandler{})
	if err == nil || !strings.Contains(err.Error(), "NetChatMsg") {
		t.Fatalf("attaching a handler with a bad method: %v", err)
	}
}

func testShutdown(t *testing.T, a Adapter) {
	var set serverSet
	s := listen(t, a, gnet.ServerConfig{NewHandler: set.newHandler})
	c := client(t, a, gnet.ClientConfig{})
	h := &ChatHandler{}
	dial(t, c, s, h)
	Pump(t, func() bool { return set.len() == 1 }, s, c)
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), Deadline)
		defer cancel()
		done <- s.Shutdown(ctx, "server restarting")
	}()
	Pump(t, h.isGone(), c)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	wantEnd(t, "the client's reason", h.gone(), true, "server restarting")
	if set.get(0).gone() == nil {
		t.Fatal("Shutdown did not run the server handler's OnDisconnect")
	}
	wantEnd(t, "the server handler's reason", set.get(0).gone(), false, "server restarting")
	if err := s.Update(0); !errors.Is(err, gnet.ErrClosed) {
		t.Fatalf("Update after Shutdown: %v", err)
	}
}

func testConnectFailure(t *testing.T, a Adapter) {
	s := listen(t, a, gnet.ServerConfig{})
	addr := s.Addr()
	s.Close()
	c := client(t, a, gnet.ClientConfig{Config: gnet.Config{HandshakeTimeout: 5 * time.Second}})
	h := &ChatHandler{}
	conn, err := c.Connect(addr, h)
	if err != nil {
		t.Fatal(err)
	}
	Pump(t, h.isGone(), c)
	if h.connects() != 0 || conn.State() != gnet.Closed {
		t.Fatalf("failed connect: connects=%d state=%v", h.connects(), conn.State())
	}
	var de *gnet.DisconnectError
	if !errors.As(h.gone(), &de) || de.Remote || de.Err == nil || !strings.Contains(h.gone().Error(), "connect to "+addr) {
		t.Fatalf("failed connect's reason: %#v, want a DisconnectError saying \"connect to %s\"", h.gone(), addr)
	}
}

// rawSink collects what a bare transport link receives.
type rawSink struct {
	payloads chan []byte
	closed   chan error
}

func newRawSink() *rawSink {
	return &rawSink{payloads: make(chan []byte, 1024), closed: make(chan error, 1)}
}

func (s *rawSink) Receive(_ uint8, p []byte) { s.payloads <- append([]byte(nil), p...) }
func (s *rawSink) Closed(err error)          { s.closed <- err }

// handMadePeer dials addr on a bare link of the adapter and sends the
// hello of registry f by hand, as a client in another language would. The
// link is aborted when the test ends.
func handMadePeer(ctx context.Context, t *testing.T, a Adapter, addr string, f *message.Factory) (transport.Link, *rawSink) {
	t.Helper()
	return handMadeHello(ctx, t, a, addr, f, Hello(f))
}

// handMadeHello is handMadePeer with the hello payload given.
func handMadeHello(ctx context.Context, t *testing.T, a Adapter, addr string, f *message.Factory, hello []byte) (transport.Link, *rawSink) {
	t.Helper()
	sink := newRawSink()
	link, err := a.New(t).Dial(ctx, addr, transport.Config{Channels: f.Channels()}, sink)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(link.Abort)
	// A server that refuses at once (full) may have closed the link already.
	if err := link.Send(0, transport.Reliable, hello); err != nil && !errors.Is(err, transport.ErrClosed) {
		t.Fatal(err)
	}
	return link, sink
}

// Hello builds the handshake payload of docs/PROTOCOL.md for registry f:
// the five elements of a hello without data.
func Hello(f *message.Factory) []byte { return HelloData(f, nil) }

// HelloData builds the handshake payload of docs/PROTOCOL.md for registry
// f with data as its sixth element (gnet.WithHello), or, when data is nil,
// without it.
func HelloData(f *message.Factory, data []byte) []byte {
	w := msgpack.New().NewWriter()
	w.Reset([]byte{0x00})
	n := 5
	if data != nil {
		n = 6
	}
	w.Array(n)
	w.String("hello")
	w.Uint(gnet.ProtocolVersion)
	w.String(f.Codec().Name())
	h := f.Hash()
	w.Bytes(h[:])
	lines := f.Lines()
	w.Array(len(lines))
	for _, l := range lines {
		w.String(l)
	}
	w.End()
	if data != nil {
		w.Bytes(data)
	}
	w.End()
	return w.Buffer()
}

// testBadInput: a peer that speaks the handshake by hand, then sends a
// message the server cannot decode, is disconnected with a reason it
// receives, and every other connection keeps working.
func testBadInput(t *testing.T, a Adapter) {
	var set serverSet
	f := NewFactory(nil)
	s := listen(t, a, gnet.ServerConfig{Config: gnet.Config{Factory: f}, NewHandler: set.newHandler})
	c := client(t, a, gnet.ClientConfig{})
	good := dial(t, c, s, &ChatHandler{})

	ctx, cancel := context.WithTimeout(context.Background(), Deadline)
	defer cancel()
	link, sink := handMadePeer(ctx, t, a, s.Addr(), f)
	next := func() []byte {
		t.Helper()
		for {
			select {
			case p := <-sink.payloads: // first: Closed comes after the last payload
				return p
			default:
			}
			select {
			case p := <-sink.payloads:
				return p
			case err := <-sink.closed:
				// Both may have arrived since the look above, and select
				// picks at random: a payload still waiting came first.
				select {
				case p := <-sink.payloads:
					sink.closed <- err
					return p
				default:
				}
				t.Fatalf("link closed early: %v", err)
			default:
				if ctx.Err() != nil {
					t.Fatal("no answer from the server")
				}
				_ = s.Update(time.Millisecond)
			}
		}
	}
	welcome := next()
	if string(welcome) != "\x00\x92\xa7welcome\x01" {
		t.Fatalf("answer to a hand-made hello: %q", welcome)
	}
	// An unknown type id: [99, "x"].
	if err := link.Send(0, transport.Reliable, []byte{0x92, 0x63, 0xa1, 'x'}); err != nil {
		t.Fatal(err)
	}
	bye := next()
	if bye[0] != 0x00 || !strings.Contains(string(bye), "bye") || !strings.Contains(string(bye), "unknown message type") {
		t.Fatalf("server's answer to an unknown type: %q", bye)
	}
	Pump(t, func() bool {
		select {
		case <-sink.closed:
			return true
		default:
			return false
		}
	}, s)
	if err := good.Send(&Chat{"still", "here"}); err != nil {
		t.Fatal(err)
	}
	Pump(t, func() bool { return set.get(0).chats() == 1 }, s, c)
}

// testKeepAlive: pings give every adapter an RTT, and a peer that goes
// silent (a hand-made client that never answers) is disconnected with
// "timed out" while a live one stays.
func testKeepAlive(t *testing.T, a Adapter) {
	var set serverSet
	f := NewFactory(nil)
	fast := gnet.Config{Factory: f, PingInterval: 10 * time.Millisecond, Timeout: 300 * time.Millisecond}
	s := listen(t, a, gnet.ServerConfig{Config: fast, NewHandler: set.newHandler})
	fastClient := fast
	fastClient.Factory = NewFactory(nil)
	c := client(t, a, gnet.ClientConfig{Config: fastClient})
	h := &ChatHandler{}
	start := time.Now()
	live := dial(t, c, s, h)
	Pump(t, func() bool { return live.Stats().RTT > 0 }, s, c)
	// A round trip measured since start cannot have taken longer.
	if rtt, most := live.Stats().RTT, time.Since(start); rtt > most {
		t.Fatalf("RTT %v, measured within %v", rtt, most)
	}

	ctx, cancel := context.WithTimeout(context.Background(), Deadline)
	defer cancel()
	_, sink := handMadePeer(ctx, t, a, s.Addr(), f)
	var bye string
	Pump(t, func() bool {
		for {
			select {
			case p := <-sink.payloads:
				if strings.Contains(string(p), "bye") {
					bye = string(p)
				}
				continue
			default:
			}
			return bye != ""
		}
	}, s, c)
	if !strings.Contains(bye, "timed out") {
		t.Fatalf("silent peer got %q", bye)
	}
	if !live.Connected() || h.gone() != nil {
		t.Fatalf("the live connection was dropped too: %v", h.gone())
	}
}
