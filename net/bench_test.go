package net_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	stdnet "net"
	"runtime"
	"slices"
	"testing"

	"github.com/gonetic/gonetic/adapters/mem"
	"github.com/gonetic/gonetic/adapters/tcp"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/nettest"
	"github.com/gonetic/gonetic/net/transport"
)

var adapters = []struct {
	name string
	tr   func() transport.Transport
	addr string
}{
	{"tcp", func() transport.Transport { return tcp.New(tcp.Options{}) }, "127.0.0.1:0"},
}

// BenchmarkOneWay: chat messages client → server through the whole stack
// (typed Send → frames → Update → handler), counted when the handler ran.
func BenchmarkOneWay(b *testing.B) {
	for _, a := range adapters {
		b.Run(a.name, func(b *testing.B) {
			p := nettest.NewBenchPair(b, a.tr, a.addr, false)
			defer p.Close()
			p.OneWay(b)
		})
	}
}

// BenchmarkPingPong: round trips of one chat message, the server's handler
// echoing it; the client blocks in Update(timeout) for the reply.
func BenchmarkPingPong(b *testing.B) {
	for _, a := range adapters {
		b.Run(a.name, func(b *testing.B) {
			p := nettest.NewBenchPair(b, a.tr, a.addr, true)
			defer p.Close()
			p.PingPong(b)
		})
	}
}

// BenchmarkSend: the cost of a typed Send (encode and queue) alone: the
// server is a bare TCP peer that answers the handshake and discards
// everything, so no receiving work shares this process's counters.
func BenchmarkSend(b *testing.B) {
	ln, err := stdnet.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		var hdr [4]byte
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return
		}
		if _, err := io.CopyN(io.Discard, c, int64(binary.BigEndian.Uint32(hdr[:]))); err != nil {
			return
		}
		// welcome: 0x00, then msgpack ["welcome", 1] (docs/PROTOCOL.md)
		welcome := []byte{0x00, 0x92, 0xa7, 'w', 'e', 'l', 'c', 'o', 'm', 'e', 0x01}
		_, _ = c.Write(binary.BigEndian.AppendUint32(nil, uint32(len(welcome))))
		_, _ = c.Write(welcome)
		_, _ = io.Copy(io.Discard, c)
	}()
	// The queue of tcp's defaults before it was bounded to 4 MiB, so that
	// the figure stays the cost of a Send, not of waiting for the reader.
	tr := tcp.New(tcp.Options{MaxQueued: 64 << 20})
	cli, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: nettest.NewFactory(nil), Transport: tr}})
	if err != nil {
		b.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), nettest.Deadline)
	defer cancel()
	conn, err := cli.Dial(ctx, ln.Addr().String(), nil)
	if err != nil {
		b.Fatal(err)
	}
	msg := nettest.Chat{Player: "Tom", Msg: "Test message"}
	for range 100000 { // grow the send buffers to their working size
		_ = conn.Send(&msg)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		err := conn.Send(&msg)
		for errors.Is(err, transport.ErrQueueFull) { // the reader fell behind
			runtime.Gosched()
			err = conn.Send(&msg)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdateIdle: Update(0) with nothing to do.
func BenchmarkUpdateIdle(b *testing.B) {
	nw := new(mem.Network)
	p := nettest.NewBenchPair(b, func() transport.Transport { return nw }, "bench:0", false)
	defer p.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = p.Cli.Update(0)
	}
}

// BenchmarkSendTo is a server sending one 600-byte message to 1,000
// connections: encoded once with SendTo, against one Send per connection
// (an encode each), and 100 SendTos of 10 (SendToViews). The peers are bare links of the adapter that drop what
// they receive, so that allocations are the server's. The figure that
// matters is ns/recipient; allocs/op is for all 1,000 recipients together.
func BenchmarkSendTo(b *testing.B) {
	for _, tr := range []struct {
		name string
		new  func() transport.Transport
		addr string
	}{
		{"null", func() transport.Transport { return new(nullTransport) }, "null"},
		{"mem", func() transport.Transport { return new(mem.Network) }, "server:0"},
		{"tcp", func() transport.Transport { return tcp.New(tcp.Options{}) }, "127.0.0.1:0"},
	} {
		b.Run(tr.name, func(b *testing.B) {
			const n, views = 1000, 100
			t := tr.new()
			f := nettest.NewFactory(nil)
			srv, err := gnet.Listen(gnet.ServerConfig{Config: gnet.Config{Factory: f, Transport: t, PingInterval: -1}, Addr: tr.addr, MaxConns: n})
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), nettest.Deadline)
			defer cancel()
			hello := nettest.Hello(f)
			for range n {
				l, err := t.Dial(ctx, srv.Addr(), transport.Config{Channels: f.Channels()}, discardSink{})
				if err != nil {
					b.Fatal(err)
				}
				defer l.Abort()
				if err := l.Send(0, transport.Reliable, hello); err != nil {
					b.Fatal(err)
				}
			}
			nettest.Pump(b, func() bool { return srv.NumConns() == n }, srv)
			msg := &nettest.Seq{Data: make([]byte, 590)}
			all := srv.Connections(nil)
			// A peer that falls behind fills its queue: such a send fails
			// fast, and is counted rather than ending the benchmark.
			full := func(b *testing.B, err error) int {
				if err != nil && !errors.Is(err, transport.ErrQueueFull) {
					b.Fatal(err)
				}
				if err != nil {
					return 1
				}
				return 0
			}
			b.Run("SendTo", func(b *testing.B) {
				b.ReportAllocs()
				fulls := 0
				for i := 0; b.Loop(); i++ {
					msg.N = i
					fulls += full(b, srv.SendTo(msg, all))
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/recipient")
				b.ReportMetric(float64(fulls)/float64(b.N), "full/op")
			})
			b.Run("SendEach", func(b *testing.B) {
				b.ReportAllocs()
				fulls := 0
				for i := 0; b.Loop(); i++ {
					msg.N = i
					for c := range all {
						fulls += full(b, c.Send(msg))
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/recipient")
				b.ReportMetric(float64(fulls)/float64(b.N), "full/op")
			})
			// Interest management's shape (package game's Grid): 100
			// views of 10 connections, a snapshot of its own encoded once
			// per view, sent to a set the game keeps.
			set := slices.Collect(all)
			b.Run("SendToViews", func(b *testing.B) {
				b.ReportAllocs()
				fulls := 0
				for i := 0; b.Loop(); i++ {
					for v := range views {
						msg.N = i*views + v
						fulls += full(b, srv.SendTo(msg, slices.Values(set[v*n/views:(v+1)*n/views])))
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/recipient")
				b.ReportMetric(float64(fulls)/float64(b.N), "full/op")
			})
		})
	}
}

// nullTransport's links copy what is sent into a buffer they reuse and
// deliver nothing: the cost of a send without an adapter's. Dial makes a
// link to its one listener.
type nullTransport struct {
	accept transport.Accept
}

func (*nullTransport) Name() string { return "null" }

func (t *nullTransport) Listen(_ string, _ transport.Config, accept transport.Accept) (transport.Listener, error) {
	t.accept = accept
	return nullListener{}, nil
}

// Dial gives the listener a link whose first payload is what the caller
// sends, and returns a link that delivers nothing back.
func (t *nullTransport) Dial(_ context.Context, _ string, _ transport.Config, _ transport.Sink) (transport.Link, error) {
	sink := t.accept(&nullLink{})
	return &nullDialed{sink: sink}, nil
}

// nullDialed hands what it is sent to the listener's side.
type nullDialed struct {
	nullLink
	sink transport.Sink
}

func (l *nullDialed) Send(ch uint8, _ transport.Delivery, p []byte) error {
	l.sink.Receive(ch, p)
	return nil
}

type nullListener struct{}

func (nullListener) Addr() string { return "null" }
func (nullListener) Close() error { return nil }

type nullLink struct{ buf []byte }

func (l *nullLink) Send(_ uint8, _ transport.Delivery, p []byte) error {
	l.buf = append(l.buf[:0], p...)
	return nil
}
func (*nullLink) Flush()                 {}
func (*nullLink) Close()                 {}
func (*nullLink) Abort()                 {}
func (*nullLink) RemoteAddr() string     { return "null" }
func (*nullLink) Stats() transport.Stats { return transport.Stats{} }

// discardSink drops what a bare benchmark peer receives.
type discardSink struct{}

func (discardSink) Receive(uint8, []byte) {}
func (discardSink) Closed(error)          {}
