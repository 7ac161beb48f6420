package stream

import (
	"context"
	"io"
	stdnet "net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/flow"
	"github.com/gonetic/gonetic/adapters/mem"
	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/message"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/nettest"
	"github.com/gonetic/gonetic/net/transport"
)

// deadline bounds every wait; tests synchronise on events, never sleep.
const deadline = 20 * time.Second

// env is one client connected to one server that serves streams, over one
// carrier.
type env struct {
	caller flow.Caller
	mux    Mux
	// drop breaks the client's connection without a goodbye.
	drop func()
	// closeServer closes the serving side.
	closeServer func()
}

type carrier struct {
	name string
	new  func(t *testing.T) *env
}

var carriers = []carrier{
	{"listener", newListenerEnv},
	{"station/tcp", func(t *testing.T) *env { return newStationEnv(t, tcp.New(tcp.Options{}), tcp.New(tcp.Options{}), true) }},
	{"station/mem", func(t *testing.T) *env {
		n := &mem.Network{}
		return newStationEnv(t, n, n, false)
	}},
}

// forEach runs body over every carrier, with a goroutine leak check.
func forEach(t *testing.T, body func(t *testing.T, e *env)) {
	for _, c := range carriers {
		t.Run(c.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			t.Cleanup(func() { nettest.CheckGoroutines(t, before) })
			body(t, c.new(t))
		})
	}
}

// ctx returns a context bounded by deadline.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), deadline)
	t.Cleanup(cancel)
	return c
}

func newListenerEnv(t *testing.T) *env {
	srv, err := flow.Listen(flow.ServerConfig{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	px := newProxy(t, srv.Addr())
	cl, err := flow.Dial(ctx(t), px.addr(), flow.ClientConfig{})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { cl.Close() })
	return &env{caller: cl, mux: srv, drop: px.drop, closeServer: func() { srv.Close() }}
}

// loop runs Update on u until stop is closed.
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

func newStationEnv(t *testing.T, st, ct transport.Transport, proxied bool) *env {
	factory := func() *message.Factory {
		f := gnet.NewFactory()
		if err := flow.Register(f); err != nil {
			t.Fatal(err)
		}
		return f
	}
	fs, fc := factory(), factory()
	srv, err := gnet.Listen(gnet.ServerConfig{Config: gnet.Config{Factory: fs, Transport: st}, Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatalf("gnet.Listen: %v", err)
	}
	sst, err := flow.Attach(srv, fs, flow.Config{})
	if err != nil {
		t.Fatalf("Attach server: %v", err)
	}
	cl, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: fc, Transport: ct}})
	if err != nil {
		t.Fatalf("gnet.NewClient: %v", err)
	}
	cst, err := flow.Attach(cl, fc, flow.Config{})
	if err != nil {
		t.Fatalf("Attach client: %v", err)
	}
	stopServer := make(chan struct{})
	serverLoop := loop(srv, stopServer)
	addr := srv.Addr()
	var px *proxy
	if proxied {
		px = newProxy(t, addr)
		addr = px.addr()
	}
	conn, err := cl.Dial(ctx(t), addr, nil)
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
			sst.Close()
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
	e := &env{caller: cst.Over(conn), mux: sst, drop: closeClient, closeServer: closeServer}
	if px != nil {
		e.drop = px.drop
	}
	return e
}

// proxy forwards TCP connections to a target; drop breaks them all, as a
// network failure would.
type proxy struct {
	ln     stdnet.Listener
	target string
	mu     sync.Mutex // guards conns
	conns  []stdnet.Conn
	wg     sync.WaitGroup
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := stdnet.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.drop()
		p.wg.Wait()
	})
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		a, err := p.ln.Accept()
		if err != nil {
			return
		}
		b, err := stdnet.Dial("tcp", p.target)
		if err != nil {
			a.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, a, b)
		p.mu.Unlock()
		p.wg.Add(2)
		go p.copy(a, b)
		go p.copy(b, a)
	}
}

func (p *proxy) copy(dst, src stdnet.Conn) {
	defer p.wg.Done()
	io.Copy(dst, src)
	dst.Close()
	src.Close()
}

func (p *proxy) drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		if tc, ok := c.(*stdnet.TCPConn); ok {
			tc.SetLinger(0)
		}
		c.Close()
	}
	p.conns = nil
}
