package net_test

import (
	"context"
	"errors"
	stdnet "net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
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

// Types of the server-to-server tests: one both ways (nettest.Chat), and
// one each way only.
type (
	upMsg   struct{ N int } // sent by clients only
	downMsg struct{ N int } // sent by servers only
)

func linkFactory() *message.Factory {
	f := nettest.NewFactory(nil)
	message.MustRegister[upMsg](f, message.SentBy(message.ClientToServer))
	message.MustRegister[downMsg](f, message.SentBy(message.ServerToClient))
	return f
}

// updating is a server whose Update the test runs, and which knows when
// it is inside it: handlers check they run there.
type updating struct {
	*gnet.Server
	in atomic.Bool
}

func (u *updating) Update(d time.Duration) error {
	u.in.Store(true)
	defer u.in.Store(false)
	return u.Server.Update(d)
}

// linkHandler is the handler of a server-to-server link, on either end.
type linkHandler struct {
	gnet.Handler
	end      *updating // whose Update must run it
	mu       sync.Mutex
	connects int
	gone     error
	chats    []string
	ups      []int
	downs    []int
	outside  int // calls outside end's Update
	reply    bool
}

func (h *linkHandler) inside() {
	if h.end != nil && !h.end.in.Load() {
		h.outside++
	}
}

func (h *linkHandler) OnConnect() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.inside()
	h.connects++
}

func (h *linkHandler) OnDisconnect(reason error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.inside()
	h.gone = reason
}

// NetChatMsg records the chat and, if asked to, answers it on the link.
func (h *linkHandler) NetChatMsg(m nettest.Chat) {
	h.mu.Lock()
	h.inside()
	h.chats = append(h.chats, m.Msg)
	reply := h.reply
	h.mu.Unlock()
	if reply {
		_ = h.Conn().Send(&nettest.Chat{Player: "b", Msg: "re: " + m.Msg})
	}
}

func (h *linkHandler) NetUpMsg(m upMsg) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.inside()
	h.ups = append(h.ups, m.N)
}

func (h *linkHandler) NetDownMsg(m downMsg) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.inside()
	h.downs = append(h.downs, m.N)
}

// linkSeen is what a linkHandler saw so far.
type linkSeen struct {
	connects int
	gone     error
	chats    []string
	ups      []int
	downs    []int
	outside  int
}

func (h *linkHandler) seen() linkSeen {
	h.mu.Lock()
	defer h.mu.Unlock()
	return linkSeen{h.connects, h.gone, append([]string(nil), h.chats...), append([]int(nil), h.ups...), append([]int(nil), h.downs...), h.outside}
}

func (h *linkHandler) nChats() int  { return len(h.seen().chats) }
func (h *linkHandler) ended() error { return h.seen().gone }
func (h *linkHandler) opened() bool { return h.seen().connects == 1 }

// linkServers starts servers A and B over t (each with a fresh one from
// mk), B's connections handled by linkHandlers that answer chats; cfgB
// changes B's config.
func linkServers(t *testing.T, mk func() transport.Transport, addr string, cfgB func(*gnet.ServerConfig)) (a, b *updating, bHandlers func() []*linkHandler) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() { nettest.CheckGoroutines(t, before) })
	a, b = new(updating), new(updating)
	var mu sync.Mutex
	var made []*linkHandler
	cb := gnet.ServerConfig{
		Config: gnet.Config{Factory: linkFactory(), Transport: mk(), EventQueue: 64},
		Addr:   addr,
		NewHandler: func() any {
			h := &linkHandler{end: b, reply: true}
			mu.Lock()
			made = append(made, h)
			mu.Unlock()
			return h
		},
	}
	if cfgB != nil {
		cfgB(&cb)
	}
	var err error
	if b.Server, err = gnet.Listen(cb); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if a.Server, err = gnet.Listen(gnet.ServerConfig{
		Config: gnet.Config{Factory: linkFactory(), Transport: mk(), EventQueue: 64},
		Addr:   addr,
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a, b, func() []*linkHandler {
		mu.Lock()
		defer mu.Unlock()
		return append([]*linkHandler(nil), made...)
	}
}

// events drains s's events.
func events(s *gnet.Server) []gnet.Event {
	var out []gnet.Event
	for ev, ok := s.Poll(); ok; ev, ok = s.Poll() {
		out = append(out, ev)
	}
	return out
}

// TestServerConnect: server A connects to server B over TCP; the link is
// one of A's connections, in the client's role: OnConnect, a Connected
// event (B gets Accepted), the remote clock estimated from OnConnect on,
// messages both ways handled inside each side's Update, Broadcast and
// SendTo over it, and both ends told when it ends.
func TestServerConnect(t *testing.T) {
	a, b, bh := linkServers(t, func() transport.Transport { return tcp.New(tcp.Options{}) }, "127.0.0.1:0", nil)
	ha := &linkHandler{end: a}
	conn, err := a.Connect(tcp.New(tcp.Options{}), b.Addr(), ha)
	if err != nil {
		t.Fatal(err)
	}
	if s := conn.State(); s != gnet.Connecting {
		t.Fatalf("Connect returned a connection in state %v, want connecting", s)
	}
	nettest.Pump(t, func() bool {
		return ha.opened() && len(bh()) == 1 && b.NumConns() == 1
	}, a, b)
	if got := conn.State(); got != gnet.Open {
		t.Fatalf("after OnConnect the connection is %v", got)
	}
	if ha.Server() != a.Server || ha.Conn() != conn {
		t.Errorf("the dialed connection's Handler: Server %p, Conn %v; want A %p and %v", ha.Server(), ha.Conn(), a.Server, conn)
	}
	if n := a.NumConns(); n != 1 {
		t.Errorf("A.NumConns: %d, want 1 (the dialed connection)", n)
	}
	var listed []*gnet.Conn
	for c := range a.Connections(nil) {
		listed = append(listed, c)
	}
	if len(listed) != 1 || listed[0] != conn {
		t.Errorf("A.Connections: %v, want [%v]", listed, conn)
	}
	// A estimates B's clock, as a client does: its hello carried a ping.
	if n := conn.Clock().Samples; n < 1 {
		t.Errorf("the dialed connection has %d clock samples at OnConnect, want ≥ 1", n)
	}
	var bConn *gnet.Conn
	for c := range b.Connections(nil) {
		bConn = c
	}
	if n := bConn.Clock().Samples; n != 0 {
		t.Errorf("B's accepted connection took %d clock samples; the server's clock is the reference", n)
	}
	var sawConnected, sawAccepted bool
	for _, ev := range events(a.Server) {
		switch ev := ev.(type) {
		case gnet.Connected:
			sawConnected = ev.Conn == conn
		case gnet.Accepted:
			t.Errorf("A got Accepted for the connection it dialed")
		}
	}
	for _, ev := range events(b.Server) {
		if _, ok := ev.(gnet.Accepted); ok {
			sawAccepted = true
		}
	}
	if !sawConnected || !sawAccepted {
		t.Errorf("events: Connected on A %v, Accepted on B %v; want both", sawConnected, sawAccepted)
	}

	// Both ways: A sends, B's handler answers on the link; and A's
	// Broadcast and SendTo reach B, B's Broadcast reaches A.
	if err := conn.Send(&nettest.Chat{Player: "a", Msg: "one"}); err != nil {
		t.Fatal(err)
	}
	if err := a.Broadcast(&nettest.Chat{Player: "a", Msg: "two"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := a.SendTo(&nettest.Chat{Player: "a", Msg: "three"}, a.Connections(nil)); err != nil {
		t.Fatal(err)
	}
	nettest.Pump(t, func() bool { return ha.nChats() == 3 }, a, b)
	if err := b.Broadcast(&nettest.Chat{Player: "b", Msg: "four"}, nil); err != nil {
		t.Fatal(err)
	}
	nettest.Pump(t, func() bool { return ha.nChats() == 4 }, a, b)
	sa := ha.seen()
	got, outA := sa.chats, sa.outside
	if want := []string{"re: one", "re: two", "re: three", "four"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("A's handler got %q, want %q", got, want)
	}
	sb := bh()[0].seen()
	gotB, outB := sb.chats, sb.outside
	if want := []string{"one", "two", "three"}; strings.Join(gotB, ",") != strings.Join(want, ",") {
		t.Errorf("B's handler got %q, want %q", gotB, want)
	}
	if outA+outB != 0 {
		t.Errorf("handlers ran outside their server's Update: %d on A, %d on B", outA, outB)
	}

	conn.Disconnect("zone merged")
	nettest.Pump(t, func() bool { return ha.ended() != nil && bh()[0].ended() != nil }, a, b)
	wantEnd(t, "A's OnDisconnect", ha.ended(), false, "zone merged")
	wantEnd(t, "B's OnDisconnect", bh()[0].ended(), true, "zone merged")
	nettest.Pump(t, func() bool { return a.NumConns() == 0 && b.NumConns() == 0 }, a, b)
}

// countingTransport counts the Polls of the links it dials that are
// transport.Pollers (ENet's).
type countingTransport struct {
	transport.Transport
	polls *atomic.Int64
}

func (c countingTransport) Dial(ctx context.Context, addr string, cfg transport.Config, sink transport.Sink) (transport.Link, error) {
	l, err := c.Transport.Dial(ctx, addr, cfg, sink)
	if err != nil {
		return nil, err
	}
	if p, ok := l.(transport.Poller); ok {
		return &countingLink{Link: l, p: p, n: c.polls}, nil
	}
	return l, nil
}

type countingLink struct {
	transport.Link
	p transport.Poller
	n *atomic.Int64
}

func (l *countingLink) Poll()  { l.n.Add(1); l.p.Poll() }
func (l *countingLink) Lossy() {}

// TestServerConnectOverENet: the dialed link may be over another adapter
// than the server's listeners, one that does its work in Update
// (transport.Poller): a TCP server dials an ENet one, and its Update polls
// the link while it lives, and no longer.
func TestServerConnectOverENet(t *testing.T) {
	newENet := func() transport.Transport {
		tr, err := enet.New(nil)
		if err != nil {
			t.Skip(err)
		}
		return tr
	}
	a, b, bh := linkServers(t, func() transport.Transport { return tcp.New(tcp.Options{}) }, "127.0.0.1:0", nil)
	enetAddr, err := b.AddListener(newENet(), "127.0.0.1:0") // B takes ENet too
	if err != nil {
		t.Fatal(err)
	}
	var polls atomic.Int64
	ha := &linkHandler{end: a}
	conn, err := a.Connect(countingTransport{newENet(), &polls}, enetAddr, ha)
	if err != nil {
		t.Fatal(err)
	}
	nettest.Pump(t, ha.opened, a, b)
	if err := conn.Send(&nettest.Chat{Msg: "over enet"}); err != nil {
		t.Fatal(err)
	}
	nettest.Pump(t, func() bool { return ha.nChats() == 1 }, a, b)
	if polls.Load() == 0 {
		t.Error("A's Update never polled its dialed ENet link")
	}
	conn.Disconnect("done")
	nettest.Pump(t, func() bool { return ha.ended() != nil && len(bh()) == 1 && bh()[0].ended() != nil }, a, b)
	n := polls.Load()
	for range 5 {
		if err := a.Update(time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	if m := polls.Load(); m != n {
		t.Errorf("A's Update polled the ended link %d more times", m-n)
	}
}

// TestServerConnectHello: WithHello's data reaches the remote server's
// Approve, whose value is the link's Identity there; its refusal reaches
// the dialing server as a DisconnectError wrapping ErrRefused, with B's
// reason, and a Disconnected event.
func TestServerConnectHello(t *testing.T) {
	nw := new(mem.Network)
	a, b, bh := linkServers(t, func() transport.Transport { return nw }, "b:0", func(c *gnet.ServerConfig) {
		c.Approve = func(_ context.Context, h gnet.Hello) (any, error) {
			if name, ok := strings.CutPrefix(string(h.Data), "node:"); ok {
				return name, nil
			}
			return nil, errors.New("not a node of this cluster")
		}
	})
	ha := &linkHandler{end: a}
	conn, err := a.Connect(nw, b.Addr(), ha, gnet.WithHello([]byte("node:zone-a")))
	if err != nil {
		t.Fatal(err)
	}
	nettest.Pump(t, func() bool { return conn.State() == gnet.Open && b.NumConns() == 1 }, a, b)
	for c := range b.Connections(nil) {
		if id := c.Identity(); id != "zone-a" {
			t.Errorf("B's Identity of the link: %v, want zone-a", id)
		}
	}
	events(a.Server)

	hx := &linkHandler{end: a}
	refused, err := a.Connect(nw, b.Addr(), hx, gnet.WithHello([]byte("intruder")))
	if err != nil {
		t.Fatal(err)
	}
	nettest.Pump(t, func() bool { return hx.ended() != nil }, a, b)
	var de *gnet.DisconnectError
	if err := hx.ended(); !errors.Is(err, gnet.ErrRefused) || !errors.As(err, &de) || !de.Remote || de.Reason != "not a node of this cluster" {
		t.Fatalf("a refused link ended with %#v, want a remote DisconnectError wrapping ErrRefused with B's reason", err)
	}
	if hx.seen().connects != 0 {
		t.Errorf("a refused link had OnConnect")
	}
	var told bool
	for _, ev := range events(a.Server) {
		if d, ok := ev.(gnet.Disconnected); ok && d.Conn == refused && errors.Is(d.Reason, gnet.ErrRefused) {
			told = true
		}
	}
	if !told {
		t.Errorf("no Disconnected event on A for the refused link")
	}
	if n := len(bh()); n != 1 {
		t.Errorf("B made %d handlers, want 1 (the refused link has none)", n)
	}
	if n := a.NumConns(); n != 1 {
		t.Errorf("A.NumConns after a refusal: %d, want 1", n)
	}
}

// TestServerConnectToken: a dialed link with a connect token is sealed,
// and messages pass both ways.
func TestServerConnectToken(t *testing.T) {
	key := token.NewKey()
	nw := new(mem.Network)
	a, b, bh := linkServers(t, func() transport.Transport { return nw }, "b:0", func(c *gnet.ServerConfig) {
		c.Tokens = &gnet.Tokens{Key: key, Server: "zone-b"}
	})
	now := time.Now()
	tok, err := token.Issue(key, token.Claims{ClientID: 7, Servers: []string{"zone-b"}, Expires: now.Add(time.Minute)}, now)
	if err != nil {
		t.Fatal(err)
	}
	ha := &linkHandler{end: a}
	conn, err := a.Connect(nw, b.Addr(), ha, gnet.WithToken(tok))
	if err != nil {
		t.Fatal(err)
	}
	nettest.Pump(t, func() bool { return ha.opened() && len(bh()) == 1 }, a, b)
	if !conn.Sealed() || !bh()[0].Conn().Sealed() {
		t.Fatalf("Sealed: %v on A, %v on B; want both", conn.Sealed(), bh()[0].Conn().Sealed())
	}
	if g, ok := bh()[0].Conn().Identity().(*token.Grant); !ok || g.ClientID != 7 {
		t.Errorf("B's Identity of the link: %#v, want the token's grant", bh()[0].Conn().Identity())
	}
	if err := conn.Send(&nettest.Chat{Msg: "sealed"}); err != nil {
		t.Fatal(err)
	}
	nettest.Pump(t, func() bool { return ha.nChats() == 1 }, a, b)

	// Without a token, B refuses.
	hx := &linkHandler{end: a}
	if _, err := a.Connect(nw, b.Addr(), hx); err != nil {
		t.Fatal(err)
	}
	nettest.Pump(t, func() bool { return hx.ended() != nil }, a, b)
	if err := hx.ended(); !errors.Is(err, gnet.ErrRefused) {
		t.Errorf("a link without a token to a server that wants one: %v, want ErrRefused", err)
	}
}

// TestServerConnectOneWayTypes: a dialed connection sends and receives as a
// client does: it sends client-to-server types and refuses server-to-client
// ones with a clear error; it receives server-to-client ones; A's
// Broadcast of a server-to-client type reaches A's clients, and names the
// dialed connection in its error instead of sending it what B would take
// as a protocol error.
func TestServerConnectOneWayTypes(t *testing.T) {
	nw := new(mem.Network)
	a, b, bh := linkServers(t, func() transport.Transport { return nw }, "b:0", nil)
	ha := &linkHandler{end: a}
	link, err := a.Connect(nw, b.Addr(), ha)
	if err != nil {
		t.Fatal(err)
	}
	// A player on A.
	cli, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: linkFactory(), Transport: nw}})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	hp := &linkHandler{}
	if _, err := cli.Connect(a.Addr(), hp); err != nil {
		t.Fatal(err)
	}
	nettest.Pump(t, func() bool { return link.State() == gnet.Open && a.NumConns() == 2 && len(bh()) == 1 }, a, b, cli)

	err = link.Send(&downMsg{1})
	if !errors.Is(err, message.ErrDirection) || !strings.Contains(err.Error(), "Server.Connect") {
		t.Errorf("Send of a server-to-client type on a dialed connection: %v, want ErrDirection saying it was dialed (Server.Connect)", err)
	}
	if err := link.Send(&upMsg{2}); err != nil {
		t.Errorf("Send of a client-to-server type on a dialed connection: %v", err)
	}
	if err := bh()[0].Conn().Send(&downMsg{3}); err != nil {
		t.Errorf("B's Send of a server-to-client type: %v", err)
	}
	err = a.Broadcast(&downMsg{4}, nil)
	if !errors.Is(err, message.ErrDirection) || !strings.Contains(err.Error(), link.String()) {
		t.Errorf("A's Broadcast of a server-to-client type: %v, want ErrDirection naming %v", err, link)
	}
	nettest.Pump(t, func() bool {
		return len(bh()[0].seen().ups) == 1 && len(ha.seen().downs) == 1 && len(hp.seen().downs) == 1
	}, a, b, cli)
	ups, downs, pdowns := bh()[0].seen().ups, ha.seen().downs, hp.seen().downs
	if ups[0] != 2 || downs[0] != 3 || pdowns[0] != 4 {
		t.Errorf("B got up %v, A got down %v, A's player got down %v; want [2], [3], [4]", ups, downs, pdowns)
	}
	// The link is still up: nothing went the wrong way.
	if err := link.Send(&nettest.Chat{Msg: "still here"}); err != nil {
		t.Fatal(err)
	}
	nettest.Pump(t, func() bool { return ha.nChats() == 1 }, a, b, cli)
	if err := ha.ended(); err != nil {
		t.Fatalf("the link ended: %v", err)
	}
}

// TestServerConnectNotInMaxConns: a dialed connection does not take the
// room of a player: MaxConns bounds the connections a server accepts.
func TestServerConnectNotInMaxConns(t *testing.T) {
	nw := new(mem.Network)
	b, err := gnet.Listen(gnet.ServerConfig{Config: gnet.Config{Factory: linkFactory(), Transport: nw}, Addr: "b:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	a, err := gnet.Listen(gnet.ServerConfig{Config: gnet.Config{Factory: linkFactory(), Transport: nw}, Addr: "a:0", MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	link, err := a.Connect(nw, b.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	nettest.Pump(t, func() bool { return link.State() == gnet.Open }, a, b)
	cli, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: linkFactory(), Transport: nw}})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	hp := &linkHandler{}
	player, err := cli.Connect(a.Addr(), hp)
	if err != nil {
		t.Fatal(err)
	}
	nettest.Pump(t, func() bool { s := player.State(); return s == gnet.Open || s == gnet.Closed }, a, b, cli)
	if player.State() != gnet.Open {
		t.Fatalf("a player on a server with MaxConns 1 and a dialed link: %v", hp.ended())
	}
	if n := a.NumConns(); n != 2 {
		t.Errorf("A.NumConns: %d, want 2", n)
	}
	// The second player finds it full.
	hq := &linkHandler{}
	if _, err := cli.Connect(a.Addr(), hq); err != nil {
		t.Fatal(err)
	}
	nettest.Pump(t, func() bool { return hq.ended() != nil }, a, b, cli)
	if !errors.Is(hq.ended(), gnet.ErrRefused) {
		t.Errorf("a second player: %v, want refused (server full)", hq.ended())
	}
}

// TestServerConnectCloseDuringDial: Close ends dials in progress, before
// the link is up (a dial that never answers) and in the handshake (a peer
// that takes the connection and never answers the hello), at once and
// without leaving a goroutine; Connect then fails with ErrClosed.
func TestServerConnectCloseDuringDial(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() { nettest.CheckGoroutines(t, before) })
	silent, err := stdnet.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	taken := make(chan stdnet.Conn, 1)
	go func() {
		c, err := silent.Accept()
		if err == nil {
			taken <- c
		}
	}()
	a, err := gnet.Listen(gnet.ServerConfig{Config: gnet.Config{
		Factory: linkFactory(), Transport: new(mem.Network), HandshakeTimeout: time.Hour,
	}, Addr: "a:0"})
	if err != nil {
		t.Fatal(err)
	}
	connecting, err := a.Connect(new(silentTransport), "nowhere:1", nil)
	if err != nil {
		t.Fatal(err)
	}
	handshaking, err := a.Connect(tcp.New(tcp.Options{}), silent.Addr().String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	peer := <-taken
	defer peer.Close()
	nettest.Pump(t, func() bool { return handshaking.State() == gnet.Handshaking }, a)
	if s := connecting.State(); s != gnet.Connecting {
		t.Fatalf("the silent dial is %v", s)
	}
	closed := make(chan struct{})
	go func() { a.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(nettest.Deadline):
		t.Fatal("Close waited for dials in progress")
	}
	if _, err := a.Connect(new(mem.Network), "b:0", nil); !errors.Is(err, gnet.ErrClosed) {
		t.Errorf("Connect after Close: %v, want ErrClosed", err)
	}
	// The peer sees its link end.
	_ = peer.SetReadDeadline(time.Now().Add(nettest.Deadline))
	buf := make([]byte, 512)
	for {
		if _, err := peer.Read(buf); err != nil {
			var ne stdnet.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatal("the dialed link outlived Close")
			}
			break
		}
	}
}

// TestServerConnectShutdown: Shutdown delivers what was queued on a dialed
// link before its bye, tells both handlers, cancels a dial in progress
// (whose handler gets OnDisconnect with the reason), and leaves no
// goroutine; Connect then fails with ErrClosed.
func TestServerConnectShutdown(t *testing.T) {
	nw := new(mem.Network)
	a, b, bh := linkServers(t, func() transport.Transport { return nw }, "b:0", nil)
	ha := &linkHandler{end: a}
	link, err := a.Connect(nw, b.Addr(), ha)
	if err != nil {
		t.Fatal(err)
	}
	nettest.Pump(t, func() bool { return link.State() == gnet.Open && len(bh()) == 1 }, a, b)
	hs := &linkHandler{}
	if _, err := a.Connect(new(silentTransport), "nowhere:1", hs); err != nil {
		t.Fatal(err)
	}
	const n = 200
	for i := range n {
		if err := link.Send(&upMsg{i}); err != nil {
			t.Fatal(err)
		}
	}
	pumped := make(chan struct{})
	go func() { // B's game loop, until its end of the link is told
		defer close(pumped)
		end := time.Now().Add(nettest.Deadline)
		for bh()[0].ended() == nil && time.Now().Before(end) {
			_ = b.Update(time.Millisecond)
			events(b.Server)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), nettest.Deadline)
	defer cancel()
	err = a.Shutdown(ctx, "maintenance")
	<-pumped
	if err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if ups := bh()[0].seen().ups; len(ups) != n {
		t.Errorf("B got %d of the %d messages queued before Shutdown", len(ups), n)
	}
	wantEnd(t, "B's end of the link", bh()[0].ended(), true, "maintenance")
	wantEnd(t, "A's end of the link", ha.ended(), false, "maintenance")
	wantEnd(t, "the dial in progress", hs.ended(), false, "maintenance")
	if _, err := a.Connect(nw, b.Addr(), nil); !errors.Is(err, gnet.ErrClosed) {
		t.Errorf("Connect after Shutdown: %v, want ErrClosed", err)
	}
}

// TestServerConnectNilTransport: the error says what to pass.
func TestServerConnectNilTransport(t *testing.T) {
	a, err := gnet.Listen(gnet.ServerConfig{Config: gnet.Config{Factory: linkFactory(), Transport: new(mem.Network)}, Addr: "a:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.Connect(nil, "b:0", nil); err == nil || !strings.Contains(err.Error(), "tcp.New") {
		t.Errorf("Connect over a nil transport: %v", err)
	}
}

// wantEnd fails t unless err is a *DisconnectError with exactly remote and
// reason and no underlying error: the ending a bye or Disconnect gives.
func wantEnd(t testing.TB, who string, err error, remote bool, reason string) {
	t.Helper()
	var de *gnet.DisconnectError
	if !errors.As(err, &de) || de.Remote != remote || de.Reason != reason || de.Err != nil {
		t.Fatalf("%s: %#v, want a DisconnectError{Remote: %v, Reason: %q}", who, err, remote, reason)
	}
}

// TestServerConnectRacesClose: Connect from several goroutines while Close
// runs: each call either fails with ErrClosed or its connection is among
// those Close ends, so that none is left connecting and no goroutine
// outlives Close.
func TestServerConnectRacesClose(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() { nettest.CheckGoroutines(t, before) })
	for range 20 {
		a, err := gnet.Listen(gnet.ServerConfig{Config: gnet.Config{
			Factory: linkFactory(), Transport: new(mem.Network), HandshakeTimeout: time.Hour,
		}, Addr: "a:0"})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var made []*gnet.Conn
		started := make(chan struct{}, 4)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					c, err := a.Connect(new(silentTransport), "nowhere:1", nil)
					if i == 0 {
						started <- struct{}{}
					}
					if err != nil {
						if !errors.Is(err, gnet.ErrClosed) {
							t.Errorf("Connect: %v", err)
						}
						return
					}
					mu.Lock()
					made = append(made, c)
					mu.Unlock()
				}
			}()
		}
		for range 4 {
			<-started
		}
		a.Close()
		wg.Wait()
		for _, c := range made {
			if s := c.State(); s != gnet.Closed {
				t.Fatalf("a connection made while Close ran is %v after it", s)
			}
		}
	}
}
