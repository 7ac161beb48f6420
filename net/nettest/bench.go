package nettest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/transport"
	"github.com/gonetic/gonetic/token"
)

// BenchPair is what the benchmarks of package net and of the adapters
// measure gonetic on: a server whose Update runs on a goroutine of its
// own, counting the Chats it receives (and, with echo, sending each
// back), and one client connected to it, whose Update the benchmark runs.
type BenchPair struct {
	Srv   *gnet.Server
	Cli   *gnet.Client
	Conn  *gnet.Conn   // the client's connection
	Chats atomic.Int64 // Chats the server received
	stop  chan struct{}
	done  sync.WaitGroup
}

// NewBenchPair listens on addr over a transport from tr, dials it with
// another one from tr, and returns once the connection is open. Close it.
func NewBenchPair(tb testing.TB, tr func() transport.Transport, addr string, echo bool) *BenchPair {
	tb.Helper()
	return newBenchPair(tb, tr, addr, echo, false)
}

// NewSealedBenchPair is NewBenchPair with a connect token: the
// connection is sealed (gnet.WithToken, ServerConfig.Tokens).
func NewSealedBenchPair(tb testing.TB, tr func() transport.Transport, addr string, echo bool) *BenchPair {
	tb.Helper()
	return newBenchPair(tb, tr, addr, echo, true)
}

func newBenchPair(tb testing.TB, tr func() transport.Transport, addr string, echo, sealed bool) *BenchPair {
	tb.Helper()
	p := &BenchPair{stop: make(chan struct{})}
	scfg := gnet.ServerConfig{Config: gnet.Config{Factory: NewFactory(nil), Transport: tr()}, Addr: addr}
	var opts []gnet.ConnectOption
	if sealed {
		key := token.NewKey()
		scfg.Tokens = &gnet.Tokens{Key: key, Server: TokenServer}
		opts = append(opts, gnet.WithToken(Token(tb, key, 1)))
	}
	srv, err := gnet.Listen(scfg)
	if err != nil {
		tb.Fatal(err)
	}
	p.Srv = srv
	count := func(c *gnet.Conn, m Chat) { p.Chats.Add(1) }
	if echo {
		// A separate function, so that m escapes only when it is echoed.
		count = func(c *gnet.Conn, m Chat) {
			p.Chats.Add(1)
			_ = c.Send(&m)
		}
	}
	if err := gnet.On(srv, count); err != nil {
		tb.Fatal(err)
	}
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		for {
			select {
			case <-p.stop:
				return
			default:
				_ = srv.Update(10 * time.Millisecond)
			}
		}
	}()
	cli, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: NewFactory(nil), Transport: tr()}})
	if err != nil {
		tb.Fatal(err)
	}
	p.Cli = cli
	ctx, cancel := context.WithTimeout(context.Background(), Deadline)
	defer cancel()
	p.Conn, err = cli.Dial(ctx, srv.Addr(), nil, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// Close stops the server's goroutine and closes both ends.
func (p *BenchPair) Close() {
	close(p.stop)
	p.done.Wait()
	p.Cli.Close()
	p.Srv.Close()
}
