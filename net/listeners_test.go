package net_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gonetic/gonetic/adapters/enet"
	"github.com/gonetic/gonetic/adapters/mem"
	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/adapters/websocket"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/nettest"
	"github.com/gonetic/gonetic/net/transport"
)

// listenerCase is one adapter a server listens on and its clients use.
type listenerCase struct {
	name string
	t    transport.Transport
	addr string // to listen on
	dial string // to dial, when not the address the listener reports
}

// severalAdapters returns ENet, TCP, the in-memory adapter and WebSocket
// (mounted on a path of the game's own HTTP server), each with the
// address to listen on.
func severalAdapters(t *testing.T) []listenerCase {
	t.Helper()
	en, err := enet.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	ws := websocket.New(websocket.Options{})
	mux := http.NewServeMux()
	mux.Handle("/play", ws)
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	return []listenerCase{
		{"enet", en, "127.0.0.1:0", ""},
		{"tcp", tcp.New(tcp.Options{}), "127.0.0.1:0", ""},
		{"mem", new(mem.Network), "server:0", ""},
		{"websocket", ws, "", "ws" + strings.TrimPrefix(hs.URL, "http") + "/play"},
	}
}

// serverOn listens on the first case with cfg and adds the others; it
// returns each case's bound address.
func serverOn(t *testing.T, cfg gnet.ServerConfig, cases []listenerCase) (*gnet.Server, []string) {
	t.Helper()
	cfg.Transport, cfg.Addr = cases[0].t, cases[0].addr
	srv, err := gnet.Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	addrs := []string{srv.Addr()}
	for _, c := range cases[1:] {
		a, err := srv.AddListener(c.t, c.addr)
		if err != nil {
			t.Fatalf("AddListener(%s): %v", c.name, err)
		}
		if c.dial != "" {
			a = c.dial
		}
		addrs = append(addrs, a)
	}
	return srv, addrs
}

// TestOneServerSeveralAdapters: clients over ENet, TCP, the in-memory
// adapter and WebSocket chat with each other through one server: one set of handlers,
// one Broadcast reaching every adapter's connections.
func TestOneServerSeveralAdapters(t *testing.T) {
	cases := severalAdapters(t)
	var (
		mu      sync.Mutex
		servers []*nettest.ChatHandler
	)
	srv, addrs := serverOn(t, gnet.ServerConfig{
		Config: gnet.Config{Factory: nettest.NewFactory(nil)},
		NewHandler: func() any {
			h := new(nettest.ChatHandler)
			mu.Lock()
			servers = append(servers, h)
			mu.Unlock()
			return h
		},
	}, cases)

	us := []nettest.Updater{srv}
	var (
		conns []*gnet.Conn
		hs    []*nettest.ChatHandler
	)
	for i, c := range cases {
		cli, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: nettest.NewFactory(nil), Transport: c.t}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cli.Close() })
		h := new(nettest.ChatHandler)
		conn, err := cli.Connect(addrs[i], h)
		if err != nil {
			t.Fatalf("Connect over %s: %v", c.name, err)
		}
		us, conns, hs = append(us, cli), append(conns, conn), append(hs, h)
	}
	nettest.Pump(t, func() bool {
		for _, c := range conns {
			if !c.Connected() {
				return false
			}
		}
		return srv.NumConns() == len(cases)
	}, us...)

	for i, c := range cases {
		if err := conns[i].Send(&nettest.Chat{Player: c.name, Msg: "hello from " + c.name}); err != nil {
			t.Fatal(err)
		}
	}
	heard := func(h *nettest.ChatHandler) map[string]bool {
		m := map[string]bool{}
		for _, c := range h.Chats {
			m[c.Player] = true
		}
		return m
	}
	nettest.Pump(t, func() bool {
		for _, h := range hs {
			if len(heard(h)) < len(cases)-1 {
				return false
			}
		}
		return true
	}, us...)
	for i, h := range hs {
		got := heard(h)
		for j, c := range cases {
			if got[c.name] != (i != j) {
				t.Errorf("the %s client heard %v: want every other adapter's client and not its own", cases[i].name, got)
			}
		}
	}
}

// TestOneMaxConnsAcrossAdapters: MaxConns counts the connections of every
// listener together.
func TestOneMaxConnsAcrossAdapters(t *testing.T) {
	cases := severalAdapters(t)[1:3] // TCP first, mem added
	srv, addrs := serverOn(t, gnet.ServerConfig{Config: gnet.Config{Factory: nettest.NewFactory(nil)}, MaxConns: 1}, cases)
	tcpCli, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: nettest.NewFactory(nil), Transport: cases[0].t}})
	if err != nil {
		t.Fatal(err)
	}
	defer tcpCli.Close()
	memCli, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: nettest.NewFactory(nil), Transport: cases[1].t}})
	if err != nil {
		t.Fatal(err)
	}
	defer memCli.Close()
	first, err := tcpCli.Connect(addrs[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	nettest.Pump(t, first.Connected, srv, tcpCli)
	h := new(nettest.ChatHandler)
	if _, err := memCli.Connect(addrs[1], h); err != nil {
		t.Fatal(err)
	}
	nettest.Pump(t, func() bool { return h.Disconnected != nil }, srv, tcpCli, memCli)
	if !strings.Contains(h.Disconnected.Error(), "server full") {
		t.Errorf("a second connection on another adapter with MaxConns 1 ended with %v, want server full", h.Disconnected)
	}
}

// TestCloseClosesEveryListener: after Close no listener accepts, and
// AddListener fails with ErrClosed.
func TestCloseClosesEveryListener(t *testing.T) {
	cases := severalAdapters(t)[1:]
	srv, addrs := serverOn(t, gnet.ServerConfig{Config: gnet.Config{Factory: nettest.NewFactory(nil)}}, cases)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		ctx, cancel := context.WithTimeout(context.Background(), nettest.Deadline)
		link, err := c.t.Dial(ctx, addrs[i], transport.Config{}, muteSink{})
		cancel()
		if err == nil {
			link.Abort()
			t.Errorf("%s: a dial to %s succeeded after Close", c.name, addrs[i])
		}
	}
	if _, err := srv.AddListener(tcp.New(tcp.Options{}), "127.0.0.1:0"); !errors.Is(err, gnet.ErrClosed) {
		t.Errorf("AddListener after Close: %v, want ErrClosed", err)
	}
}

// TestAddListenerReportsItsAdapter: a listen that fails names the adapter
// and the address; a nil adapter is an error, not a panic.
func TestAddListenerReportsItsAdapter(t *testing.T) {
	_, srv := memServer(t, gnet.ServerConfig{Config: gnet.Config{Factory: nettest.NewFactory(nil)}})
	_, err := srv.AddListener(tcp.New(tcp.Options{}), "127.0.0.1:-1")
	if err == nil || !strings.Contains(err.Error(), "over tcp") || !strings.Contains(err.Error(), "127.0.0.1:-1") {
		t.Errorf("AddListener on a bad address: %v, want an error naming tcp and the address", err)
	}
	if _, err := srv.AddListener(nil, "x"); err == nil {
		t.Error("AddListener(nil): no error")
	}
}
