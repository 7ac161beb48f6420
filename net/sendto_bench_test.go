package net_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"testing"

	"github.com/gonetic/gonetic/adapters/mem"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/nettest"
	"github.com/gonetic/gonetic/net/transport"
)

// BenchmarkSendToSet is the encode-once send of issue 18: a server sends
// a 600-byte snapshot to 1,000 open connections over adapters/mem, as a
// set the game keeps (a []*Conn it ranges with slices.Values), not
// Server.Connections as BenchmarkSendTo does:
//
//   - SendTo: one Server.SendTo to the 1,000, one encode;
//   - SendEach: Conn.Send to each, an encode per connection;
//   - SendToViews: interest management's shape, 100 views of 10
//     connections, one SendTo (one encode) per view.
//
// The peers are bare links that drop what they receive. ns/recipient and
// allocs/recipient are per connection reached; allocs counts every
// goroutine's, the in-memory pipes' included. "null" (bench_test.go's
// transport that delivers nothing) is the same without an adapter's
// cost: what is left is the server's own.
func BenchmarkSendToSet(b *testing.B) {
	b.Run("mem", func(b *testing.B) { benchSendToSet(b, new(mem.Network), "server:0") })
	b.Run("null", func(b *testing.B) { benchSendToSet(b, new(nullTransport), "null") })
}

func benchSendToSet(b *testing.B, nw transport.Transport, addr string) {
	const n, views = 1000, 100
	f := nettest.NewFactory(nil)
	srv, err := gnet.Listen(gnet.ServerConfig{Config: gnet.Config{Factory: f, Transport: nw, PingInterval: -1}, Addr: addr, MaxConns: n})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), nettest.Deadline)
	defer cancel()
	hello := nettest.Hello(f)
	for range n {
		l, err := nw.Dial(ctx, srv.Addr(), transport.Config{Channels: f.Channels()}, discardSink{})
		if err != nil {
			b.Fatal(err)
		}
		defer l.Abort()
		if err := l.Send(0, transport.Reliable, hello); err != nil {
			b.Fatal(err)
		}
	}
	nettest.Pump(b, func() bool { return srv.NumConns() == n }, srv)
	set := slices.Collect(srv.Connections(nil))
	msg := &nettest.Seq{Data: make([]byte, 590)}

	// The links' buffers grow to their working size on the first sends:
	// that is not the cost of a send.
	for i := range 200 {
		msg.N = i
		_ = srv.SendTo(msg, slices.Values(set))
	}

	run := func(name string, send func(i int) error) {
		b.Run(name, func(b *testing.B) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for i := 0; b.Loop(); i++ {
				if err := send(i); err != nil && !errors.Is(err, transport.ErrQueueFull) {
					b.Fatal(err)
				}
			}
			runtime.ReadMemStats(&after)
			recipients := float64(b.N) * n
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/recipients, "ns/recipient")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/recipients, "allocs/recipient")
		})
	}
	run("SendTo", func(i int) error {
		msg.N = i
		return srv.SendTo(msg, slices.Values(set))
	})
	run("SendEach", func(i int) error {
		msg.N = i
		var first error
		for _, c := range set {
			if err := c.Send(msg); err != nil && first == nil {
				first = err
			}
		}
		return first
	})
	run("SendToViews", func(i int) error {
		var first error
		for v := range views {
			msg.N = i*views + v // a snapshot of its own per view
			if err := srv.SendTo(msg, slices.Values(set[v*n/views:(v+1)*n/views])); err != nil && first == nil {
				first = err
			}
		}
		return first
	})
}
