package net_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/enet"
	"github.com/gonetic/gonetic/adapters/mem"
	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/message"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/nettest"
	"github.com/gonetic/gonetic/net/transport"
	"github.com/gonetic/gonetic/token"
)

// hook wraps a transport to see every payload either end sends, to hold
// back what the client sends, and to hand the server payloads of the
// test's choosing as if they had arrived. Its sinks serialise the
// adapter's calls with the test's, as the Sink contract requires.
type hook struct {
	transport.Transport
	mu   sync.Mutex
	sent [][]byte // what either end sent, in order
	// clientSent is what the client sent, in order, with its delivery.
	clientSent []heldSend
	// holdIf, when set, says which sends are kept in held, not sent.
	holdIf func(client bool, ch uint8) bool
	held   []heldSend
	fail   error     // when set, the next send fails with it
	srv    *hookSink // the last link the server accepted
	from   string    // when set, what the server's links report as the peer's address
	lossy  bool      // its links are transport.Lossy whatever they wrap
	out    [2]int    // bytes sent by the server's links [0] and the client's [1]
}

type heldSend struct {
	l  transport.Link
	ch uint8
	d  transport.Delivery
	p  []byte
}

// record notes a send and says whether it is held or failed.
func (h *hook) record(l *hookLink, ch uint8, d transport.Delivery, p []byte) (bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.fail; err != nil {
		h.fail = nil
		return true, err
	}
	h.sent = append(h.sent, bytes.Clone(p))
	if l.client {
		h.out[1] += len(p)
		h.clientSent = append(h.clientSent, heldSend{nil, ch, d, bytes.Clone(p)})
	} else {
		h.out[0] += len(p)
	}
	if h.holdIf != nil && h.holdIf(l.client, ch) {
		h.held = append(h.held, heldSend{l.Link, ch, d, bytes.Clone(p)})
		return true, nil
	}
	return false, nil
}

// heldPayload is the i-th payload held, once it is: a sealed connection
// sends its batches from a goroutine of its own.
func (h *hook) heldPayload(t *testing.T, i int) []byte {
	t.Helper()
	var p []byte
	h.wait(t, func() bool {
		if len(h.held) > i {
			p = h.held[i].p
		}
		return p != nil
	})
	return p
}

// wait polls cond, under h.mu, until it holds.
func (h *hook) wait(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(nettest.Deadline)
	for {
		h.mu.Lock()
		ok := cond()
		h.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the hook did not see the payload in time")
		}
		time.Sleep(time.Millisecond)
	}
}

// setHold changes holdIf.
func (h *hook) setHold(f func(client bool, ch uint8) bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.holdIf = f
}

func clientSends(client bool, _ uint8) bool { return client }

func (h *hook) Listen(addr string, cfg transport.Config, accept transport.Accept) (transport.Listener, error) {
	return h.Transport.Listen(addr, cfg, func(l transport.Link) transport.Sink {
		s := accept(h.wrap(l, false))
		if s == nil {
			return nil
		}
		hs := &hookSink{inner: s}
		h.mu.Lock()
		h.srv = hs
		h.mu.Unlock()
		return hs
	})
}

func (h *hook) Dial(ctx context.Context, addr string, cfg transport.Config, sink transport.Sink) (transport.Link, error) {
	l, err := h.Transport.Dial(ctx, addr, cfg, sink)
	if err != nil {
		return nil, err
	}
	return h.wrap(l, true), nil
}

func (h *hook) wrap(l transport.Link, client bool) transport.Link {
	hl := &hookLink{Link: l, h: h, client: client}
	if !client {
		hl.from = h.from
	}
	if _, ok := l.(transport.Lossy); ok || h.lossy {
		return lossyHookLink{hl}
	}
	return hl
}

// inject hands the server's last link p on channel 0, as if it arrived.
func (h *hook) inject(p []byte) {
	h.mu.Lock()
	s := h.srv
	h.mu.Unlock()
	s.Receive(0, p)
}

type hookLink struct {
	transport.Link
	h      *hook
	client bool
	from   string
}

func (l *hookLink) RemoteAddr() string {
	if l.from != "" {
		return l.from
	}
	return l.Link.RemoteAddr()
}

func (l *hookLink) Send(ch uint8, d transport.Delivery, p []byte) error {
	if done, err := l.h.record(l, ch, d, p); done {
		return err
	}
	return l.Link.Send(ch, d, p)
}

type lossyHookLink struct{ *hookLink }

func (lossyHookLink) Lossy() {}

type hookSink struct {
	mu    sync.Mutex
	inner transport.Sink
}

func (s *hookSink) Receive(ch uint8, p []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inner.Receive(ch, p)
}
func (s *hookSink) TryReceive(ch uint8, p []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inner.(transport.TrySink).TryReceive(ch, p)
}
func (s *hookSink) Closed(err error) { s.mu.Lock(); defer s.mu.Unlock(); s.inner.Closed(err) }
func (s *hookSink) Farewell(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inner.(transport.Farewell).Farewell(err)
}

// sealedPair connects a client to a server over h, with a token when
// sealed, and returns both ends and the server's handler's messages.
func sealedPair(t *testing.T, h *hook, addr string, f func() *message.Factory, sealed bool) (*gnet.Server, *gnet.Client, *gnet.Conn, *nettest.ChatHandler) {
	t.Helper()
	return sealedPairPing(t, h, addr, f, sealed, 0)
}

// sealedPairPing is sealedPair with a Config.PingInterval for both ends.
func sealedPairPing(t *testing.T, h *hook, addr string, f func() *message.Factory, sealed bool, ping time.Duration) (*gnet.Server, *gnet.Client, *gnet.Conn, *nettest.ChatHandler) {
	t.Helper()
	key := token.NewKey()
	scfg := gnet.ServerConfig{Config: gnet.Config{Factory: f(), Transport: h, PingInterval: ping}, Addr: addr}
	sh := &nettest.ChatHandler{}
	scfg.NewHandler = func() any { return sh }
	var opts []gnet.ConnectOption
	if sealed {
		scfg.Tokens = &gnet.Tokens{Key: key, Server: nettest.TokenServer}
		opts = append(opts, gnet.WithToken(nettest.Token(t, key, 1)))
	}
	s, err := gnet.Listen(scfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: f(), Transport: h, PingInterval: ping}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	conn, err := c.Connect(s.Addr(), nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	nettest.Pump(t, func() bool { return conn.Connected() && s.NumConns() == 1 }, s, c)
	return s, c, conn, sh
}

func suiteFactory() *message.Factory { return nettest.NewFactory(nil) }

// TestSealedWire: what a sealed connection sends never shows its
// plaintext (an unsealed one does: the check can see it), and a payload
// flipped, replayed or sent ahead of its turn ends a connection over a
// stream adapter (mem, TCP) with the reason, on both sides.
func TestSealedWire(t *testing.T) {
	const secret = "the plaintext nobody may read"
	for _, a := range []struct {
		name string
		tr   func() transport.Transport
		addr string
	}{
		{"mem", func() transport.Transport { return new(mem.Network) }, "server:0"},
		{"tcp", func() transport.Transport { return tcp.New(tcp.Options{}) }, "127.0.0.1:0"},
	} {
		t.Run(a.name, func(t *testing.T) {
			for _, sealed := range []bool{false, true} {
				h := &hook{Transport: a.tr()}
				s, c, conn, sh := sealedPair(t, h, a.addr, suiteFactory, sealed)
				if err := conn.Send(&nettest.Chat{Player: "Ann", Msg: secret}); err != nil {
					t.Fatal(err)
				}
				nettest.Pump(t, func() bool { return len(sh.Chats) == 1 }, s, c)
				h.mu.Lock()
				seen := false
				for _, p := range h.sent {
					seen = seen || bytes.Contains(p, []byte(secret))
				}
				h.mu.Unlock()
				if seen != !sealed {
					t.Fatalf("sealed %v: plaintext seen on the wire: %v", sealed, seen)
				}
			}
			for _, tc := range []struct {
				name, reason string
				attack       func(h *hook, last []byte, conn *gnet.Conn)
				unseq        bool // chats travel unsequenced: the stream adapter ends the connection all the same
			}{
				{"flipped", "forged or corrupted", func(h *hook, _ []byte, conn *gnet.Conn) {
					h.setHold(clientSends)
					_ = conn.Send(&nettest.Chat{Msg: "1"})
					next := h.heldPayload(t, 0)
					next[len(next)-20] ^= 0x10
					h.inject(next)
				}, false},
				{"replayed", "replayed or out of order", func(h *hook, last []byte, _ *gnet.Conn) { h.inject(last) }, false},
				{"reordered", "replayed or out of order", func(h *hook, _ []byte, conn *gnet.Conn) {
					h.setHold(clientSends)
					_ = conn.Send(&nettest.Chat{Msg: "1"})
					h.heldPayload(t, 0) // one payload each
					_ = conn.Send(&nettest.Chat{Msg: "2"})
					h.inject(h.heldPayload(t, 1))
				}, false},
				{"flipped unsequenced", "forged or corrupted", func(h *hook, last []byte, _ *gnet.Conn) {
					last[len(last)-1] ^= 1
					last[2]++ // the next counter: fresh
					h.inject(last)
				}, true},
				{"replayed unsequenced", "replayed or out of order", func(h *hook, last []byte, _ *gnet.Conn) { h.inject(last) }, true},
			} {
				t.Run(tc.name, func(t *testing.T) {
					h := &hook{Transport: a.tr()}
					f, d := suiteFactory, transport.Reliable
					if tc.unseq {
						f, d = enetFactory, transport.Unsequenced
					}
					s, c, conn, sh := sealedPair(t, h, a.addr, f, true)
					if err := conn.Send(&nettest.Chat{Msg: strings.Repeat("x", 100)}); err != nil {
						t.Fatal(err)
					}
					nettest.Pump(t, func() bool { return len(sh.Chats) == 1 }, s, c)
					h.mu.Lock()
					var last []byte
					for _, p := range h.sent { // the client's chat: no other payload is 100 bytes long
						if len(p) > 100 && p[0] == 0 && p[1] == byte(d) {
							last = bytes.Clone(p)
						}
					}
					h.mu.Unlock()
					tc.attack(h, last, conn)
					nettest.Pump(t, func() bool { return sh.Disconnected != nil && conn.State() == gnet.Closed }, s, c)
					want := "protocol error: a payload failed authentication: " + tc.reason
					var de *gnet.DisconnectError
					if !errors.As(sh.Disconnected, &de) || de.Reason != want {
						t.Fatalf("server: %v, want the reason %q", sh.Disconnected, want)
					}
					if len(sh.Chats) != 1 {
						t.Fatalf("the server got %d chats, want only the genuine one", len(sh.Chats))
					}
				})
			}
		})
	}
}

// enetFactory registers a chat that travels unsequenced.
func enetFactory() *message.Factory {
	f := gnet.NewFactory()
	message.MustRegister[nettest.Chat](f, message.Name("chat_msg"), message.Deliver(message.Unsequenced))
	message.MustRegister[nettest.Seq](f)
	return f
}

// TestSealedENetDrops: over ENet, a forged or replayed unsequenced
// payload is dropped and counted, never delivered, and the connection
// stays open; a forged reliable one still ends it.
func TestSealedENetDrops(t *testing.T) {
	tr, err := enet.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	h := &hook{Transport: tr}
	s, c, conn, sh := sealedPair(t, h, "127.0.0.1:0", enetFactory, true)
	if err := conn.Send(&nettest.Chat{Msg: "hi"}); err != nil {
		t.Fatal(err)
	}
	nettest.Pump(t, func() bool { return len(sh.Chats) == 1 }, s, c)
	h.mu.Lock()
	var chat []byte
	for _, p := range h.sent {
		if p[0] == 0 && p[1] == byte(transport.Unsequenced) {
			chat = bytes.Clone(p)
		}
	}
	h.mu.Unlock()
	srv := first(s)
	h.inject(chat) // replayed
	forged := bytes.Clone(chat)
	forged[len(forged)-1] ^= 1
	h.inject(forged)
	if got := srv.Stats().Rejected; got != 2 {
		t.Fatalf("Stats.Rejected %d, want 2", got)
	}
	if err := conn.Send(&nettest.Chat{Msg: "still here"}); err != nil {
		t.Fatal(err)
	}
	nettest.Pump(t, func() bool { return len(sh.Chats) == 2 }, s, c)
	if sh.Chats[1].Msg != "still here" || !srv.Connected() {
		t.Fatalf("chats %v, connected %v", sh.Chats, srv.Connected())
	}
	reliable := bytes.Clone(forged)
	reliable[1] = byte(transport.Reliable)
	h.inject(reliable)
	nettest.Pump(t, func() bool { return sh.Disconnected != nil }, s, c)
	if !strings.Contains(sh.Disconnected.Error(), "a payload failed authentication") {
		t.Fatalf("a forged reliable payload: %v", sh.Disconnected)
	}
}

func first(s *gnet.Server) *gnet.Conn {
	for c := range s.Connections(nil) {
		return c
	}
	return nil
}

// TestSealedSameTokenNewKeys: two connections with the same token from
// the same address seal the same message differently: each has keys of
// its own.
func TestSealedSameTokenNewKeys(t *testing.T) {
	key := token.NewKey()
	tok := nettest.Token(t, key, 1)
	h := &hook{Transport: new(mem.Network), from: "10.0.0.1:5000"} // every link from the same address
	s, err := gnet.Listen(gnet.ServerConfig{Config: gnet.Config{Factory: suiteFactory(), Transport: h, PingInterval: -1},
		Addr: "server:0", Tokens: &gnet.Tokens{Key: key, Server: nettest.TokenServer}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: suiteFactory(), Transport: h, PingInterval: -1}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var firsts [][]byte
	for range 2 {
		conn, err := c.Connect(s.Addr(), nil, gnet.WithToken(tok))
		if err != nil {
			t.Fatal(err)
		}
		nettest.Pump(t, conn.Connected, s, c)
		// What the client sends next (the server may still answer its
		// first ping, which proves it receives).
		h.mu.Lock()
		n := len(h.clientSent)
		h.mu.Unlock()
		if err := conn.Send(&nettest.Chat{Msg: "same"}); err != nil {
			t.Fatal(err)
		}
		h.wait(t, func() bool { return len(h.clientSent) > n })
		h.mu.Lock()
		firsts = append(firsts, h.clientSent[n].p)
		h.mu.Unlock()
	}
	if len(firsts[0]) != len(firsts[1]) || firsts[0][2] != firsts[1][2] {
		t.Fatalf("the two chats differ in length or counter: % x / % x", firsts[0], firsts[1])
	}
	if bytes.Equal(firsts[0], firsts[1]) {
		t.Fatal("two connections with the same token sealed the same message alike: same keys")
	}
}

// TestSealedFailedSend: a batch the adapter refuses (a full queue) is
// not lost and leaves no gap in its reliable stream: it goes again at
// the next flush, before what was sent after it.
func TestSealedFailedSend(t *testing.T) {
	h := &hook{Transport: new(mem.Network)}
	s, c, conn, sh := sealedPair(t, h, "server:0", suiteFactory, true)
	h.mu.Lock()
	h.fail = transport.QueueFull("hook: full")
	h.mu.Unlock()
	if err := conn.Send(&nettest.Chat{Msg: "refused once"}); err != nil {
		t.Fatalf("Send: %v; the batch is refused later, not the message", err)
	}
	h.wait(t, func() bool { return h.fail == nil }) // the batch was refused
	if err := conn.Send(&nettest.Chat{Msg: "next"}); err != nil {
		t.Fatal(err)
	}
	nettest.Pump(t, func() bool { return len(sh.Chats) == 2 || sh.Disconnected != nil }, s, c)
	if sh.Disconnected != nil || sh.Chats[0].Msg != "refused once" || sh.Chats[1].Msg != "next" {
		t.Fatalf("after a refused batch: chats %v, disconnected %v", sh.Chats, sh.Disconnected)
	}
}

// TestSealedPayloadBeforeSession: a server that sends a client with a
// token anything but a clear refuse, bye or session before its session (a
// gonetic server opens a sealed connection only after the client's first
// sealed payload, which needs the session) ends the connection with a
// protocol error, and no handler hears of a message.
func TestSealedPayloadBeforeSession(t *testing.T) {
	nw := new(mem.Network)
	ln, err := nw.Listen("server:0", transport.Config{}, func(l transport.Link) transport.Sink {
		// Whatever comes (the hello), answer with a payload that looks sealed.
		return sinkFunc(func() { _ = l.Send(0, transport.Reliable, []byte{0x01, 0x00, 0x00, 1, 2, 3}) })
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: suiteFactory(), Transport: nw}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	connected := false
	cf := &connectFlag{on: &connected}
	if _, err := c.Connect(ln.Addr(), cf, gnet.WithToken(nettest.Token(t, token.NewKey(), 1))); err != nil {
		t.Fatal(err)
	}
	nettest.Pump(t, func() bool { return cf.reason != nil }, c)
	if connected || !strings.Contains(cf.reason.Error(), "a sealed payload before the server's session") {
		t.Fatalf("connected %v, ended with %v", connected, cf.reason)
	}
}

// sinkFunc is a Sink that calls f for every payload.
type sinkFunc func()

func (f sinkFunc) Receive(uint8, []byte) { f() }
func (sinkFunc) Closed(error)            {}

type connectFlag struct {
	on     *bool
	reason error
}

func (f *connectFlag) OnDisconnect(err error) { f.reason = err }

func (f *connectFlag) OnConnect() { *f.on = true }

// clearWelcome is a fake server: it answers any hello with a welcome in
// clear, skipping the session.
type clearWelcome struct{ l transport.Link }

func (s clearWelcome) Receive(_ uint8, p []byte) {
	if bytes.Contains(p, []byte("hello")) {
		_ = s.l.Send(0, transport.Reliable, []byte("\x00\x92\xa7welcome\x01"))
	}
}
func (clearWelcome) Closed(error) {}

// TestSealedClientWantsSession: a client with a token does not take a
// welcome from a server that did not seal the connection.
func TestSealedClientWantsSession(t *testing.T) {
	nw := new(mem.Network)
	l, err := nw.Listen("fake:0", transport.Config{}, func(l transport.Link) transport.Sink { return clearWelcome{l} })
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: suiteFactory(), Transport: nw}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), nettest.Deadline)
	defer cancel()
	_, err = c.Dial(ctx, l.Addr(), nil, gnet.WithToken(nettest.Token(t, token.NewKey(), 1)))
	if err == nil || !strings.Contains(err.Error(), "the server welcomed us without sealing the connection") {
		t.Fatalf("Dial: %v, want the refusal of a clear welcome", err)
	}
	_, err = c.Dial(ctx, l.Addr(), nil) // without a token, the same server is fine
	if err != nil {
		t.Fatalf("Dial without a token: %v", err)
	}
}

// TestSealedTokenInUse: a token in use from one host is refused from
// another (with no address in the reason: whoever sends a copied ticket
// learns nothing), and admitted again from the first host on another port,
// so a client may reconnect with it.
func TestSealedTokenInUse(t *testing.T) {
	key := token.NewKey()
	tok := nettest.Token(t, key, 1)
	h := &hook{Transport: new(mem.Network)}
	s, err := gnet.Listen(gnet.ServerConfig{Config: gnet.Config{Factory: suiteFactory(), Transport: h},
		Addr: "server:0", Tokens: &gnet.Tokens{Key: key, Server: nettest.TokenServer}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: suiteFactory(), Transport: h}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dialFrom := func(from string) error {
		h.mu.Lock()
		h.from = from
		h.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		done := make(chan error, 1)
		go func() { _, err := c.Dial(ctx, s.Addr(), nil, gnet.WithToken(tok)); done <- err }()
		nettest.Pump(t, func() bool { return len(done) > 0 }, s)
		return <-done
	}
	if err := dialFrom("10.0.0.1:5000"); err != nil {
		t.Fatal(err)
	}
	err = dialFrom("10.0.0.2:5000")
	if !errors.Is(err, gnet.ErrRefused) || !strings.Contains(err.Error(), "already in use from another address") || strings.Contains(err.Error(), "10.0.0.") {
		t.Fatalf("from another host: %v, want a refusal naming no address", err)
	}
	if err := dialFrom("10.0.0.1:6000"); err != nil {
		t.Fatalf("from the first host on another port: %v", err)
	}
}
