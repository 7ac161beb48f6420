package flow

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/mem"
	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/message"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/nettest"
	"github.com/gonetic/gonetic/net/transport"
)

// deadline bounds every wait; tests synchronise on events, never sleep.
const deadline = 20 * time.Second

// Chat is a game message that shares a Station's connection with flows.
type Chat struct {
	Player string
	Msg    string
}

// Ping is a game message the server echoes.
type Ping struct {
	Seq uint64
}

// env is one client connected to one server that serves flows, over one
// carrier.
type env struct {
	t      testing.TB
	caller Caller
	// handle registers a handler on the serving side.
	handle func(name string, fn HandlerFunc)
	// handleStruct registers a handler constructor on the serving side.
	handleStruct func(name string, nh func(*Flow, *Reply) Handler)
	// dropClient breaks the client's connection without a goodbye.
	dropClient func()
	// killServer makes the server vanish: its connections break.
	killServer func()
	// shutdown stops the serving side gracefully.
	shutdown func(ctx context.Context) error
	// sent is what the client's connection has sent, in bytes.
	sent func() uint64
	// chat sends a game message from client to server (Station only).
	chat func(Chat) error
	// chats receives the game messages the server gets (Station only).
	chats chan Chat
	// srvDispatcher is the net/ server (Station only).
	srvDispatcher gnet.Dispatcher
	// ping sends a Ping the server echoes into pongs (Station only).
	ping  func(seq uint64) error
	pongs chan uint64
	// onChat, if set, is called as the server handles a chat message,
	// inside its Update (Station only).
	onChat atomic.Pointer[func()]
	// serverReceived is the flow_data bytes the server has handled
	// (Station only).
	serverReceived func() int64
	// shared marks the carriers shared with game messages.
	shared bool
	// serverEP is the serving side's endpoint, for test hooks.
	serverEP, clientEP *endpoint
}

type carrier struct {
	name string
	new  func(t *testing.T, server, client Config) *env
}

var carriers = []carrier{
	{"listener", func(t *testing.T, s, c Config) *env {
		return newListenerEnv(t, s, c)
	}},
	{"listener/mem", func(t *testing.T, s, c Config) *env {
		return newListenerEnvOver(t, &mem.Network{}, "server:0", s, c)
	}},
	{"listener/tcp-adapter", func(t *testing.T, s, c Config) *env {
		return newListenerEnvOver(t, tcp.New(tcp.Options{}), "127.0.0.1:0", s, c)
	}},
	{"station/tcp", func(t *testing.T, s, c Config) *env {
		return newStationEnv(t, tcp.New(tcp.Options{}), tcp.New(tcp.Options{}), s, c)
	}},
	{"station/mem", func(t *testing.T, s, c Config) *env {
		n := &mem.Network{}
		return newStationEnv(t, n, n, s, c)
	}},
}

// forEach runs body over every carrier, with a goroutine leak check.
func forEach(t *testing.T, body func(t *testing.T, c carrier)) {
	for _, c := range carriers {
		t.Run(c.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			t.Cleanup(func() { nettest.CheckGoroutines(t, before) })
			body(t, c)
		})
	}
}

func newListenerEnv(t testing.TB, scfg, ccfg Config) *env {
	return newListenerEnvOver(t, nil, "127.0.0.1:0", scfg, ccfg)
}

// newListenerEnvOver is newListenerEnv over a network adapter; nil for the
// package's own TCP sockets.
func newListenerEnvOver(t testing.TB, tr transport.Transport, addr string, scfg, ccfg Config) *env {
	srv, err := Listen(ServerConfig{Config: scfg, Addr: addr, Transport: tr})
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	cl, err := Dial(ctx, srv.Addr(), ClientConfig{Config: ccfg, Transport: tr})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { cl.Close() })
	return &env{
		t:      t,
		caller: cl,
		handle: func(name string, fn HandlerFunc) {
			if err := srv.HandleFunc(name, fn); err != nil {
				t.Fatal(err)
			}
		},
		handleStruct: func(name string, nh func(*Flow, *Reply) Handler) {
			if err := srv.Handle(name, nh); err != nil {
				t.Fatal(err)
			}
		},
		dropClient: func() { cl.l.abort() },
		killServer: func() {
			srv.mu.Lock()
			links := make([]link, 0, len(srv.links))
			for l := range srv.links {
				links = append(links, l)
			}
			srv.mu.Unlock()
			for _, l := range links {
				l.abort()
			}
		},
		sent:     func() uint64 { return cl.Stats().BytesSent },
		shutdown: srv.Shutdown,
		serverEP: srv.ep,
		clientEP: cl.ep,
	}
}

// loop runs Update on u until stop is closed; it returns a channel closed
// when the loop ended.
func loop(u interface{ Update(time.Duration) error }, stop chan struct{}) chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := u.Update(5 * time.Millisecond); err != nil {
				return
			}
		}
	}()
	return done
}

func stationFactory(t testing.TB) *message.Factory {
	f := gnet.NewFactory()
	if _, err := message.Register[Chat](f, message.Name("chat_msg")); err != nil {
		t.Fatal(err)
	}
	if _, err := message.Register[Ping](f); err != nil {
		t.Fatal(err)
	}
	if err := Register(f); err != nil {
		t.Fatal(err)
	}
	return f
}

func newStationEnv(t testing.TB, st, ct transport.Transport, scfg, ccfg Config) *env {
	fs, fc := stationFactory(t), stationFactory(t)
	srv, err := gnet.Listen(gnet.ServerConfig{Config: gnet.Config{Factory: fs, Transport: st}, Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatalf("gnet.Listen: %v", err)
	}
	sst, err := Attach(srv, fs, scfg)
	if err != nil {
		t.Fatalf("Attach server: %v", err)
	}
	chats := make(chan Chat, 16)
	e := &env{}
	if err := gnet.On(srv, func(c *gnet.Conn, m Chat) {
		if hook := e.onChat.Load(); hook != nil {
			(*hook)()
		}
		select {
		case chats <- m:
		default:
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := gnet.On(srv, func(c *gnet.Conn, m Ping) { _ = c.Send(&m) }); err != nil {
		t.Fatal(err)
	}
	pongs := make(chan uint64, 16)
	cl, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: fc, Transport: ct}})
	if err != nil {
		t.Fatalf("gnet.NewClient: %v", err)
	}
	cst, err := Attach(cl, fc, ccfg)
	if err != nil {
		t.Fatalf("Attach client: %v", err)
	}
	if err := gnet.On(cl, func(c *gnet.Conn, m Ping) { pongs <- m.Seq }); err != nil {
		t.Fatal(err)
	}

	stopServer := make(chan struct{})
	serverLoop := loop(srv, stopServer)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	conn, err := cl.Dial(ctx, srv.Addr(), nil)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	stopClient := make(chan struct{})
	clientLoop := loop(cl, stopClient)

	var once1, once2 sync.Once
	closeClient := func() {
		once1.Do(func() {
			close(stopClient)
			<-clientLoop
			cl.Close()
		})
	}
	closeServer := func() {
		once2.Do(func() {
			close(stopServer)
			<-serverLoop
			srv.Close()
		})
	}
	t.Cleanup(func() {
		cst.Close()
		sst.Close()
		closeClient()
		closeServer()
	})
	*e = env{
		t:      t,
		caller: cst.Over(conn),
		handle: func(name string, fn HandlerFunc) {
			if err := sst.HandleFunc(name, fn); err != nil {
				t.Fatal(err)
			}
		},
		handleStruct: func(name string, nh func(*Flow, *Reply) Handler) {
			if err := sst.Handle(name, nh); err != nil {
				t.Fatal(err)
			}
		},
		dropClient:    closeClient,
		killServer:    closeServer,
		sent:          func() uint64 { return conn.Stats().BytesSent },
		shutdown:      sst.Shutdown,
		chat:          func(m Chat) error { return conn.Send(&m) },
		chats:         chats,
		ping:          func(seq uint64) error { return conn.Send(&Ping{seq}) },
		srvDispatcher: srv,
		pongs:         pongs,
		shared:        true,
		serverEP:      sst.ep,
		clientEP:      cst.ep,
		serverReceived: func() int64 {
			sst.mu.Lock()
			defer sst.mu.Unlock()
			var n int64
			for _, s := range sst.sessions {
				s.mu.Lock()
				n += s.received
				s.mu.Unlock()
			}
			return n
		},
	}
	return e
}

// wait fails the test if ch is not closed (or sent on) within deadline.
func wait[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(deadline):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}

// collect ranges over a result and returns what came back.
func collect(results func(func(Packet, error) bool)) (msgs [][]byte, final Packet, err error) {
	for p, e := range results {
		if e != nil {
			return msgs, Packet{}, e
		}
		if p.Final() {
			return msgs, p, nil
		}
		msgs = append(msgs, append([]byte(nil), p.Bytes()...))
	}
	return msgs, Packet{}, errors.New("result ended without final value or error")
}

// waitFor fails the test if cond does not become true within deadline. It
// is for state that no channel announces; it yields between checks.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(deadline)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
	}
}
