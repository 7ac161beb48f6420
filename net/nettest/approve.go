package nettest

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gnet "github.com/gonetic/gonetic/net"
)

// IdentityHandler records the Identity its connection has when OnConnect
// runs.
type IdentityHandler struct {
	ChatHandler
	idMu     sync.Mutex
	identity any
}

// OnConnect records the connection's identity.
func (h *IdentityHandler) OnConnect() {
	h.ChatHandler.OnConnect()
	h.idMu.Lock()
	h.identity = h.Conn().Identity()
	h.idMu.Unlock()
}

func (h *IdentityHandler) id() any { h.idMu.Lock(); defer h.idMu.Unlock(); return h.identity }

// approveByName accepts hello data "name:secret" when secret is "pw",
// with the name as identity.
func approveByName(_ context.Context, h gnet.Hello) (any, error) {
	name, secret, _ := strings.Cut(string(h.Data), ":")
	if secret != "pw" {
		return nil, errors.New("wrong password for " + name)
	}
	return name, nil
}

// testApproveIdentity: the value Approve returns is the connection's
// Identity from OnConnect on, and Approve sees the peer's address.
func testApproveIdentity(t *testing.T, a Adapter) {
	var (
		mu    sync.Mutex
		addrs []string
		hs    []*IdentityHandler
	)
	s := listen(t, a, gnet.ServerConfig{
		Approve: func(ctx context.Context, h gnet.Hello) (any, error) {
			mu.Lock()
			addrs = append(addrs, h.Addr)
			mu.Unlock()
			return approveByName(ctx, h)
		},
		NewHandler: func() any {
			h := &IdentityHandler{}
			mu.Lock()
			hs = append(hs, h)
			mu.Unlock()
			return h
		},
	})
	c := client(t, a, gnet.ClientConfig{})
	conn := dial(t, c, s, nil, gnet.WithHello([]byte("ann:pw")))
	if conn.Identity() != nil {
		t.Fatalf("a client's connection has identity %v, want nil", conn.Identity())
	}
	var got any
	Pump(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		got = hs[0].id() // Listen's, which serves the first connection
		return got != nil
	}, s, c)
	if got != "ann" {
		t.Fatalf("identity in OnConnect: %v, want ann", got)
	}
	sc := first(s)
	if sc.Identity() != "ann" {
		t.Fatalf("Conn.Identity: %v, want ann", sc.Identity())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(addrs) != 1 || addrs[0] != sc.Addr() {
		t.Fatalf("Approve saw addresses %q, want [%q]", addrs, sc.Addr())
	}
}

// first is the server's first open connection.
func first(s *gnet.Server) *gnet.Conn {
	for c := range s.Connections(nil) {
		return c
	}
	return nil
}

// testApproveRefuse: Approve's error is the reason the client gets, as a
// refusal; no server handler is made for it and only a Refused event is
// queued.
func testApproveRefuse(t *testing.T, a Adapter) {
	var made ChatHandler // every handler NewHandler makes: none may be called
	s := listen(t, a, gnet.ServerConfig{
		Config:     gnet.Config{EventQueue: 8},
		Approve:    approveByName,
		NewHandler: func() any { return &made },
	})
	c := client(t, a, gnet.ClientConfig{})
	h := &ChatHandler{}
	_, err := dialErr(c, s, h, gnet.WithHello([]byte("bob:guess")))
	var de *gnet.DisconnectError
	if !errors.As(err, &de) || !errors.Is(err, gnet.ErrRefused) || !de.Remote || de.Reason != "wrong password for bob" {
		t.Fatalf("Dial with a wrong password: %#v, want a remote refusal with Approve's reason", err)
	}
	if h.connects() != 0 {
		t.Fatal("the client's OnConnect ran for a refused connection")
	}
	var refused error
	Pump(t, func() bool {
		ev, ok := s.Poll()
		if !ok {
			return refused != nil
		}
		r, isRefused := ev.(gnet.Refused)
		if !isRefused {
			t.Fatalf("event %T for a refused connection", ev)
		}
		refused = r.Reason
		return true
	}, s)
	if !errors.Is(refused, gnet.ErrRefused) || !strings.Contains(refused.Error(), "wrong password for bob") {
		t.Fatalf("Refused event: %v", refused)
	}
	if made.connects() != 0 || made.gone() != nil || s.NumConns() != 0 {
		t.Fatalf("refused connection: server OnConnect %d, OnDisconnect %v, %d connections open", made.connects(), made.gone(), s.NumConns())
	}
	// A long reason is cut as every reason is.
	s2 := listen(t, a, gnet.ServerConfig{Approve: func(context.Context, gnet.Hello) (any, error) {
		return nil, errors.New(strings.Repeat("a", 2000))
	}})
	_, err = dialErr(c, s2, nil)
	if !errors.As(err, &de) || !SaysOrCut(de.Reason, strings.Repeat("a", gnet.MaxReasonBytes-3)+"…") {
		t.Fatalf("a refusal of 2000 bytes: %v", err)
	}
}

// testApprovePending: while Approve runs (slowly), the connection gets no
// handler, no OnConnect, no event, and no Broadcast; the game loop keeps
// serving the other connections; once accepted, only what is sent from
// then on reaches it.
func testApprovePending(t *testing.T, a Adapter) {
	release := make(chan struct{})
	var started atomic.Int32
	var set serverSet
	s := listen(t, a, gnet.ServerConfig{
		Config: gnet.Config{EventQueue: 64},
		Approve: func(ctx context.Context, h gnet.Hello) (any, error) {
			if string(h.Data) == "slow" {
				started.Add(1)
				select { // not forever, so that a broken server fails the test, not hangs it
				case <-release:
				case <-time.After(Deadline):
				}
			}
			return string(h.Data), nil
		},
		NewHandler: set.newHandler,
	})
	c1, c2 := client(t, a, gnet.ClientConfig{}), client(t, a, gnet.ClientConfig{})
	h1, h2 := &ChatHandler{}, &ChatHandler{}
	conn1 := dial(t, c1, s, h1, gnet.WithHello([]byte("fast")))
	drain := func() (accepted int) {
		for {
			ev, ok := s.Poll()
			if !ok {
				return accepted
			}
			if _, ok := ev.(gnet.Accepted); ok {
				accepted++
			}
		}
	}
	Pump(t, func() bool { return set.len() == 1 && set.get(0).connects() == 1 }, s, c1)
	if n := drain(); n != 1 {
		t.Fatalf("%d Accepted events for the first connection", n)
	}
	conn2, err := c2.Connect(s.Addr(), h2, gnet.WithHello([]byte("slow")))
	if err != nil {
		t.Fatal(err)
	}
	Pump(t, func() bool { return started.Load() == 1 }, s, c1, c2)

	// Approve is stuck: the game loop still serves connection 1, a round
	// trip through a server handler.
	if err := s.Broadcast(&Chat{"server", "before approval"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := conn1.Send(&Seq{N: 1}); err != nil {
		t.Fatal(err)
	}
	Pump(t, func() bool { return set.get(0).seqs() == 1 && h1.chats() == 1 }, s, c1, c2)
	// Another hello is judged meanwhile: each has its own goroutine.
	c3 := client(t, a, gnet.ClientConfig{})
	dial(t, c3, s, nil, gnet.WithHello([]byte("fast")))
	if set.len() != 2 || s.NumConns() != 2 || conn2.State() != gnet.Handshaking || h2.connects() != 0 {
		t.Fatalf("during approval: %d handlers, %d open, client state %v, client OnConnect %d",
			set.len(), s.NumConns(), conn2.State(), h2.connects())
	}
	if n := drain(); n != 1 {
		t.Fatalf("%d Accepted events during approval, want the other connection's only", n)
	}

	close(release)
	Pump(t, func() bool { return conn2.Connected() && set.len() == 3 && set.get(2).connects() == 1 }, s, c1, c2)
	if n := drain(); n != 1 {
		t.Fatalf("%d Accepted events after approval, want 1", n)
	}
	if got := set.get(2).Conn().Identity(); got != "slow" {
		t.Fatalf("identity %v, want slow", got)
	}
	if err := s.Broadcast(&Chat{"server", "after approval"}, nil); err != nil {
		t.Fatal(err)
	}
	Pump(t, func() bool { return h2.chats() == 1 && h1.chats() == 2 }, s, c1, c2, c3)
	h2.mu.Lock()
	defer h2.mu.Unlock()
	if h2.Chats[0].Msg != "after approval" {
		t.Fatalf("the approved connection got %+v first: a broadcast reached it before its approval", h2.Chats[0])
	}
}

// testApproveTimeout: an Approve that never returns ends with the
// handshake timeout, its ctx done then; what it returns later is
// ignored.
func testApproveTimeout(t *testing.T, a Adapter) {
	release, returned := make(chan struct{}), make(chan struct{})
	ctxDone := make(chan struct{}, 1)
	var made ChatHandler
	s := listen(t, a, gnet.ServerConfig{
		Config: gnet.Config{HandshakeTimeout: time.Second},
		Approve: func(ctx context.Context, h gnet.Hello) (any, error) {
			if string(h.Data) != "stuck" {
				return "ok", nil
			}
			defer close(returned)
			<-ctx.Done()
			ctxDone <- struct{}{}
			<-release // never, as far as the server can tell
			return "too late", nil
		},
		NewHandler: func() any { return &made },
	})
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release) // before the server's Close, which waits for Approve
		}
	})
	c := client(t, a, gnet.ClientConfig{})
	_, err := dialErr(c, s, nil, gnet.WithHello([]byte("stuck")))
	var de *gnet.DisconnectError
	if !errors.As(err, &de) || !errors.Is(err, gnet.ErrRefused) || de.Reason != "handshake timed out after 1s" {
		t.Fatalf("Dial while Approve never returns: %v", err)
	}
	select {
	case <-ctxDone: // its deadline, or the refusal's end of the link: whichever came first
	case <-time.After(Deadline):
		t.Fatal("Approve's ctx was not done at the handshake timeout")
	}
	close(release)
	<-returned
	// The late answer reaches Update before the next connection's hello.
	dial(t, c, s, nil, gnet.WithHello([]byte("next")))
	if n := made.connects(); n != 1 || s.NumConns() != 1 || first(s).Identity() != "ok" {
		t.Fatalf("after a late approval: OnConnect ran %d times, %d open; want the next connection's only", n, s.NumConns())
	}
}

// testApproveHelloBounds: a hello of five elements (clients written before
// hello data) is accepted, and Approve sees empty data; data of more than
// MaxHelloBytes is refused with a reason, and Connect will not send it.
func testApproveHelloBounds(t *testing.T, a Adapter) {
	f := NewFactory(nil)
	seen := make(chan []byte, 4)
	s := listen(t, a, gnet.ServerConfig{Config: gnet.Config{Factory: f}, Approve: func(_ context.Context, h gnet.Hello) (any, error) {
		seen <- h.Data
		return nil, nil
	}})
	ctx, cancel := context.WithTimeout(context.Background(), Deadline)
	defer cancel()
	next := func(sink *rawSink) []byte {
		t.Helper()
		for {
			select {
			case p := <-sink.payloads:
				if p[0] == 0x00 && (strings.Contains(string(p), "pong") || strings.Contains(string(p), "ping")) {
					continue
				}
				return p
			default:
				if ctx.Err() != nil {
					t.Fatal("no answer from the server")
				}
				_ = s.Update(time.Millisecond)
			}
		}
	}
	_, sink := handMadeHello(ctx, t, a, s.Addr(), f, Hello(f))
	if p := next(sink); string(p) != "\x00\x92\xa7welcome\x01" {
		t.Fatalf("answer to a hello of five elements: %q", p)
	}
	if d := <-seen; len(d) != 0 {
		t.Fatalf("Approve saw data %q for a hello without any", d)
	}

	big := bytes.Repeat([]byte{'x'}, gnet.MaxHelloBytes+1)
	_, sink = handMadeHello(ctx, t, a, s.Addr(), f, HelloData(f, big))
	p := next(sink)
	if !bytes.HasPrefix(p, []byte("\x00\x92\xa6refuse")) || !strings.Contains(string(p), "hello data is 4097 bytes, more than the 4096 the server accepts") {
		t.Fatalf("answer to %d bytes of hello data: %q", len(big), p)
	}
	select {
	case d := <-seen:
		t.Fatalf("Approve ran for %d bytes of hello data", len(d))
	default:
	}
	_, sink = handMadeHello(ctx, t, a, s.Addr(), f, HelloData(f, big[:gnet.MaxHelloBytes]))
	if p := next(sink); string(p) != "\x00\x92\xa7welcome\x01" {
		t.Fatalf("answer to MaxHelloBytes of hello data: %q", p)
	}
	if d := <-seen; len(d) != gnet.MaxHelloBytes {
		t.Fatalf("Approve saw %d bytes, want %d", len(d), gnet.MaxHelloBytes)
	}

	c := client(t, a, gnet.ClientConfig{Config: gnet.Config{Factory: NewFactory(nil)}})
	if _, err := c.Connect(s.Addr(), nil, gnet.WithHello(big)); err == nil || !strings.Contains(err.Error(), "MaxHelloBytes") {
		t.Fatalf("Connect with %d bytes of hello data: %v", len(big), err)
	}
}

// SaysOrCut reports whether a refusal's reason says want, or is want's
// beginning cut with "…" or, if the peer sent too little to pay for any
// reason, empty: a server answers a peer in its handshake on a lossy
// adapter (ENet) with no more bytes than it received from it.
func SaysOrCut(reason, want string) bool {
	if strings.Contains(reason, want) || reason == "" {
		return true
	}
	cut, ok := strings.CutSuffix(reason, "…")
	return ok && strings.HasPrefix(want, cut)
}
