package tcp_test

import (
	"encoding/binary"
	"errors"
	"io"
	stdnet "net"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/net/transport"
)

// waitUntil polls cond, for counters that no event announces.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within the time limit", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// busySink is a sink that records its Farewell.
type busySink struct {
	*sink
	farewell chan error
}

func (s busySink) Farewell(err error) { s.farewell <- err }

// TestReceivingBudget: a frame's buffer grows as its bytes arrive, not to
// the length its header announces; what the listener's links hold beyond
// their usual buffers stays within Options.MaxReceiving, a link whose frame
// needs more is closed with ErrBusy (its Sink told first), and the bytes
// are given back once the frames are over.
func TestReceivingBudget(t *testing.T) {
	const small = tcp.ReadBufferSize
	tr := tcp.New(tcp.Options{MaxReceiving: 4 * small})
	sinks := make(chan busySink, 16)
	ln, err := tr.Listen("127.0.0.1:0", transport.Config{MaxPayload: 1 << 20}, func(transport.Link) transport.Sink {
		s := busySink{newSink(), make(chan error, 1)}
		sinks <- s
		return s
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() }) // after the peers close, so it need not wait
	held := func(n int) func() bool { return func() bool { return tcp.ReceivingBytes(ln) == n } }

	// Headers alone, announcing 1 MiB each, hold nothing beyond the usual
	// buffers (frame_test.go checks it without the network).
	for range 20 {
		c := rawDial(t, ln.Addr())
		c.Write(append(frame([]byte("x")), binary.BigEndian.AppendUint32(nil, 1<<20)...))
		if p := (<-sinks).next(t); string(p) != "x" {
			t.Fatalf("got %q", p)
		}
	}

	// 100 KiB of a 1 MiB frame: the buffer has doubled once.
	a := rawDial(t, ln.Addr())
	<-sinks
	payload := make([]byte, 1<<20)
	a.Write(binary.BigEndian.AppendUint32(nil, 1<<20))
	a.Write(payload[:100<<10])
	waitUntil(t, "the buffer to double", held(small))

	// 300 KiB of another: its buffer would need 3 times the usual size
	// more, which the budget has not left.
	b := rawDial(t, ln.Addr())
	bs := <-sinks
	b.Write(binary.BigEndian.AppendUint32(nil, 1<<20))
	b.Write(payload[:300<<10])
	select {
	case err := <-bs.farewell:
		if !errors.Is(err, tcp.ErrBusy) {
			t.Fatalf("Farewell(%v), want ErrBusy", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("no Farewell within the time limit")
	}
	b.SetReadDeadline(time.Now().Add(waitLimit))
	if _, err := io.ReadAll(b); err != nil {
		t.Fatalf("the busy link did not end gracefully: %v", err)
	}
	b.CloseWrite()
	if err := bs.waitClosed(t); !errors.Is(err, tcp.ErrBusy) {
		t.Fatalf("Closed(%v), want ErrBusy", err)
	}
	if n := tcp.ReceivingBytes(ln); n != small {
		t.Fatalf("the links hold %d bytes, want %d: the busy link's given back", n, small)
	}

	// The first frame completes, and its bytes are given back.
	a.Write(payload[100<<10:])
	waitUntil(t, "the finished frame's bytes to be given back", held(0))
}

// slowServer listens with opts and returns the link and sink of the one raw
// client it accepts, and that client.
func slowServer(t *testing.T, opts tcp.Options) (transport.Listener, transport.Link, *sink, *stdnet.TCPConn) {
	t.Helper()
	srv := listen(t, tcp.New(opts), transport.Config{})
	raw := rawDial(t, srv.ln.Addr())
	l, s := srv.accepted(t)
	return srv.ln, l, s, raw
}

// TestPeerNotReadingDropped: a peer that reads nothing is closed with
// ErrTooSlow once a write has made no progress for Options.WriteTimeout,
// and what its link held is given back.
func TestPeerNotReadingDropped(t *testing.T) {
	// Long enough for fill to queue 8 MiB first on a busy machine under -race.
	ln, l, s, raw := slowServer(t, tcp.Options{WriteTimeout: time.Second})
	raw.SetReadBuffer(4096)
	fill(t, l)
	// Full: fill's next 64 KiB payload found no room.
	if n := tcp.QueuedBytes(ln); n+64<<10 <= tcp.DefaultMaxQueued {
		t.Fatalf("the listener counts %d bytes queued, want more than %d", n, tcp.DefaultMaxQueued-64<<10)
	}
	err := s.waitClosed(t)
	if !errors.Is(err, transport.ErrTooSlow) || err != tcp.ErrTooSlow {
		t.Fatalf("Closed(%v), want tcp.ErrTooSlow", err)
	}
	if n := tcp.QueuedBytes(ln); n != 0 {
		t.Fatalf("%d bytes still counted queued after the link closed", n)
	}
}

// TestPeerReadingTooSlowlyDropped: a peer that reads a trickle, so that
// writes make progress but the queue takes no payload for
// Options.WriteTimeout, is closed with ErrTooSlow too.
func TestPeerReadingTooSlowlyDropped(t *testing.T) {
	_, l, s, raw := slowServer(t, tcp.Options{MaxQueued: 1 << 20, WriteTimeout: 300 * time.Millisecond})
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 16<<10)
		for {
			if _, err := raw.Read(buf); err != nil {
				return
			}
			time.Sleep(10 * time.Millisecond) // the peer's slowness, not a synchronisation
		}
	}()
	p := make([]byte, 8<<10)
	deadline := time.Now().Add(waitLimit)
	for {
		err := l.Send(0, transport.Reliable, p)
		if errors.Is(err, transport.ErrClosed) {
			break
		}
		if err != nil && !errors.Is(err, transport.ErrQueueFull) {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the slow peer was not dropped")
		}
		if err != nil {
			time.Sleep(time.Millisecond) // a sender backing off
		}
	}
	if err := s.waitClosed(t); err != tcp.ErrTooSlow {
		t.Fatalf("Closed(%v), want tcp.ErrTooSlow", err)
	}
	raw.Close()
	<-done
}

// TestQueuedTotal: the links of a listener together queue at most
// Options.MaxQueuedTotal, but a link with an empty queue still takes a
// payload.
func TestQueuedTotal(t *testing.T) {
	const total = 256 << 10
	srv := listen(t, tcp.New(tcp.Options{MaxQueued: 4 << 20, MaxQueuedTotal: total}), transport.Config{})
	a := rawDial(t, srv.ln.Addr())
	a.SetReadBuffer(4096)
	la, _ := srv.accepted(t)
	rawDial(t, srv.ln.Addr())
	lb, _ := srv.accepted(t)
	fill(t, la)
	if n := tcp.QueuedBytes(srv.ln); n > total {
		t.Fatalf("the listener holds %d bytes queued, more than MaxQueuedTotal %d", n, total)
	}
	if err := lb.Send(0, transport.Reliable, make([]byte, 64<<10)); err != nil {
		t.Fatalf("a link with an empty queue refused a payload: %v", err)
	}
}
