//go:build cgo

package enet

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gonetic/gonetic/net/transport"
)

// countSink counts payloads and signals progress without keeping them.
type countSink struct {
	n      atomic.Int64
	step   chan struct{}
	closed chan struct{}
	echo   transport.Link // if set, every payload is sent back
	every  bool           // signal every payload, not every 1024th
}

func newCountSink() *countSink {
	return &countSink{step: make(chan struct{}, 1), closed: make(chan struct{})}
}

func (s *countSink) Receive(ch uint8, p []byte) {
	if s.echo != nil {
		s.echo.Send(ch, transport.Reliable, p)
	}
	if n := s.n.Add(1); n&1023 == 0 || s.every {
		select {
		case s.step <- struct{}{}:
		default:
		}
	}
}

func (s *countSink) Closed(error) { close(s.closed) }

func benchPair(b *testing.B, opts *Options, echo bool) (cl transport.Link, client, server *countSink, cleanup func()) {
	tr := newTransport(b, opts)
	server = newCountSink()
	ln, err := tr.Listen("127.0.0.1:0", transport.Config{}, func(l transport.Link) transport.Sink {
		if echo {
			server.echo = l
		}
		return server
	})
	if err != nil {
		b.Fatal(err)
	}
	client = newCountSink()
	client.every = echo
	cl, err = tr.Dial(context.Background(), ln.Addr(), transport.Config{}, client)
	if err != nil {
		b.Fatal(err)
	}
	return cl, client, server, func() {
		cl.Close()
		<-client.closed
		ln.Close()
	}
}

// BenchmarkOneWayReliable sends 19-byte reliable payloads (the size of a
// msgpack chat message) one way, at most 64 Ki unreceived at a time.
func BenchmarkOneWayReliable(b *testing.B) { forPeerLimits(b, benchOneWay) }

func benchOneWay(b *testing.B, opts *Options) {
	cl, _, srv, cleanup := benchPair(b, opts, false)
	defer cleanup()
	p := make([]byte, 19)
	const window = 64 << 10
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; {
		if int64(i)-srv.n.Load() >= window {
			<-srv.step
			continue
		}
		if err := cl.Send(0, transport.Reliable, p); err != nil {
			if err == ErrQueueFull {
				<-srv.step
				continue
			}
			b.Fatal(err)
		}
		i++
	}
	for srv.n.Load() < int64(b.N) {
		select {
		case <-srv.step:
		case <-time.After(100 * time.Millisecond): // the last step may not be signalled
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

// BenchmarkPingPong measures the round trip of one 19-byte reliable
// payload echoed by the listener's Sink.
func BenchmarkPingPong(b *testing.B) { forPeerLimits(b, benchPingPong) }

func benchPingPong(b *testing.B, opts *Options) {
	cl, client, _, cleanup := benchPair(b, opts, true)
	defer cleanup()
	p := make([]byte, 19)
	rtts := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Now()
		if err := cl.Send(0, transport.Reliable, p); err != nil {
			b.Fatal(err)
		}
		for client.n.Load() <= int64(i) {
			<-client.step
		}
		rtts = append(rtts, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(rtts)
	b.ReportMetric(float64(rtts[len(rtts)/2].Nanoseconds())/1e3, "µs-median")
	b.ReportMetric(float64(rtts[len(rtts)*99/100].Nanoseconds())/1e3, "µs-p99")
}

// peerLimits are the listener sizes benchmarked: ENet scans every peer slot
// on every service, so ENet's maximum costs more per round than the
// default, and the default more than a few.
var peerLimits = []int{MaxPeerLimit, DefaultPeerLimit, 64}

func forPeerLimits(b *testing.B, f func(b *testing.B, opts *Options)) {
	for _, n := range peerLimits {
		b.Run(fmt.Sprintf("peers=%d", n), func(b *testing.B) { f(b, &Options{PeerLimit: n}) })
	}
}
