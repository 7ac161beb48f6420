package tcp_test

import (
	"context"
	"errors"
	"io"
	stdnet "net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/net/transport"
)

// chatPayload is 19 bytes, the size of the msgpack chat message
// ["chat_msg" id, "Tom", "Test message"] that DESIGN.md measures.
var chatPayload = []byte("\x93\x01\xa3Tom\xacTest message")

// countSink counts payloads, signals progress every progressEvery of them,
// and signals done when it reaches want.
type countSink struct {
	n        atomic.Int64
	want     atomic.Int64
	done     chan struct{}
	progress chan struct{}
	closed   chan struct{}
}

const progressEvery = 1 << 12

func newCountSink() *countSink {
	return &countSink{done: make(chan struct{}, 1), progress: make(chan struct{}, 1), closed: make(chan struct{})}
}

func (s *countSink) Receive(uint8, []byte) {
	n := s.n.Add(1)
	if n == s.want.Load() {
		s.done <- struct{}{}
	}
	if n%progressEvery == 0 {
		select {
		case s.progress <- struct{}{}:
		default:
		}
	}
}

func (s *countSink) Closed(error) { close(s.closed) }

// expect arms the sink for n more payloads and returns a wait function.
func (s *countSink) expect(n int64) func(b *testing.B) {
	target := s.n.Load() + n
	s.want.Store(target)
	return func(b *testing.B) {
		if s.n.Load() >= target {
			return
		}
		select {
		case <-s.done:
		case <-time.After(time.Minute):
			b.Fatalf("received %d of %d payloads", s.n.Load(), target)
		}
	}
}

// benchPair is a loopback link whose peer counts what arrives.
func benchPair(b *testing.B) (transport.Link, *countSink) {
	b.Helper()
	tr := tcp.New(tcp.Options{})
	sink := newCountSink()
	ln, err := tr.Listen("127.0.0.1:0", transport.Config{}, func(transport.Link) transport.Sink { return sink })
	if err != nil {
		b.Fatal(err)
	}
	l, err := tr.Dial(context.Background(), ln.Addr(), transport.Config{}, newCountSink())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		l.Close()
		ln.Close()
	})
	return l, sink
}

// send retries while the queue is full: the benchmark outruns the peer.
func send(b *testing.B, l transport.Link, p []byte) {
	for {
		err := l.Send(0, transport.Reliable, p)
		if err == nil {
			return
		}
		if !errors.Is(err, tcp.ErrQueueFull) {
			b.Fatal(err)
		}
		runtime.Gosched()
	}
}

// BenchmarkSend measures Send: a copy into the queue under a lock, plus the
// writer's batched writes. The peer discards raw bytes, so that parsing
// does not hold the sender back.
func BenchmarkSend(b *testing.B) {
	ln, err := stdnet.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	drained := make(chan int64, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			drained <- 0
			return
		}
		n, _ := io.Copy(io.Discard, c)
		c.Close()
		drained <- n
	}()
	sink := newCountSink()
	// A small queue: Send meets ErrQueueFull and retries rather than grow
	// the buffers to the default 64 MiB whenever the writer is descheduled.
	l, err := tcp.New(tcp.Options{MaxQueued: 1 << 20}).Dial(context.Background(), ln.Addr().String(), transport.Config{}, sink)
	if err != nil {
		b.Fatal(err)
	}
	for range 10000 { // grow the buffers first
		send(b, l, chatPayload)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(chatPayload)))
	b.ResetTimer()
	for range b.N {
		send(b, l, chatPayload)
	}
	b.StopTimer()
	l.Close()
	<-sink.closed
	if n, want := <-drained, int64(b.N+10000)*int64(4+len(chatPayload)); n != want {
		b.Fatalf("peer read %d bytes, want %d", n, want)
	}
}

// BenchmarkThroughput sends 19-byte payloads one way over loopback and
// counts until the peer's Sink has them all. The sender keeps at most
// oneWay's window (1.5 MiB of frames: more than the socket buffers) ahead
// of the Sink, as a flow-controlled sender would, rather than spin on
// ErrQueueFull.
func BenchmarkThroughput(b *testing.B) {
	l, sink := benchPair(b)
	oneWay(b, l, sink)
}

// BenchmarkTick sends one 700-byte payload to each of 100 links of a
// listener in a row, as a game server's tick sends its snapshots, and
// reports the loop's time (ns/op) and the time until the kernel took the
// last payload (out-ns/op). The peers are plain sockets that discard what
// arrives.
func BenchmarkTick(b *testing.B) {
	const clients = 100
	tr := tcp.New(tcp.Options{})
	links := make(chan transport.Link, clients)
	ln, err := tr.Listen("127.0.0.1:0", transport.Config{}, func(l transport.Link) transport.Sink {
		links <- l
		return newCountSink()
	})
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	var peers []stdnet.Conn
	defer func() {
		for _, c := range peers {
			c.Close()
		}
	}()
	for range clients {
		c, err := stdnet.Dial("tcp", ln.Addr())
		if err != nil {
			b.Fatal(err)
		}
		peers = append(peers, c)
		go func() { _, _ = io.Copy(io.Discard, c) }()
	}
	ls := make([]transport.Link, clients)
	for i := range ls {
		ls[i] = <-links
	}
	snap := make([]byte, 700)
	var out time.Duration
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		for _, l := range ls {
			send(b, l, snap)
		}
		b.StopTimer()
		for _, l := range ls {
			for l.Stats().PayloadsSent < uint64(i+1) {
				runtime.Gosched()
			}
		}
		out += time.Since(start)
		time.Sleep(time.Millisecond) // the links go idle, as between ticks
		b.StartTimer()
	}
	b.ReportMetric(float64(out.Nanoseconds())/float64(b.N), "out-ns/op")
}
