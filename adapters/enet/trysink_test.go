//go:build cgo

package enet

import (
	"context"
	stdnet "net"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gonetic/gonetic/net/transport"
)

// trySink is a sink that is also a transport.TrySink: it refuses every
// third TryReceive (as a full inbox would), and checks that calls never
// overlap.
type trySink struct {
	*sink
	calls          atomic.Int64
	taken, refused atomic.Int64
	inCall         atomic.Bool
}

func (s *trySink) enter() {
	if !s.inCall.CompareAndSwap(false, true) {
		s.t.Error("two calls of one link's sink overlap")
	}
}

func (s *trySink) Receive(ch uint8, p []byte) {
	s.enter()
	s.sink.Receive(ch, p)
	s.inCall.Store(false)
}

func (s *trySink) TryReceive(ch uint8, p []byte) bool {
	s.enter()
	defer s.inCall.Store(false)
	if s.calls.Add(1)%3 == 0 {
		s.refused.Add(1)
		return false
	}
	s.taken.Add(1)
	s.sink.Receive(ch, p)
	return true
}

// Payloads reach a TrySink in order and exactly once, whether the host's
// goroutine or a Poll on other goroutines services the host, and whether
// the sink takes them at once or refuses them (the deliver goroutine then
// calls Receive), and calls never overlap.
func TestPollAndTrySink(t *testing.T) {
	tr := newTransport(t, nil)
	acc := make(chan *trySink, 1)
	var links = make(chan transport.Link, 1)
	ln, err := tr.Listen("127.0.0.1:0", transport.Config{}, func(l transport.Link) transport.Sink {
		s := &trySink{sink: newSink(t)}
		acc <- s
		links <- l
		return s
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cs := &trySink{sink: newSink(t)}
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	cl, err := tr.Dial(ctx, ln.Addr(), transport.Config{}, cs)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Abort()
	var ss *trySink
	var sl transport.Link
	select {
	case ss = <-acc:
		sl = <-links
	case <-time.After(deadline):
		t.Fatal("no link accepted")
	}

	// Two goroutines poll both hosts while the payloads flow.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				ln.(transport.Poller).Poll()
				cl.(transport.Poller).Poll()
			}
		}()
	}
	const n = 20000
	for i := range n {
		if err := cl.Send(0, transport.Reliable, seqPayload(i, 19)); err != nil {
			t.Fatal(err)
		}
		if err := sl.Send(0, transport.Reliable, seqPayload(i, 23)); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []*trySink{ss, cs} {
		for i, m := range s.waitN(n) {
			if seqOf(m.p) != i {
				t.Fatalf("payload %d has sequence %d", i, seqOf(m.p))
			}
		}
		if s.taken.Load() == 0 || s.refused.Load() == 0 {
			t.Errorf("TryReceive took %d and refused %d: both paths should have run", s.taken.Load(), s.refused.Load())
		}
	}
	close(stop)
	wg.Wait()
	if got := ss.count(); got != n {
		t.Errorf("server sink got %d payloads, want %d", got, n)
	}
}

// Both ends of a link keep ENet's packet throttle from dropping unreliable
// packets (keepThrottle): the dialing side configures it, and ENet tells
// the listener's side, which configures it too.
func TestThrottleKept(t *testing.T) {
	cl, _, sv := connect(t, nil)
	for name, l := range map[string]transport.Link{"dialed": cl, "accepted": sv.l} {
		k := l.(*link)
		var decel uint32
		k.h.inspect(func() { decel = uint32(k.peer.packetThrottleDeceleration) })
		if decel != 0 {
			t.Errorf("%s link: ENet's throttle deceleration is %d, want 0: it would drop sequenced packets when the round trip rises", name, decel)
		}
	}
}

// Once a Poll serviced a host (the game calls Update), a Send waits for the
// next Poll, but not for ENet's next timer: with no Poll, it leaves within
// sendDelay (1 ms), where the idle link's next timer is a ping, 500 ms away.
func TestSendAfterPollLeaves(t *testing.T) {
	cl, cs, sv := connect(t, nil)
	idle := func(l transport.Link) { // ENet holds nothing unacknowledged: its next timer is a ping
		k := l.(*link)
		for end := time.Now().Add(deadline); ; {
			var held uint64
			k.h.inspect(func() { held = uint64(k.c.created - k.c.released) })
			if held == 0 {
				return
			}
			if time.Now().After(end) {
				t.Fatal("the link never went idle")
			}
			runtime.Gosched()
		}
	}
	var took []time.Duration
	for i := range 20 {
		cl.(transport.Poller).Poll()
		sv.l.(transport.Poller).Poll()
		idle(cl)
		idle(sv.l)
		start := time.Now()
		if err := cl.Send(0, transport.Reliable, seqPayload(i, 19)); err != nil {
			t.Fatal(err)
		}
		if err := sv.l.Send(0, transport.Reliable, seqPayload(i, 19)); err != nil {
			t.Fatal(err)
		}
		sv.s.waitN(i + 1)
		cs.waitN(i + 1)
		took = append(took, time.Since(start))
	}
	// Judged by the median: waiting for ENet's next timer would make every
	// round late, while a busy machine makes a few late at random.
	sorted := slices.Clone(took)
	slices.Sort(sorted)
	if med := sorted[len(sorted)/2]; med > 250*time.Millisecond {
		t.Fatalf("sends after a Poll took %v to arrive (median; each: %v): they waited for ENet's next timer, not sendDelay", med, took)
	}
}

// A wake-up survives a Poll that services the host between the wake-up and
// the run goroutine's look at its deadline: the Poll's new deadline must
// not replace the wake-up's, or the run goroutine sleeps on with notified
// set, and every later wake-up, Listener.Close's too, is lost.
func TestWakeSurvivesPoll(t *testing.T) {
	tr := newTransport(t, nil)
	ln, err := tr.Listen("127.0.0.1:0", transport.Config{}, func(transport.Link) transport.Sink { return nil })
	if err != nil {
		t.Fatal(err)
	}
	h := ln.(*listener).h
	var once sync.Once
	hooked := make(chan struct{})
	sleep := h.waitFn
	h.inspect(func() {
		h.waitFn = func(fd uintptr) bool {
			once.Do(func() {
				// The run goroutine is about to sleep; another goroutine
				// wakes it, then a Poll services a datagram (a stray one).
				c, err := stdnet.Dial("udp", ln.Addr())
				if err != nil {
					t.Error(err)
				} else {
					c.Write([]byte("stray"))
					c.Close()
				}
				fds := []unix.PollFd{{Fd: int32(h.socketFD()), Events: unix.POLLIN}}
				if _, err := unix.Poll(fds, int(deadline/time.Millisecond)); err != nil {
					t.Error(err)
				}
				done := make(chan struct{})
				go func() {
					h.wake()
					ln.(transport.Poller).Poll()
					close(done)
				}()
				<-done
				close(hooked)
			})
			return sleep(fd)
		}
	})
	h.wake()
	<-hooked
	closed := make(chan struct{})
	go func() {
		ln.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(deadline):
		t.Fatalf("Listener.Close hangs: the wake-up the Poll came after was lost (notified=%v)", h.notified.Load())
	}
}
