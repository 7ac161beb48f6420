package transporttest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gonetic/gonetic/net/transport"
)

// Options describe what the adapter under test can do, so that the suite
// runs only the subtests that apply.
type Options struct {
	// Channels is the Config.Channels the suite uses; 0 means 1. Above 1,
	// the Channels subtest sends on every channel.
	Channels int
	// KeepsChannel says the adapter delivers each payload on the channel it
	// was sent on (mem, ENet). Otherwise every payload must arrive on
	// channel 0 (TCP).
	KeepsChannel bool
	// SlowBulk says that 16 MiB sent at a blocked receiver may take the
	// adapter longer than the suite waits (ENet through adapters/sim's
	// delay: 3 to 9 s on the test machine, against 0.2 s direct): the
	// Backpressure subtest is left to the run without delay.
	SlowBulk bool
}

// Run runs the conformance suite: every subtest makes a Transport with
// newTransport, listens on listenAddr (port 0, so that each subtest gets a
// free port), dials itself and checks one part of the transport contract.
// Each subtest also checks the Sink contract and that no goroutine outlives
// it. Subtests do not run in parallel.
func Run(t *testing.T, newTransport func(t *testing.T) transport.Transport, listenAddr string, opts Options) {
	if opts.Channels <= 0 {
		opts.Channels = 1
	}
	s := suite{newTransport: newTransport, addr: listenAddr, opts: opts}
	t.Run("SendReceive", s.sendReceive)
	t.Run("Order", s.order)
	t.Run("PayloadSizes", s.payloadSizes)
	t.Run("BadChannel", s.badChannel)
	if opts.Channels > 1 {
		t.Run("Channels", s.channels)
	}
	t.Run("CloseFlushes", s.closeFlushes)
	t.Run("PeerClosed", s.peerClosed)
	t.Run("Abort", s.abort)
	t.Run("ListenerClose", s.listenerClose)
	t.Run("AcceptRefused", s.acceptRefused)
	t.Run("DialErrors", s.dialErrors)
	t.Run("Stats", s.stats)
	t.Run("ConcurrentSend", s.concurrentSend)
	t.Run("SendDuringClose", s.sendDuringClose)
	if !opts.SlowBulk {
		t.Run("Backpressure", s.backpressure)
	}
	t.Run("AbortWhileBlocked", s.abortWhileBlocked)
}

type suite struct {
	newTransport func(t *testing.T) transport.Transport
	addr         string
	opts         Options
}

func (s suite) config() transport.Config {
	return transport.Config{Channels: s.opts.Channels}.WithDefaults()
}

func (s suite) start(t *testing.T) *env {
	t.Helper()
	return start(t, s.newTransport, s.addr, s.config())
}

func send(t testing.TB, l transport.Link, ch uint8, p []byte) {
	t.Helper()
	if err := l.Send(ch, transport.Reliable, p); err != nil {
		t.Fatalf("Send(%d, %d bytes): %v", ch, len(p), err)
	}
}

// seqPayload is a 4-byte sequence number followed by filler bytes.
func seqPayload(buf []byte, seq uint32, filler int) []byte {
	buf = binary.BigEndian.AppendUint32(buf[:0], seq)
	for i := range filler {
		buf = append(buf, byte(seq)+byte(i))
	}
	return buf
}

// inOrder checks that payload i carries sequence number i and its filler.
func inOrder(i int, _ uint8, p []byte) error {
	if len(p) < 4 {
		return fmt.Errorf("%d bytes, want at least 4", len(p))
	}
	if seq := binary.BigEndian.Uint32(p); seq != uint32(i) {
		return fmt.Errorf("sequence number %d, want %d", seq, i)
	}
	for j, b := range p[4:] {
		if b != byte(i)+byte(j) {
			return fmt.Errorf("filler byte %d corrupted", j)
		}
	}
	return nil
}

func (s suite) sendReceive(t *testing.T) {
	e := s.start(t)
	if e.tr.Name() == "" {
		t.Error("Name() is empty")
	}
	c, srv := e.dial()
	if c.link.RemoteAddr() == "" || srv.link.RemoteAddr() == "" {
		t.Errorf("RemoteAddr: client %q, server %q; want both set", c.link.RemoteAddr(), srv.link.RemoteAddr())
	}
	send(t, c.link, 0, []byte("hello from the client"))
	c.link.Flush()
	srv.rec.waitCount(t, 1)
	if ch, p := srv.rec.payload(0); ch != 0 || string(p) != "hello from the client" {
		t.Errorf("server got channel %d %q", ch, p)
	}
	send(t, srv.link, 0, []byte("hello from the server"))
	c.rec.waitCount(t, 1)
	if ch, p := c.rec.payload(0); ch != 0 || string(p) != "hello from the server" {
		t.Errorf("client got channel %d %q", ch, p)
	}
}

func (s suite) order(t *testing.T) {
	const n = 10000
	e := s.start(t)
	mk := func() *recorder { r := newRecorder(); r.keep, r.check = false, inOrder; return r }
	e.setSink(mk)
	c, srv := e.dialWith(mk())
	var wg sync.WaitGroup
	for _, l := range []transport.Link{c.link, srv.link} {
		wg.Go(func() {
			var buf []byte
			for i := range n {
				buf = seqPayload(buf, uint32(i), i%50)
				if err := l.Send(0, transport.Reliable, buf); err != nil {
					t.Errorf("Send %d: %v", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	srv.rec.waitCount(t, n)
	c.rec.waitCount(t, n)
}

func (s suite) payloadSizes(t *testing.T) {
	for _, max := range []int{transport.DefaultMaxPayload, 4096} {
		t.Run(fmt.Sprintf("MaxPayload=%d", max), func(t *testing.T) {
			cfg := s.config()
			cfg.MaxPayload = max
			cfg = cfg.WithDefaults()
			e := start(t, s.newTransport, s.addr, cfg)
			c, srv := e.dial()
			sizes := []int{0, 1, 1000, cfg.MaxPayload}
			for i, size := range sizes {
				p := make([]byte, size)
				for j := range p {
					p[j] = byte(j*7 + i)
				}
				send(t, c.link, 0, p)
				srv.rec.waitCount(t, i+1)
				if _, got := srv.rec.payload(i); !bytes.Equal(got, p) {
					t.Fatalf("payload of %d bytes arrived as %d different bytes", size, len(got))
				}
			}
			err := c.link.Send(0, transport.Reliable, make([]byte, cfg.MaxPayload+1))
			if !errors.Is(err, transport.ErrPayloadTooLarge) {
				t.Fatalf("Send of MaxPayload+1 bytes: %v, want ErrPayloadTooLarge", err)
			}
			send(t, c.link, 0, []byte("still open"))
			srv.rec.waitCount(t, len(sizes)+1)
			if _, got := srv.rec.payload(len(sizes)); string(got) != "still open" {
				t.Fatalf("after a refused Send, got %q", got)
			}
		})
	}
}

func (s suite) badChannel(t *testing.T) {
	e := s.start(t)
	c, srv := e.dial()
	for _, ch := range []int{s.opts.Channels, 255} {
		if ch < s.opts.Channels || ch > 255 {
			continue
		}
		if err := c.link.Send(uint8(ch), transport.Reliable, []byte("x")); !errors.Is(err, transport.ErrBadChannel) {
			t.Errorf("Send on channel %d of %d: %v, want ErrBadChannel", ch, s.opts.Channels, err)
		}
	}
	send(t, c.link, uint8(s.opts.Channels-1), []byte("last channel"))
	srv.rec.waitCount(t, 1)
}

func (s suite) channels(t *testing.T) {
	const perChannel = 100
	e := s.start(t)
	c, srv := e.dial()
	for i := range perChannel {
		for ch := range s.opts.Channels {
			send(t, c.link, uint8(ch), []byte{byte(ch), byte(i)})
		}
	}
	srv.rec.waitCount(t, perChannel*s.opts.Channels)
	next := make([]int, s.opts.Channels)
	for i := range perChannel * s.opts.Channels {
		ch, p := srv.rec.payload(i)
		sentOn := int(p[0])
		want := uint8(0)
		if s.opts.KeepsChannel {
			want = uint8(sentOn)
		}
		if ch != want {
			t.Fatalf("payload sent on channel %d arrived on channel %d, want %d", sentOn, ch, want)
		}
		if int(p[1]) != next[sentOn] {
			t.Fatalf("channel %d: payload %d arrived in place of %d", sentOn, p[1], next[sentOn])
		}
		next[sentOn]++
	}
}

func (s suite) closeFlushes(t *testing.T) {
	const n = 100000
	e := s.start(t)
	e.setSink(func() *recorder { r := newRecorder(); r.keep, r.check = false, inOrder; return r })
	c, srv := e.dial()
	var buf []byte
	for i := range n {
		buf = seqPayload(buf, uint32(i), i%8)
		send(t, c.link, 0, buf)
	}
	c.link.Close()
	if err := c.link.Send(0, transport.Reliable, []byte("late")); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("Send after Close: %v, want ErrClosed", err)
	}
	c.link.Close() // idempotent
	c.link.Flush()
	if err := srv.rec.waitClosed(t); !errors.Is(err, io.EOF) {
		t.Errorf("peer's Closed(%v), want io.EOF", err)
	}
	if got, _, _ := srv.rec.snapshot(); got != n {
		t.Errorf("peer received %d payloads before Closed, want %d", got, n)
	}
	if err := c.rec.waitClosed(t); err != nil {
		t.Errorf("closer's Closed(%v), want nil", err)
	}
	c.link.Abort() // harmless after the end
	c.link.Close()
	_ = c.link.Stats()
	_ = c.link.RemoteAddr()
}

func (s suite) peerClosed(t *testing.T) {
	e := s.start(t)
	c, srv := e.dial()
	send(t, srv.link, 0, []byte("last words"))
	srv.link.Close()
	if err := c.rec.waitClosed(t); !errors.Is(err, io.EOF) {
		t.Errorf("client's Closed(%v), want io.EOF", err)
	}
	if n, _, _ := c.rec.snapshot(); n != 1 {
		t.Errorf("client received %d payloads before Closed, want 1", n)
	}
	if err := c.link.Send(0, transport.Reliable, []byte("x")); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("Send after the peer closed: %v, want ErrClosed", err)
	}
	if err := srv.rec.waitClosed(t); err != nil {
		t.Errorf("server's Closed(%v), want nil", err)
	}
}

func (s suite) abort(t *testing.T) {
	e := s.start(t)
	c, srv := e.dial()
	send(t, c.link, 0, []byte("first"))
	srv.rec.waitCount(t, 1)
	for range 1000 {
		send(t, c.link, 0, make([]byte, 100))
	}
	c.link.Abort()
	if err := c.link.Send(0, transport.Reliable, []byte("x")); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("Send after Abort: %v, want ErrClosed", err)
	}
	if err := c.rec.waitClosed(t); err != nil {
		t.Errorf("aborter's Closed(%v), want nil", err)
	}
	srv.rec.waitClosed(t) // any reason: reset or end of stream
	c.link.Abort()
	c.link.Close()
}

func (s suite) listenerClose(t *testing.T) {
	e := s.start(t)
	c1, s1 := e.dial()
	c2, s2 := e.dial()
	for _, p := range []peer{c1, c2} {
		send(t, p.link, 0, []byte("ping"))
	}
	s1.rec.waitCount(t, 1)
	s2.rec.waitCount(t, 1)
	addr := e.ln.Addr()
	closeWithin(t, e.ln)
	closeWithin(t, e.ln) // idempotent
	for _, p := range []peer{s1, s2} {
		if _, closed, _ := p.rec.snapshot(); !closed {
			t.Errorf("accepted link not closed when Listener.Close returned")
		}
	}
	for _, p := range []peer{c1, c2} {
		p.rec.waitClosed(t)
		if err := p.link.Send(0, transport.Reliable, []byte("x")); !errors.Is(err, transport.ErrClosed) {
			t.Errorf("Send on a link the listener closed: %v, want ErrClosed", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if l, err := e.tr.Dial(ctx, addr, e.cfg, newRecorder()); err == nil {
		l.Abort()
		t.Errorf("Dial to a closed listener succeeded")
	}
}

func (s suite) acceptRefused(t *testing.T) {
	e := s.start(t)
	var refused atomic.Bool
	e.setRefuse(func() bool { return !refused.Swap(true) })
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	rec := newRecorder()
	l, err := e.tr.Dial(ctx, e.ln.Addr(), e.cfg, rec)
	if err == nil {
		e.clients = append(e.clients, peer{l, rec})
		rec.waitClosed(t)
	}
	c, srv := e.dial()
	send(t, c.link, 0, []byte("accepted"))
	srv.rec.waitCount(t, 1)
}

func (s suite) dialErrors(t *testing.T) {
	checkLeaks(t)
	tr := s.newTransport(t)
	ln, err := tr.Listen(s.addr, s.config(), func(transport.Link) transport.Sink { return nil })
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr()
	closeWithin(t, ln)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if l, err := tr.Dial(ctx, addr, s.config(), newRecorder()); err == nil {
		l.Abort()
		t.Errorf("Dial(%q) with nobody listening succeeded", addr)
	}
	canceled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if l, err := tr.Dial(canceled, addr, s.config(), newRecorder()); err == nil {
		l.Abort()
		t.Errorf("Dial with a canceled context succeeded")
	}
}

func (s suite) stats(t *testing.T) {
	const up, upSize, down, downSize = 100, 10, 50, 20
	e := s.start(t)
	c, srv := e.dial()
	for range up {
		send(t, c.link, 0, make([]byte, upSize))
	}
	for range down {
		send(t, srv.link, 0, make([]byte, downSize))
	}
	srv.rec.waitCount(t, up)
	c.rec.waitCount(t, down)
	// Counted before or as the Sink gets each payload.
	if st := srv.link.Stats(); st.PayloadsReceived != up || st.BytesReceived < up*upSize {
		t.Errorf("server received %+v once its Sink had everything; want %d payloads, %d+ bytes", st, up, up*upSize)
	}
	if st := c.link.Stats(); st.PayloadsReceived != down || st.BytesReceived < down*downSize {
		t.Errorf("client received %+v once its Sink had everything; want %d payloads, %d+ bytes", st, down, down*downSize)
	}
	c.link.Close()
	c.rec.waitClosed(t)
	srv.rec.waitClosed(t)
	cs, ss := c.link.Stats(), srv.link.Stats()
	if cs.PayloadsSent != up || cs.BytesSent < up*upSize {
		t.Errorf("client sent %+v; want %d payloads, %d+ bytes", cs, up, up*upSize)
	}
	if ss.PayloadsSent != down || ss.BytesSent < down*downSize {
		t.Errorf("server sent %+v; want %d payloads, %d+ bytes", ss, down, down*downSize)
	}
}

func (s suite) concurrentSend(t *testing.T) {
	const senders, each = 8, 2000
	e := s.start(t)
	next := make([]int, senders)
	e.setSink(func() *recorder {
		r := newRecorder()
		r.keep = false
		r.check = func(_ int, _ uint8, p []byte) error {
			if len(p) != 5 || int(p[0]) >= senders {
				return fmt.Errorf("malformed payload %x", p)
			}
			id, seq := int(p[0]), int(binary.BigEndian.Uint32(p[1:]))
			if seq != next[id] {
				return fmt.Errorf("sender %d: payload %d arrived in place of %d", id, seq, next[id])
			}
			next[id]++
			return nil
		}
		return r
	})
	c, srv := e.dial()
	var wg sync.WaitGroup
	for id := range senders {
		wg.Go(func() {
			p := make([]byte, 5)
			p[0] = byte(id)
			for i := range each {
				binary.BigEndian.PutUint32(p[1:], uint32(i))
				if err := c.link.Send(0, transport.Reliable, p); err != nil {
					t.Errorf("sender %d: Send %d: %v", id, i, err)
					return
				}
				if i%100 == 0 {
					c.link.Flush()
					_ = c.link.Stats()
				}
			}
		})
	}
	wg.Wait()
	srv.rec.waitCount(t, senders*each)
}

// sendDuringClose closes a link while goroutines send on it: every Send
// that succeeded must arrive, every other must fail with ErrClosed.
func (s suite) sendDuringClose(t *testing.T) {
	const senders, each = 4, 5000
	e := s.start(t)
	e.setSink(func() *recorder { r := newRecorder(); r.keep = false; return r })
	c, srv := e.dial()
	var ok atomic.Int64
	var wg sync.WaitGroup
	for range senders {
		wg.Go(func() {
			for range each {
				err := c.link.Send(0, transport.Reliable, []byte("payload"))
				if errors.Is(err, transport.ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("Send: %v", err)
					return
				}
				ok.Add(1)
			}
		})
	}
	srv.rec.waitCount(t, 100)
	c.link.Close()
	wg.Wait()
	if err := srv.rec.waitClosed(t); !errors.Is(err, io.EOF) {
		t.Errorf("peer's Closed(%v), want io.EOF", err)
	}
	if got, _, _ := srv.rec.snapshot(); got != int(ok.Load()) {
		t.Errorf("peer received %d payloads, %d Sends succeeded", got, ok.Load())
	}
	c.rec.waitClosed(t)
}

// backpressure blocks the receiving Sink while far more than socket buffers
// hold is sent: Send, Close and the other link methods must not block.
func (s suite) backpressure(t *testing.T) {
	const n, size = 256, 64 << 10
	e := s.start(t)
	rec, release := gated()
	t.Cleanup(release)
	rec.keep, rec.check = false, inOrder
	e.setSink(func() *recorder { return rec })
	c, srv := e.dial()
	e.setSink(nil)
	other, otherSrv := e.dial()
	var buf []byte
	for i := range n {
		buf = seqPayload(buf, uint32(i), size-4)
		send(t, c.link, 0, buf)
		if i == 0 {
			waitBlocked(t, rec)
		}
	}
	// Another link of the same listener still works.
	send(t, other.link, 0, []byte("unrelated"))
	otherSrv.rec.waitCount(t, 1)
	send(t, otherSrv.link, 0, []byte("unrelated"))
	other.rec.waitCount(t, 1)

	returnsWithin(t, "Close while the peer's Sink blocks", c.link.Close)
	returnsWithin(t, "Stats and RemoteAddr while the Sink blocks", func() {
		_ = srv.link.Stats()
		_ = srv.link.RemoteAddr()
		srv.link.Flush()
	})
	if err := c.link.Send(0, transport.Reliable, []byte("x")); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("Send after Close: %v, want ErrClosed", err)
	}
	release()
	if err := rec.waitClosed(t); !errors.Is(err, io.EOF) {
		t.Errorf("blocked peer's Closed(%v), want io.EOF", err)
	}
	if got, _, _ := rec.snapshot(); got != n {
		t.Errorf("blocked peer received %d payloads, want %d", got, n)
	}
	if err := c.rec.waitClosed(t); err != nil {
		t.Errorf("closer's Closed(%v), want nil", err)
	}
}

// abortWhileBlocked aborts a link whose own Sink is blocked in Receive.
func (s suite) abortWhileBlocked(t *testing.T) {
	e := s.start(t)
	rec, release := gated()
	t.Cleanup(release)
	e.setSink(func() *recorder { return rec })
	c, srv := e.dial()
	send(t, c.link, 0, []byte("blocks"))
	send(t, c.link, 0, []byte("never delivered, or delivered before Closed"))
	waitBlocked(t, rec)
	returnsWithin(t, "Abort while the Sink blocks", srv.link.Abort)
	if err := srv.link.Send(0, transport.Reliable, []byte("x")); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("Send after Abort: %v, want ErrClosed", err)
	}
	release()
	if err := rec.waitClosed(t); err != nil {
		t.Errorf("aborter's Closed(%v), want nil", err)
	}
	c.rec.waitClosed(t)
}
