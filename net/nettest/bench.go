package nettest

import (
	"context"
	"slices"
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

// OneWay is the one-way benchmark on p: b.N chats sent by the client as
// fast as its queue takes them, timed until the server's handler had the
// last; it reports msgs/s. The client's Update runs only while its queue
// is full and at the end (ENet sends what is queued in Update).
func (p *BenchPair) OneWay(b *testing.B) {
	msg := Chat{Player: "Tom", Msg: "Test message"}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		for p.Conn.Send(&msg) != nil { // queue full: the server is behind
			_ = p.Cli.Update(0)
		}
	}
	for p.Chats.Load() < int64(b.N) {
		_ = p.Cli.Update(0)
		time.Sleep(50 * time.Microsecond)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

// PingPong is the round-trip benchmark on p, which must echo: b.N chats,
// each sent when the echo of the one before arrived, the client blocking
// in Update(timeout) for it; it reports the median and p99 round trip.
func (p *BenchPair) PingPong(b *testing.B) {
	var got int
	if err := gnet.On(p.Cli, func(_ *gnet.Conn, m Chat) { got++ }); err != nil {
		b.Fatal(err)
	}
	msg := Chat{Player: "Tom", Msg: "Test message"}
	rtts := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if err := p.Conn.Send(&msg); err != nil {
			b.Fatal(err)
		}
		for got <= i {
			_ = p.Cli.Update(time.Second)
		}
		rtts = append(rtts, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(rtts)
	b.ReportMetric(float64(rtts[len(rtts)/2].Nanoseconds())/1e3, "median-µs")
	b.ReportMetric(float64(rtts[len(rtts)*99/100].Nanoseconds())/1e3, "p99-µs")
}
