package mem_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	stdnet "net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/internal/transporttest"
	"github.com/gonetic/gonetic/adapters/mem"
	"github.com/gonetic/gonetic/net/transport"
)

const waitLimit = 10 * time.Second

type sink struct {
	payloads chan []byte
	channels chan uint8
	closed   chan error
}

func newSink() *sink {
	return &sink{payloads: make(chan []byte, 1024), channels: make(chan uint8, 1024), closed: make(chan error, 1)}
}

func (s *sink) Receive(ch uint8, p []byte) { s.channels <- ch; s.payloads <- bytes.Clone(p) }
func (s *sink) Closed(err error)           { s.closed <- err }

func (s *sink) next(t *testing.T) (uint8, []byte) {
	t.Helper()
	p := transporttest.Await(t, s.payloads, "payload")
	return <-s.channels, p
}

func (s *sink) waitClosed(t *testing.T) error {
	t.Helper()
	return transporttest.Await(t, s.closed, "Closed")
}

func refuseAll(transport.Link) transport.Sink { return nil }

func TestListenAddresses(t *testing.T) {
	var n mem.Network
	a, err := n.Listen("game:0", transport.Config{}, refuseAll)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := n.Listen("game:0", transport.Config{}, refuseAll)
	if err != nil {
		t.Fatal(err)
	}
	if a.Addr() == b.Addr() || !strings.HasPrefix(a.Addr(), "game:") || strings.HasSuffix(a.Addr(), ":0") {
		t.Fatalf("port 0 gave %q and %q; want two distinct game:<port>", a.Addr(), b.Addr())
	}
	// A port bound by name is not handed out for port 0.
	_, port, _ := stdnet.SplitHostPort(b.Addr())
	p, _ := strconv.Atoi(port)
	taken := stdnet.JoinHostPort("game", strconv.Itoa(p+1))
	byName, err := n.Listen(taken, transport.Config{}, refuseAll)
	if err != nil {
		t.Fatal(err)
	}
	defer byName.Close()
	c, err := n.Listen("game:0", transport.Config{}, refuseAll)
	if err != nil {
		t.Fatalf("port 0 after %s was bound by name: %v", taken, err)
	}
	defer c.Close()
	if c.Addr() == taken {
		t.Fatalf("port 0 gave %s, which is bound already", taken)
	}
	named, err := n.Listen("lobby", transport.Config{}, refuseAll)
	if err != nil {
		t.Fatal(err)
	}
	if named.Addr() != "lobby" {
		t.Fatalf("Addr() = %q, want lobby", named.Addr())
	}
	if _, err := n.Listen("lobby", transport.Config{}, refuseAll); err == nil {
		t.Fatal("a second Listen on lobby succeeded")
	}
	named.Close()
	again, err := n.Listen("lobby", transport.Config{}, refuseAll)
	if err != nil {
		t.Fatalf("Listen after Close: %v", err)
	}
	again.Close()
	b.Close()

	var other mem.Network // networks do not see each other
	if _, err := other.Dial(context.Background(), a.Addr(), transport.Config{}, newSink()); !errors.Is(err, mem.ErrRefused) {
		t.Fatalf("Dial on another Network: %v, want ErrRefused", err)
	}
}

func TestDialRefused(t *testing.T) {
	var n mem.Network
	_, err := n.Dial(context.Background(), "nobody:1", transport.Config{}, newSink())
	if !errors.Is(err, mem.ErrRefused) || !strings.Contains(err.Error(), "nobody:1") {
		t.Fatalf("Dial: %v, want ErrRefused naming the address", err)
	}
}

// pair listens on a fresh network and dials it.
func pair(t *testing.T, dialCfg, listenCfg transport.Config) (client transport.Link, cs *sink, server transport.Link, ss *sink) {
	t.Helper()
	var n mem.Network
	accepted := make(chan transport.Link, 1)
	ss = newSink()
	ln, err := n.Listen("server:0", listenCfg, func(l transport.Link) transport.Sink { accepted <- l; return ss })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	cs = newSink()
	client, err = n.Dial(context.Background(), ln.Addr(), dialCfg, cs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Abort)
	select {
	case server = <-accepted:
	case <-time.After(waitLimit):
		t.Fatal("nothing accepted")
	}
	if client.RemoteAddr() != ln.Addr() || !strings.HasPrefix(server.RemoteAddr(), "mem:") {
		t.Fatalf("RemoteAddr: client %q, server %q", client.RemoteAddr(), server.RemoteAddr())
	}
	return client, cs, server, ss
}

func TestAbortResetsPeer(t *testing.T) {
	client, cs, _, ss := pair(t, transport.Config{}, transport.Config{})
	client.Abort()
	if err := ss.waitClosed(t); !errors.Is(err, mem.ErrReset) {
		t.Fatalf("peer's Closed(%v), want ErrReset", err)
	}
	if err := cs.waitClosed(t); err != nil {
		t.Fatalf("aborter's Closed(%v), want nil", err)
	}
}

func TestChannelsAndDelivery(t *testing.T) {
	cfg := transport.Config{Channels: 3}
	client, _, _, ss := pair(t, cfg, cfg)
	for i, d := range []transport.Delivery{transport.Reliable, transport.Sequenced, transport.Unsequenced} {
		if err := client.Send(uint8(i), d, []byte(d.String())); err != nil {
			t.Fatal(err)
		}
	}
	for i, want := range []string{"reliable", "sequenced", "unsequenced"} {
		if ch, p := ss.next(t); int(ch) != i || string(p) != want {
			t.Fatalf("got %q on channel %d, want %q on %d", p, ch, want, i)
		}
	}
}

// TestReceiverLimit: ends with different MaxPayload; the receiver's holds.
func TestReceiverLimit(t *testing.T) {
	client, cs, _, ss := pair(t, transport.Config{MaxPayload: 1000}, transport.Config{MaxPayload: 100})
	if err := client.Send(0, transport.Reliable, make([]byte, 500)); err != nil {
		t.Fatal(err)
	}
	var fe *transport.FrameError
	if err := ss.waitClosed(t); !errors.As(err, &fe) || fe.Reason != "frame of 500 bytes exceeds the 100-byte limit" {
		t.Fatalf("receiver's Closed(%v), want a FrameError", err)
	}
	if err := cs.waitClosed(t); !errors.Is(err, mem.ErrReset) {
		t.Fatalf("sender's Closed(%v), want ErrReset", err)
	}
}

// TestStats: each end counts the payloads and their bytes (no framing)
// that crossed, exactly.
func TestStats(t *testing.T) {
	client, _, server, ss := pair(t, transport.Config{}, transport.Config{})
	for _, p := range []string{"a", "bcd", "efghij"} {
		if err := client.Send(0, transport.Reliable, []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		ss.next(t)
	}
	cs, srv := client.Stats(), server.Stats()
	if cs.PayloadsSent != 3 || cs.BytesSent != 10 || cs.PayloadsReceived != 0 || cs.BytesReceived != 0 {
		t.Fatalf("sender's stats %+v, want 3 payloads and 10 bytes sent, none received", cs)
	}
	if srv.PayloadsReceived != 3 || srv.BytesReceived != 10 || srv.PayloadsSent != 0 || srv.BytesSent != 0 {
		t.Fatalf("receiver's stats %+v, want 3 payloads and 10 bytes received, none sent", srv)
	}
}

func TestSendCopies(t *testing.T) {
	client, _, _, ss := pair(t, transport.Config{}, transport.Config{})
	p := []byte("original")
	client.Send(0, transport.Reliable, p)
	copy(p, "changed!")
	if _, got := ss.next(t); string(got) != "original" {
		t.Fatalf("got %q: Send did not copy", got)
	}
}

func TestRefusedDialer(t *testing.T) {
	var n mem.Network
	ln, err := n.Listen("server:0", transport.Config{}, refuseAll)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s := newSink()
	if _, err := n.Dial(context.Background(), ln.Addr(), transport.Config{}, s); err != nil {
		t.Fatal(err)
	}
	if err := s.waitClosed(t); !errors.Is(err, io.EOF) {
		t.Fatalf("refused dialer's Closed(%v), want io.EOF", err)
	}
}

func BenchmarkThroughput(b *testing.B) {
	var n mem.Network
	var got atomic.Int64
	done := make(chan struct{})
	want := int64(b.N)
	counter := sinkFunc(func() {
		if got.Add(1) == want {
			close(done)
		}
	})
	ln, err := n.Listen("bench:0", transport.Config{}, func(transport.Link) transport.Sink { return counter })
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	l, err := n.Dial(context.Background(), ln.Addr(), transport.Config{}, sinkFunc(func() {}))
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	p := []byte("\x93\x01\xa3Tom\xacTest message")
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if err := l.Send(0, transport.Reliable, p); err != nil {
			b.Fatal(err)
		}
	}
	<-done
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

type sinkFunc func()

func (f sinkFunc) Receive(uint8, []byte) { f() }
func (sinkFunc) Closed(error)            {}
