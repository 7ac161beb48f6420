package tcp_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	stdnet "net"
	"sync"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/internal/transporttest"
	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/net/transport"
)

const waitLimit = 10 * time.Second

// sink records payloads and the close on channels, for tests that wait on
// events.
type sink struct {
	payloads chan []byte
	closed   chan error
}

func newSink() *sink {
	return &sink{payloads: make(chan []byte, 1024), closed: make(chan error, 1)}
}

func (s *sink) Receive(ch uint8, p []byte) {
	if ch != 0 {
		panic("tcp delivered on a channel other than 0")
	}
	s.payloads <- bytes.Clone(p)
}

func (s *sink) Closed(err error) { s.closed <- err }

func (s *sink) next(t *testing.T) []byte {
	t.Helper()
	return transporttest.Await(t, s.payloads, "payload")
}

func (s *sink) waitClosed(t *testing.T) error {
	t.Helper()
	return transporttest.Await(t, s.closed, "Closed")
}

// server listens with tcp and hands out each accepted link and its sink.
type server struct {
	ln    transport.Listener
	links chan transport.Link
	sinks chan *sink
}

func listen(t *testing.T, tr *tcp.Transport, cfg transport.Config) *server {
	t.Helper()
	s := &server{links: make(chan transport.Link, 16), sinks: make(chan *sink, 16)}
	ln, err := tr.Listen("127.0.0.1:0", cfg, func(l transport.Link) transport.Sink {
		k := newSink()
		s.links <- l
		s.sinks <- k
		return k
	})
	if err != nil {
		t.Fatal(err)
	}
	s.ln = ln
	t.Cleanup(func() { ln.Close() })
	return s
}

func (s *server) accepted(t *testing.T) (transport.Link, *sink) {
	t.Helper()
	l := transporttest.Await(t, s.links, "accepted link")
	return l, <-s.sinks
}

// rawDial opens a plain TCP connection to the server.
func rawDial(t *testing.T, addr string) *stdnet.TCPConn {
	t.Helper()
	c, err := stdnet.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*stdnet.TCPConn)
}

func frame(p []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(p))), p...)
}

func dial(t *testing.T, tr *tcp.Transport, addr string, cfg transport.Config) (transport.Link, *sink) {
	t.Helper()
	s := newSink()
	l, err := tr.Dial(context.Background(), addr, cfg, s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Abort)
	return l, s
}

func TestWireFormat(t *testing.T) {
	rawLn, err := stdnet.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer rawLn.Close()
	l, s := dial(t, tcp.New(tcp.Options{}), rawLn.Addr().String(), transport.Config{})
	c, err := rawLn.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	if err := l.Send(0, transport.Unsequenced, []byte("abc")); err != nil {
		t.Fatal(err)
	}
	if err := l.Send(0, transport.Reliable, nil); err != nil {
		t.Fatal(err)
	}
	want := []byte{0, 0, 0, 3, 'a', 'b', 'c', 0, 0, 0, 0}
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("on the wire: % x, %v; want % x", got, err, want)
	}

	if _, err := c.Write(frame([]byte("from raw"))); err != nil {
		t.Fatal(err)
	}
	if p := s.next(t); string(p) != "from raw" {
		t.Fatalf("got %q", p)
	}
	// The peer's end of stream: the link half-closes back and reports io.EOF.
	c.(*stdnet.TCPConn).CloseWrite()
	if rest, err := io.ReadAll(c); err != nil || len(rest) != 0 {
		t.Fatalf("after the peer's EOF, read %q, %v; want a clean EOF", rest, err)
	}
	if err := s.waitClosed(t); !errors.Is(err, io.EOF) {
		t.Fatalf("Closed(%v), want io.EOF", err)
	}
}

// TestOversizedFrame: a length above the limit closes that link with a
// *FrameError; another link of the same listener keeps working.
func TestOversizedFrame(t *testing.T) {
	tr := tcp.New(tcp.Options{})
	srv := listen(t, tr, transport.Config{})
	good, goodSink := dial(t, tr, srv.ln.Addr(), transport.Config{})
	goodSrv, goodSrvSink := srv.accepted(t)

	raw := rawDial(t, srv.ln.Addr())
	_, badSink := srv.accepted(t)
	if _, err := raw.Write(append(frame([]byte("fine")), 0, 0x10, 0, 1)); err != nil { // 1 MiB + 1
		t.Fatal(err)
	}
	if p := badSink.next(t); string(p) != "fine" {
		t.Fatalf("got %q before the bad frame", p)
	}
	endOfStream(t, raw)
	err := badSink.waitClosed(t)
	var fe *transport.FrameError
	if !errors.As(err, &fe) || fe.Reason != "frame of 1048577 bytes exceeds the 1048576-byte limit" || !fe.TooLarge {
		t.Fatalf("Closed(%v), want a FrameError for 1048577 bytes", err)
	}

	if err := good.Send(0, transport.Reliable, []byte("still here")); err != nil {
		t.Fatal(err)
	}
	if p := goodSrvSink.next(t); string(p) != "still here" {
		t.Fatalf("got %q", p)
	}
	if err := goodSrv.Send(0, transport.Reliable, []byte("me too")); err != nil {
		t.Fatal(err)
	}
	if p := goodSink.next(t); string(p) != "me too" {
		t.Fatalf("got %q", p)
	}
}

// endOfStream reads what the server sends raw until its end of stream, as
// a graceful close gives it, then ends raw's own.
func endOfStream(t *testing.T, raw *stdnet.TCPConn) {
	t.Helper()
	raw.SetReadDeadline(time.Now().Add(waitLimit))
	if _, err := io.ReadAll(raw); err != nil {
		t.Fatalf("the peer reads %v, want the server's end of stream", err)
	}
	raw.CloseWrite()
}

// TestFrameAtLimitSplit sends a frame of exactly the limit in tiny pieces.
func TestFrameAtLimitSplit(t *testing.T) {
	for _, tc := range []struct {
		name  string
		max   int
		piece func() int
	}{
		{"byte-by-byte", 100_000, func() int { return 1 }},
		{"random-chunks", transport.DefaultMaxPayload, func() int { return 1 + rand.IntN(9000) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := tcp.New(tcp.Options{})
			srv := listen(t, tr, transport.Config{MaxPayload: tc.max})
			raw := rawDial(t, srv.ln.Addr())
			_, s := srv.accepted(t)
			payload := make([]byte, tc.max)
			for i := range payload {
				payload[i] = byte(i * 31)
			}
			stream := append(frame(payload), frame([]byte("next"))...)
			go func() {
				for b := stream; len(b) > 0; {
					n := min(tc.piece(), len(b))
					if _, err := raw.Write(b[:n]); err != nil {
						return
					}
					b = b[n:]
				}
			}()
			if p := s.next(t); !bytes.Equal(p, payload) {
				t.Fatalf("got %d bytes, want the %d-byte payload", len(p), len(payload))
			}
			if p := s.next(t); string(p) != "next" {
				t.Fatalf("got %q", p)
			}
		})
	}
}

func TestGarbage(t *testing.T) {
	tr := tcp.New(tcp.Options{})
	srv := listen(t, tr, transport.Config{})

	raw := rawDial(t, srv.ln.Addr())
	_, s := srv.accepted(t)
	raw.Write([]byte("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"))
	endOfStream(t, raw)
	var fe *transport.FrameError
	if err := s.waitClosed(t); !errors.As(err, &fe) {
		t.Fatalf("Closed(%v) for an HTTP request, want a FrameError", err)
	}

	raw = rawDial(t, srv.ln.Addr())
	_, s = srv.accepted(t)
	raw.Write(append(frame([]byte("whole")), 0, 0, 0, 9, 'h', 'a', 'l', 'f'))
	raw.Close()
	if p := s.next(t); string(p) != "whole" {
		t.Fatalf("got %q", p)
	}
	if err := s.waitClosed(t); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Closed(%v) for a stream cut inside a frame, want io.ErrUnexpectedEOF", err)
	}

	raw = rawDial(t, srv.ln.Addr())
	_, s = srv.accepted(t)
	raw.Write([]byte{0, 0})
	raw.Close()
	if err := s.waitClosed(t); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Closed(%v) for a stream cut inside a prefix, want io.ErrUnexpectedEOF", err)
	}
}

// stalledPeer accepts one connection and never reads from it. conn waits
// for the connection and shrinks its receive buffer, so that little of what
// is sent fits in the kernel.
func stalledPeer(t *testing.T) (addr string, conn func() stdnet.Conn) {
	t.Helper()
	ln, err := stdnet.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan stdnet.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			t.Cleanup(func() { c.Close() })
			ch <- c
		}
		close(ch)
	}()
	var once sync.Once
	var c stdnet.Conn
	return ln.Addr().String(), func() stdnet.Conn {
		once.Do(func() {
			c = <-ch
			if c == nil {
				t.Fatal("the stalled peer accepted nothing")
			}
			c.(*stdnet.TCPConn).SetReadBuffer(4096)
		})
		return c
	}
}

// fill sends 64 KiB payloads until the queue is full.
func fill(t *testing.T, l transport.Link) {
	t.Helper()
	p := make([]byte, 64<<10)
	for i := range 100_000 {
		err := l.Send(0, transport.Reliable, p)
		if errors.Is(err, transport.ErrQueueFull) {
			if err != tcp.ErrQueueFull {
				t.Fatalf("Send %d: got %v, want tcp.ErrQueueFull", i, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	t.Fatal("the queue never filled")
}

func TestQueueFull(t *testing.T) {
	addr, _ := stalledPeer(t)
	l, s := dial(t, tcp.New(tcp.Options{MaxQueued: 1 << 20}), addr, transport.Config{})
	fill(t, l)
	l.Abort()
	if err := s.waitClosed(t); err != nil {
		t.Fatalf("Closed(%v) after Abort, want nil", err)
	}
}

func TestCloseTimeout(t *testing.T) {
	t.Run("peer not reading", func(t *testing.T) {
		addr, conn := stalledPeer(t)
		// Far more than the kernel's buffers hold with the peer's shrunk.
		l, s := dial(t, tcp.New(tcp.Options{MaxQueued: 16 << 20, CloseTimeout: 100 * time.Millisecond}), addr, transport.Config{})
		conn()
		fill(t, l)
		l.Close()
		if err := s.waitClosed(t); !errors.Is(err, tcp.ErrCloseTimeout) {
			t.Fatalf("Closed(%v), want ErrCloseTimeout", err)
		}
	})
	t.Run("peer never closing", func(t *testing.T) {
		addr, conn := stalledPeer(t)
		l, s := dial(t, tcp.New(tcp.Options{CloseTimeout: 100 * time.Millisecond}), addr, transport.Config{})
		l.Send(0, transport.Reliable, []byte("bye"))
		l.Close()
		if b, err := io.ReadAll(conn()); err != nil || !bytes.Equal(b, frame([]byte("bye"))) {
			t.Fatalf("peer read % x, %v", b, err)
		}
		if err := s.waitClosed(t); err != nil {
			t.Fatalf("Closed(%v), want nil: everything was sent", err)
		}
	})
}

func TestConfigErrors(t *testing.T) {
	tr := tcp.New(tcp.Options{})
	if _, err := tr.Listen("127.0.0.1:0", transport.Config{}, nil); err == nil {
		t.Error("Listen with a nil Accept succeeded")
	}
	if _, err := tr.Dial(context.Background(), "127.0.0.1:1", transport.Config{}, nil); err == nil {
		t.Error("Dial with a nil Sink succeeded")
	}
	if _, err := tr.Listen("127.0.0.1:0", transport.Config{MaxPayload: 1 << 32}, func(transport.Link) transport.Sink { return nil }); err == nil {
		t.Error("Listen with a MaxPayload beyond the 4-byte prefix succeeded")
	}
}

func TestZeroTransport(t *testing.T) {
	var tr tcp.Transport
	srv := listen(t, &tr, transport.Config{})
	l, _ := dial(t, &tr, srv.ln.Addr(), transport.Config{})
	_, s := srv.accepted(t)
	if err := l.Send(0, transport.Reliable, []byte("zero")); err != nil {
		t.Fatal(err)
	}
	if p := s.next(t); string(p) != "zero" {
		t.Fatalf("got %q", p)
	}
}

// TestWriterTakesOver: the flusher writes a listener's links without
// blocking; what the kernel's buffer has no room for, the link's writer
// takes over and writes as the peer reads, Sends meanwhile queueing behind
// it. Every payload still arrives whole and in order, and once the queue is
// empty a Send goes out again.
func TestWriterTakesOver(t *testing.T) {
	const big = 16 << 20 // more than the kernel's buffers take at once
	srv := listen(t, tcp.New(tcp.Options{MaxQueued: 1 << 20}), transport.Config{MaxPayload: big})
	raw := rawDial(t, srv.ln.Addr()) // reads nothing until the queue is full
	l, _ := srv.accepted(t)
	payload := func(i int) []byte {
		p := make([]byte, 8<<10)
		if i == 0 {
			p = make([]byte, big)
		}
		for j := 0; j+4 <= len(p); j += 4 {
			binary.BigEndian.PutUint32(p[j:], uint32(i*31+j))
		}
		return p
	}
	// The first Send finds the link idle: the flusher's write leaves most
	// of it to the writer. The next ones queue behind it until the queue
	// is full.
	if err := l.Send(0, transport.Reliable, payload(0)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the flusher's write", func() bool { return l.Stats().BytesSent > 0 })
	sent := 1
	for {
		err := l.Send(0, transport.Reliable, payload(sent))
		if errors.Is(err, tcp.ErrQueueFull) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		sent++
	}
	if sent < 2 {
		t.Fatalf("the queue took %d payloads, want at least 2", sent)
	}
	raw.SetReadDeadline(time.Now().Add(waitLimit))
	read := func(i int) {
		t.Helper()
		want := frame(payload(i))
		got := make([]byte, len(want))
		if _, err := io.ReadFull(raw, got); err != nil {
			t.Fatalf("payload %d: %v", i, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("payload %d arrived changed", i)
		}
	}
	for i := range sent {
		read(i)
	}
	if err := l.Send(0, transport.Reliable, payload(sent)); err != nil {
		t.Fatal(err)
	}
	read(sent)
}
