package nats_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/internal/transporttest"
	"github.com/gonetic/gonetic/adapters/nats"
	"github.com/gonetic/gonetic/internal/natstest"
	"github.com/gonetic/gonetic/net/nettest"
	"github.com/gonetic/gonetic/net/transport"
	"github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"
)

// sink records what a link delivers; with a gate, Receive blocks until
// the gate is closed.
type sink struct {
	payloads chan []byte
	closed   chan error
	farewell chan error
	gate     chan struct{}
	blocked  chan struct{}
	once     sync.Once
}

func newSink() *sink {
	return &sink{payloads: make(chan []byte, 1<<16), closed: make(chan error, 1), farewell: make(chan error, 1)}
}

func (s *sink) Receive(_ uint8, p []byte) {
	if s.gate != nil {
		s.once.Do(func() { close(s.blocked) })
		<-s.gate
	}
	s.payloads <- bytes.Clone(p)
}
func (s *sink) Closed(err error)   { s.closed <- err }
func (s *sink) Farewell(err error) { s.farewell <- err }

// pair listens at "srv/net" through one transport and dials it through
// another, each on its own connection to s; it returns both ends.
func pair(t *testing.T, s *server.Server, dialOpts, lnOpts nats.Options, cfg transport.Config, serverSink *sink) (c transport.Link, cs *sink, srv transport.Link) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() { nettest.CheckGoroutines(t, before) })
	lnOpts.ID = "srv"
	lt := newTransport(t, s, lnOpts)
	accepted := make(chan transport.Link, 1)
	ln, err := lt.Listen("net", cfg, func(l transport.Link) transport.Sink { accepted <- l; return serverSink })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	dt := newTransport(t, s, dialOpts)
	cs = newSink()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err = dt.Dial(ctx, "srv/net", cfg, cs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Abort)
	return c, cs, transporttest.Await(t, accepted, "accepted link")
}

// TestNoListener: a dial to an address nobody listens at fails at once
// and says so.
func TestNoListener(t *testing.T) {
	tr := newTransport(t, natstest.Server(t), nats.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	_, err := tr.Dial(ctx, "zone-1/net", transport.Config{}, newSink())
	if !errors.Is(err, nats.ErrNoListener) || !strings.Contains(err.Error(), "no gonetic listener at zone-1/net on NATS (is the node up?)") {
		t.Fatalf("Dial with nobody listening: %v, want ErrNoListener naming zone-1/net", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Dial took %v to fail; NATS's no-responders answer should end it at once", d)
	}
	if _, err := tr.Dial(ctx, "zone.1/net", transport.Config{}, newSink()); err == nil || !strings.Contains(err.Error(), "token") {
		t.Errorf("Dial to a bad address: %v, want an error about tokens", err)
	}
}

// TestFragmentation: over a server whose max_payload is 64 KiB, a 1 MiB
// payload goes as frames under that limit and arrives whole, both ways.
func TestFragmentation(t *testing.T) {
	s := natstest.Server(t, natstest.MaxPayload(64<<10))
	ss := newSink()
	c, cs, srv := pair(t, s, nats.Options{}, nats.Options{}, transport.Config{}, ss)
	big := make([]byte, transport.DefaultMaxPayload)
	for i := range big {
		big[i] = byte(i * 31)
	}
	for _, end := range []struct {
		from transport.Link
		to   *sink
	}{{c, ss}, {srv, cs}} {
		if err := end.from.Send(0, transport.Reliable, big); err != nil {
			t.Fatalf("Send of 1 MiB over a 64 KiB server: %v", err)
		}
		if err := end.from.Send(0, transport.Reliable, []byte("after")); err != nil {
			t.Fatal(err)
		}
		if got := transporttest.Await(t, end.to.payloads, "1 MiB payload"); !bytes.Equal(got, big) {
			t.Fatalf("1 MiB payload arrived as %d different bytes", len(got))
		}
		if got := transporttest.Await(t, end.to.payloads, "payload after"); string(got) != "after" {
			t.Fatalf("after the big payload: %q", got)
		}
	}
	if st := c.Stats(); st.PayloadsSent != 2 || st.BytesSent < 1<<20 {
		t.Errorf("dialer stats %+v: want 2 payloads, 1 MiB+ bytes", st)
	}
}

// TestTooLarge: a payload over the receiver's MaxPayload, reassembled
// from frag frames, ends the link with a *transport.FrameError (TooLarge)
// after the Sink's Farewell; the sender's Sink gets one too.
func TestTooLarge(t *testing.T) {
	s := natstest.Server(t, natstest.MaxPayload(64<<10))
	ss := newSink()
	// The dialer may send 1 MiB; the listener takes 100 KiB.
	dt := newTransport(t, s, nats.Options{})
	lt := newTransport(t, s, nats.Options{ID: "srv"})
	before := runtime.NumGoroutine()
	t.Cleanup(func() { nettest.CheckGoroutines(t, before) })
	ln, err := lt.Listen("net", transport.Config{MaxPayload: 100 << 10}, func(transport.Link) transport.Sink { return ss })
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cs := newSink()
	c, err := dt.Dial(context.Background(), "srv/net", transport.Config{}, cs)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Abort()
	if err := c.Send(0, transport.Reliable, make([]byte, 300<<10)); err != nil {
		t.Fatal(err)
	}
	var fe *transport.FrameError
	if err := transporttest.Await(t, ss.farewell, "Farewell"); !errors.As(err, &fe) || !fe.TooLarge {
		t.Fatalf("Farewell(%v), want a TooLarge *transport.FrameError", err)
	}
	if err := transporttest.Await(t, ss.closed, "listener's Closed"); !errors.As(err, &fe) || !fe.TooLarge {
		t.Fatalf("listener's Closed(%v), want a TooLarge *transport.FrameError", err)
	}
	if err := transporttest.Await(t, cs.closed, "dialer's Closed"); !errors.As(err, &fe) || !fe.TooLarge {
		t.Fatalf("dialer's Closed(%v), want a TooLarge *transport.FrameError", err)
	}
	if len(ss.payloads) != 0 {
		t.Errorf("the listener's Sink got %d payloads, want none", len(ss.payloads))
	}
}

// TestGap: a frame whose sequence number skips one (here forged by a
// third connection on the link's subject, as a lost message looks) closes
// the receiving end with a *GapError and the sender with a *CloseError
// that says messages were lost.
func TestGap(t *testing.T) {
	l := spyLink(t, natstest.Server(t))
	c, cs, ss, seq := l.c, l.cs, l.ss, l.seq
	forged := binary.AppendUvarint([]byte{1}, seq+2) // data, skipping seq+1
	forged = append(forged, 0, 'x')
	if err := l.spy.Publish(l.subject, forged); err != nil {
		t.Fatal(err)
	}
	var gap *nats.GapError
	err := transporttest.Await(t, ss.closed, "listener's Closed")
	if !errors.As(err, &gap) || gap.Want != seq+1 || gap.Got != seq+2 || !strings.Contains(err.Error(), "lost") {
		t.Fatalf("listener's Closed(%v), want a *GapError{Want: %d, Got: %d} saying messages were lost", err, seq+1, seq+2)
	}
	var ce *nats.CloseError
	if err := transporttest.Await(t, cs.closed, "dialer's Closed"); !errors.As(err, &ce) || !strings.Contains(ce.Reason, "lost") {
		t.Fatalf("dialer's Closed(%v), want a *CloseError saying messages were lost", err)
	}
	if len(ss.payloads) != 0 {
		t.Errorf("the forged payload was delivered")
	}
	if err := c.Send(0, transport.Reliable, []byte("x")); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("Send after the gap: %v, want ErrClosed", err)
	}
}

// TestConnClosed: closing the NATS connection under a link ends it with
// ErrConnClosed, and the peer, which gets no close frame, with
// ErrPeerGone once the ticks stop.
func TestConnClosed(t *testing.T) {
	s := natstest.Server(t)
	nc := connect(t, s)
	ss := newSink()
	opts := nats.Options{TickInterval: 20 * time.Millisecond}
	c, cs, _ := pair(t, s, nats.Options{Conn: nc, TickInterval: opts.TickInterval}, opts, transport.Config{}, ss)
	if err := c.Send(0, transport.Reliable, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	transporttest.Await(t, ss.payloads, "payload")
	nc.Close()
	if err := transporttest.Await(t, cs.closed, "dialer's Closed"); !errors.Is(err, nats.ErrConnClosed) {
		t.Fatalf("dialer's Closed(%v), want ErrConnClosed", err)
	}
	if err := c.Send(0, transport.Reliable, []byte("x")); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("Send after the connection closed: %v, want ErrClosed", err)
	}
	if err := transporttest.Await(t, ss.closed, "listener's Closed"); !errors.Is(err, nats.ErrPeerGone) {
		t.Fatalf("listener's Closed(%v), want ErrPeerGone", err)
	}
}

// TestBlockedSink: a Sink that blocks stalls only its link. NATS does not
// cut the connection as a slow consumer, and the sender is not blocked:
// what it sends queues in the receiver's nats.go up to PendingBytes.
// Within that, everything arrives once the Sink takes it again; past it,
// NATS drops messages and the link ends with a *GapError that says the
// Sink did not keep up.
func TestBlockedSink(t *testing.T) {
	for _, tc := range []struct {
		name    string
		pending int
		lost    bool
	}{{"WithinPending", 0, false}, {"PastPending", 1 << 20, true}} {
		t.Run(tc.name, func(t *testing.T) {
			const n, size = 64, 64 << 10 // 4 MiB
			s := natstest.Server(t)
			asyncErrs := make(chan error, 16)
			lnc := connect(t, s, natsgo.ErrorHandler(func(_ *natsgo.Conn, _ *natsgo.Subscription, err error) {
				select {
				case asyncErrs <- err:
				default:
				}
			}))
			ss := newSink()
			ss.gate, ss.blocked = make(chan struct{}), make(chan struct{})
			var release sync.Once
			open := func() { release.Do(func() { close(ss.gate) }) }
			dnc := connect(t, s)
			// Fast ticks: the Sink stays blocked for many PeerTimeouts.
			const tick = 10 * time.Millisecond
			c, cs, srv := pair(t, s, nats.Options{Conn: dnc, TickInterval: tick},
				nats.Options{Conn: lnc, PendingBytes: tc.pending, TickInterval: tick, PeerTimeout: 5 * tick}, transport.Config{}, ss)
			t.Cleanup(open) // before the listener's Close, which waits for the Sink
			p := make([]byte, size)
			for i := range n {
				binary.BigEndian.PutUint32(p, uint32(i))
				done := make(chan error, 1)
				go func() { done <- c.Send(0, transport.Reliable, p) }()
				if err := transporttest.Await(t, done, "Send to a blocked Sink"); err != nil {
					t.Fatalf("Send %d: %v", i, err)
				}
				if i == 0 {
					transporttest.Await(t, ss.blocked, "the Sink blocking")
				}
			}
			// Round trips: the server has taken every frame, then the
			// receiver's nats.go has read them all (so it dropped what it
			// would), and its connection is still up.
			if err := dnc.FlushTimeout(10 * time.Second); err != nil {
				t.Fatal(err)
			}
			if err := lnc.FlushTimeout(10 * time.Second); err != nil || !lnc.IsConnected() {
				t.Fatalf("receiver's connection after 4 MiB at a blocked Sink: %v, status %v", err, lnc.Status())
			}
			// The listener's ticks, which come with its PeerTimeout check,
			// go on: a peer whose frames wait behind a blocked Sink is
			// not taken for gone.
			deadline := time.Now().Add(10 * time.Second)
			for sent := srv.Stats().BytesSent; srv.Stats().BytesSent < sent+40 && time.Now().Before(deadline); {
				time.Sleep(tick) // the ticks' own pace; no event to wait on
			}
			if err := srv.Send(0, transport.Reliable, []byte("still open")); err != nil {
				t.Fatalf("the link whose Sink blocks ended: %v", err)
			}
			open()
			if !tc.lost {
				for i := range n {
					if got := transporttest.Await(t, ss.payloads, "payload"); binary.BigEndian.Uint32(got) != uint32(i) {
						t.Fatalf("payload %d arrived in place of %d", binary.BigEndian.Uint32(got), i)
					}
				}
				if len(asyncErrs) != 0 {
					t.Errorf("nats.go reported %v", <-asyncErrs)
				}
				return
			}
			var gap *nats.GapError
			err := transporttest.Await(t, ss.closed, "listener's Closed")
			if !errors.As(err, &gap) || gap.Dropped == 0 || !strings.Contains(err.Error(), "slow consumer") {
				t.Fatalf("listener's Closed(%v), want a *GapError counting the drops", err)
			}
			if err := transporttest.Await(t, cs.closed, "dialer's Closed"); err == nil || errors.Is(err, io.EOF) {
				t.Fatalf("dialer's Closed(%v), want the gap", err)
			}
			if !lnc.IsConnected() {
				t.Errorf("receiver's connection is %v after dropping as a slow consumer", lnc.Status())
			}
		})
	}
}

// TestBadFrames: malformed frames on a link's subject, and garbage on a
// dial subject, never panic: the link ends with a *transport.FrameError
// (after the Sink's Farewell), the listener ignores the garbage.
func TestBadFrames(t *testing.T) {
	for _, tc := range []struct {
		name  string
		frame func(seq uint64) []byte
	}{
		{"Empty", func(uint64) []byte { return nil }},
		{"BadSeq", func(uint64) []byte { return []byte{1, 0xff, 0xff} }},
		{"UnknownKind", func(seq uint64) []byte { return binary.AppendUvarint([]byte{9}, seq) }},
		{"NoChannel", func(seq uint64) []byte { return binary.AppendUvarint([]byte{1}, seq) }},
		{"BadChannel", func(seq uint64) []byte { return append(binary.AppendUvarint([]byte{1}, seq), 7, 'x') }},
		{"LateAccept", func(seq uint64) []byte { return binary.AppendUvarint([]byte{5}, seq) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := spyLink(t, natstest.Server(t))
			ss := l.ss
			for _, junk := range [][]byte{nil, {1}, {1, 200, 'a'}, {1, 1, '.', '>'}, {2, 3}} {
				if err := l.spy.Publish("gonetic.n.srv.net.dial", junk); err != nil {
					t.Fatal(err)
				}
			}
			if err := l.spy.Publish(l.subject, tc.frame(l.seq+1)); err != nil {
				t.Fatal(err)
			}
			var fe *transport.FrameError
			if err := transporttest.Await(t, ss.farewell, "Farewell"); !errors.As(err, &fe) || fe.TooLarge {
				t.Fatalf("Farewell(%v), want a *transport.FrameError", err)
			}
			if err := transporttest.Await(t, ss.closed, "listener's Closed"); !errors.As(err, &fe) {
				t.Fatalf("listener's Closed(%v), want a *transport.FrameError", err)
			}
		})
	}
}

// TestLinkIDsUnforeseeable: a dial request names its dialer and link,
// and a listener takes them on trust, so a peer that could foresee a
// dialer's next link id could claim it at a listener first. Link ids are
// random: no two of 20 dials follow each other.
func TestLinkIDsUnforeseeable(t *testing.T) {
	s := natstest.Server(t)
	tr := newTransport(t, s, nats.Options{})
	spy, err := natsgo.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer spy.Close()
	reqs, err := spy.SubscribeSync("gonetic.n.zone-1.net.dial")
	if err != nil {
		t.Fatal(err)
	}
	if err := spy.Flush(); err != nil {
		t.Fatal(err)
	}
	var ids []uint64
	for range 20 {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		_, _ = tr.Dial(ctx, "zone-1/net", transport.Config{}, newSink()) // nobody answers
		cancel()
		m, err := reqs.NextMsg(10 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		// [version][uvarint len(dialer)][dialer][link]
		n, k := binary.Uvarint(m.Data[1:])
		id, err := strconv.ParseUint(string(m.Data[1+k+int(n):]), 36, 64)
		if err != nil {
			t.Fatalf("dial request %q: %v", m.Data, err)
		}
		ids = append(ids, id)
	}
	for i := 1; i < len(ids); i++ {
		if d := ids[i] - ids[i-1]; d < 1<<20 || -d < 1<<20 {
			t.Fatalf("link ids %d then %d: the next is foreseeable", ids[i-1], ids[i])
		}
	}
}

// spied is a link whose frames to the listener a spy connection sees:
// its first payload arrived, and seq numbers that payload's frame. The
// dialer sends no ticks, so the test counts the numbers.
type spied struct {
	spy     *natsgo.Conn
	c       transport.Link // the dialer's end
	cs, ss  *sink          // the dialer's and the listener's Sinks
	subject string         // the link's subject towards the listener
	seq     uint64
}

func spyLink(t *testing.T, s *server.Server) spied {
	t.Helper()
	spy := connect(t, s)
	frames := make(chan *natsgo.Msg, 16)
	sub, err := spy.ChanSubscribe("gonetic.n.srv.net.l.>", frames)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	if err := spy.Flush(); err != nil {
		t.Fatal(err)
	}
	ss := newSink()
	c, cs, _ := pair(t, s, nats.Options{TickInterval: time.Hour}, nats.Options{}, transport.Config{}, ss)
	if err := c.Send(0, transport.Reliable, []byte("one")); err != nil {
		t.Fatal(err)
	}
	transporttest.Await(t, ss.payloads, "first payload")
	m := transporttest.Await(t, frames, "the frame on the link's subject")
	seq, _ := binary.Uvarint(m.Data[1:])
	return spied{spy: spy, c: c, cs: cs, ss: ss, subject: m.Subject, seq: seq}
}
