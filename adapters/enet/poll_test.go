//go:build cgo

package enet

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
// calls Receive).
func TestPollAndTrySink(t *testing.T) {
	tr := newTransport(t, &Options{Poll: PollAll}) // the listener's Poll services too
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

func TestPollModeChecked(t *testing.T) {
	if _, err := New(&Options{Poll: PollNone + 1}); err == nil {
		t.Fatal("New accepted an unknown Options.Poll")
	}
	for m, want := range map[PollMode]string{PollDialed: "dialed", PollAll: "all", PollNone: "none"} {
		if m.String() != want {
			t.Errorf("%d.String() = %q, want %q", m, m.String(), want)
		}
	}
}

// Between Hold and the next Poll, Send queues without waking the host's
// goroutine, and that Poll sends what was queued; a Poll that finds the
// goroutine busy wakes it instead, which then sends it.
func TestHoldDefersWakeToPoll(t *testing.T) {
	tr := newTransport(t, nil) // PollDialed: the dialed link's Poll services its host
	ss := newSink(t)
	ln, err := tr.Listen("127.0.0.1:0", transport.Config{}, func(transport.Link) transport.Sink { return ss })
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	cl, err := tr.Dial(ctx, ln.Addr(), transport.Config{}, newSink(t))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Abort()
	l := cl.(*link)
	h := l.h
	sent := 0
	send := func(n int) {
		for range n {
			if err := l.Send(0, transport.Reliable, seqPayload(sent, 19)); err != nil {
				t.Fatal(err)
			}
			sent++
		}
	}
	// Let the goroutine go idle: a Send wakes it then.
	send(1)
	ss.waitN(sent)
	before := h.wakes.Load()
	send(1)
	if h.wakes.Load() == before {
		t.Fatal("Send to an idle link without Hold did not wake the host's goroutine")
	}
	ss.waitN(sent)

	before = h.wakes.Load()
	l.Hold()
	send(10)
	if got := h.wakes.Load() - before; got != 0 {
		t.Fatalf("10 Sends after Hold woke the host's goroutine %d times, want 0", got)
	}
	l.Poll()
	ss.waitN(sent)

	// The goroutine is busy (the test holds the service lock as its round
	// would): Poll cannot send, so it wakes the goroutine, which does.
	h.svc.Lock()
	before = h.wakes.Load()
	l.Hold()
	send(10)
	l.Poll()
	woke := h.wakes.Load() - before
	h.svc.Unlock()
	if woke != 1 {
		t.Fatalf("a Poll that found the goroutine busy woke it %d times, want 1", woke)
	}
	for i, m := range ss.waitN(sent) {
		if seqOf(m.p) != i {
			t.Fatalf("payload %d has sequence %d", i, seqOf(m.p))
		}
	}

	// A listener's host is held only when its Poll services it.
	lh := ln.(*listener).h
	ln.(*listener).Hold()
	if lh.held.Load() {
		t.Error("Hold held a listener's host that Poll does not service (PollDialed)")
	}
}

// TestPollingModeSkipsBusyHost: in polling mode, the run goroutine's look
// that finds a Poll holding the host sleeps again instead of queueing on
// svc (whose Unlock would then wake a thread in the middle of the game's
// loop), at most maxPollingSkips times in a row; then it waits for the
// host, and takes it over when the Polls stop.
func TestPollingModeSkipsBusyHost(t *testing.T) {
	l, _, sv := dialPolled(t)
	h := l.h
	// The run goroutine may be queued on svc already when the test takes
	// it (it woke before polling mode began, or skipped looks just
	// before): then it skips none. Try again until a hold sees skips.
	for end := time.Now().Add(deadline); ; {
		if time.Now().After(end) {
			t.Fatal("the run goroutine never skipped a look at a held host in polling mode")
		}
		l.Poll()
		l.Poll()
		h.svc.Lock() // a Poll that takes long
		if !h.polling.Load() {
			h.svc.Unlock()
			continue
		}
		before := h.skips.Load()
		for !runQueuedOnHost() {
			if time.Now().After(end) {
				h.svc.Unlock()
				t.Fatalf("the run goroutine never waited for a held host in polling mode (%d looks skipped)", h.skips.Load()-before)
			}
			time.Sleep(time.Millisecond)
		}
		skipped := h.skips.Load() - before
		h.svc.Unlock()
		if skipped > maxPollingSkips {
			t.Fatalf("the run goroutine skipped %d looks at a held host before it waited for it, want at most %d", skipped, maxPollingSkips)
		}
		if skipped > 0 {
			break
		}
	}
	// With no more Polls, the run goroutine services the host: a payload
	// sent now arrives.
	if err := l.Send(0, transport.Reliable, seqPayload(7, 19)); err != nil {
		t.Fatal(err)
	}
	if m := sv.s.waitN(1); seqOf(m[0].p) != 7 {
		t.Fatalf("the server got sequence %d, want 7", seqOf(m[0].p))
	}
}

// runQueuedOnHost reports whether a host's run goroutine waits for svc.
func runQueuedOnHost() bool {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "enet.(*host).run(") && strings.Contains(g, "Mutex).lockSlow") {
			return true
		}
	}
	return false
}

// dialPolled connects a link whose Poll services its host (PollDialed, the
// default), for the polling-mode tests: the link, its sink and the server's
// end.
func dialPolled(t *testing.T) (*link, *sink, accepted) {
	tr := newTransport(t, nil)
	srv := listen(t, tr, transport.Config{}, nil)
	cl, cs := dial(t, tr, srv.ln.Addr(), transport.Config{})
	return cl.(*link), cs, srv.next(t)
}

// holdInPollingMode calls drive until h is in polling mode, and returns
// with h.svc held, which keeps the run goroutine from ending polling mode
// while the test looks. The run goroutine ends it a millisecond or so
// after the last Poll or Wait, so on a loaded machine drive may have to go
// again.
func holdInPollingMode(t *testing.T, h *host, drive func(), what string) {
	t.Helper()
	for end := time.Now().Add(deadline); ; {
		drive()
		h.svc.Lock()
		if h.polling.Load() {
			return
		}
		h.svc.Unlock()
		if time.Now().After(end) {
			t.Fatalf("%s did not put the host in polling mode", what)
		}
	}
}

// TestPollingModeLooksRarely: a game spinning on Update(0) is looked at
// every few milliseconds at first and every maxPollingLook once it is seen
// to spin, not every millisecond: each look wakes a thread that takes a
// CPU from the game. Its Polls let the scheduler in every yieldEvery. When
// the Polls stop, the run goroutine notices at its next look and listens
// again.
func TestPollingModeLooksRarely(t *testing.T) {
	l, cs, sv := dialPolled(t)
	h := l.h
	holdInPollingMode(t, h, func() { l.Poll(); l.Poll() }, "two Polls")
	h.svc.Unlock()
	const spin = 400 * time.Millisecond
	rounds, yields := h.rounds.Load(), h.yields.Load()
	start := time.Now()
	for time.Since(start) < spin {
		l.Poll()
	}
	spun := time.Since(start)
	rounds, yields = h.rounds.Load()-rounds, h.yields.Load()-yields
	// A look every pollingCheck would go round some 400 times; doubling
	// up to maxPollingLook, about 30.
	if limit := uint64(spin / time.Millisecond / 4); rounds > limit {
		t.Errorf("the run goroutine went round %d times in %v of Polls, want at most %d", rounds, spun, limit)
	}
	if limit := uint64(spun/yieldEvery) + 1; yields == 0 || yields > limit {
		t.Errorf("Polls yielded %d times in %v, want 1 to %d", yields, spun, limit)
	}
	if !h.polling.Load() {
		t.Error("the host left polling mode while the game polled")
	}
	// The Polls stop: the run goroutine listens again and takes what comes.
	if err := sv.l.Send(0, transport.Reliable, seqPayload(3, 19)); err != nil {
		t.Fatal(err)
	}
	if m := cs.waitN(1); seqOf(m[0].p) != 3 {
		t.Fatalf("the client got sequence %d, want 3", seqOf(m[0].p))
	}
	for end := time.Now().Add(deadline); h.polling.Load(); time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("the run goroutine did not leave polling mode once the Polls stopped")
		}
	}
}

// TestIdlePollRunsDueTimers: a Poll with nothing to send or receive skips
// ENet's service, unless the deadline of ENet's next timer (a retransmit,
// a ping), kept by the last gn_timeout, has passed: in polling mode the
// run goroutine leaves those timers to the Polls.
func TestIdlePollRunsDueTimers(t *testing.T) {
	l, _, _ := dialPolled(t)
	h := l.h
	h.svc.Lock()
	defer h.svc.Unlock()
	serviced := func(due int64) bool {
		for range 100 {
			h.pollLocked(true, false) // now: serviceTime and nothing waiting
			now := h.c.host.serviceTime
			h.c.hasDue = 1
			h.c.due = now + 60_000
			if due <= 0 {
				h.c.due = now - 1
			}
			received := h.c.host.totalReceivedPackets
			h.c.host.serviceTime = now - 12_345 // a service sets it to the time
			h.pollLocked(false, false)
			if h.c.host.totalReceivedPackets == received { // no datagram came meanwhile (a ping)
				return h.c.host.serviceTime != now-12_345
			}
		}
		t.Fatal("a datagram came between every two Polls")
		return false
	}
	if serviced(1) {
		t.Error("an idle Poll serviced the host with ENet's next timer a minute away")
	}
	if !serviced(0) {
		t.Error("an idle Poll did not service the host with ENet's timer due")
	}
}

// TestReceivingPollKeepsTimerDeadline: in polling mode a Poll that only
// received leaves the deadline of ENet's next timer as it was (receiving
// starts no timer; acknowledgements left in the service, or wait for the
// replies and have a deadline of their own), sparing a
// walk of the peers between a request's arrival and its reply; a Poll
// that hands ENet a packet computes it again.
func TestReceivingPollKeepsTimerDeadline(t *testing.T) {
	l, cs, sv := dialPolled(t)
	h := l.h
	// The run goroutine's looks compute the deadline too: try until one
	// receipt falls between two of them.
	for i, end := 0, time.Now().Add(deadline); ; i++ {
		if time.Now().After(end) {
			t.Fatal("the run goroutine went round during every receipt")
		}
		holdInPollingMode(t, h, func() { l.Poll(); l.Poll() }, "two Polls")
		far := h.c.host.serviceTime + 3_600_000
		h.c.hasDue, h.c.due = 1, far
		worked := h.worked.Load() // under svc: a round of the run goroutine that waits for it counts after
		h.svc.Unlock()
		if err := sv.l.Send(0, transport.Reliable, seqPayload(i, 19)); err != nil {
			t.Fatal(err)
		}
		for cs.count() <= i {
			if time.Now().After(end) {
				t.Fatal("the Polls did not receive the payload")
			}
			l.Poll()
		}
		h.svc.Lock()
		due, quiet := h.c.due, h.worked.Load() == worked
		h.svc.Unlock()
		if !quiet {
			continue
		}
		if due != far {
			t.Fatalf("a Poll that only received computed ENet's timer deadline again (%d, was %d)", due, far)
		}
		break
	}
	if err := l.Send(0, transport.Reliable, seqPayload(0, 19)); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(deadline); ; {
		l.Poll() // the run goroutine may hold the host: then again
		h.svc.Lock()
		kept := h.c.due > h.c.host.serviceTime+60_000
		h.svc.Unlock()
		if !kept {
			break
		}
		if time.Now().After(end) {
			t.Fatal("a Poll that handed ENet a packet kept the old timer deadline")
		}
	}
}

// takeSink is a TrySink that takes every payload on the servicing
// goroutine, as net's inbox does when it has room.
type takeSink struct{ *sink }

func (s takeSink) TryReceive(ch uint8, p []byte) bool {
	s.Receive(ch, p)
	return true
}

// pollUntil Polls p until done, or fails the test at the deadline.
func pollUntil(t *testing.T, p transport.Poller, done func() bool, what string) {
	t.Helper()
	for end := time.Now().Add(deadline); !done(); p.Poll() {
		if time.Now().After(end) {
			t.Fatalf("Polls did not see %s", what)
		}
	}
}

// sentDatagrams is how many datagrams h's socket sent.
func sentDatagrams(h *host) uint32 {
	h.svc.Lock()
	defer h.svc.Unlock()
	return uint32(h.c.host.totalSentPackets)
}

// acked reports whether everything cl handed to ENet was acknowledged.
func acked(cl *link) bool {
	cl.h.svc.Lock()
	defer cl.h.svc.Unlock()
	return cl.c.created == cl.c.released
}

// holdAck sends payloads from cl until a Poll of ln holds the
// acknowledgement of one back (the run goroutine's look may read the
// datagram first, or send the acknowledgement before the test looks), and
// returns with ln's svc held, which keeps the run goroutine out. sent
// counts the payloads sent, ss those the server received.
func holdAck(t *testing.T, cl *link, ln *listener, ss *sink, sent *int) {
	t.Helper()
	for end := time.Now().Add(deadline); ; {
		if time.Now().After(end) {
			t.Fatal("no Poll held an acknowledgement back")
		}
		if err := cl.Send(0, transport.Reliable, seqPayload(*sent, 19)); err != nil {
			t.Fatal(err)
		}
		*sent++
		cl.Poll()
		pollUntil(t, ln, func() bool { return ss.count() >= *sent }, "the payload")
		ln.h.svc.Lock()
		if ln.h.c.acksHeld != 0 {
			return
		}
		ln.h.svc.Unlock()
		pollUntil(t, cl, func() bool { return acked(cl) }, "the acknowledgement")
	}
}

// pollingPair connects a client link to a listener whose Poll services its
// host, with sinks that take payloads on the Polling goroutine (as net's
// do: an Update's handlers then run before its closing Poll), and puts
// both hosts in polling mode.
func pollingPair(t *testing.T) (cl *link, cs *sink, ln *listener, sv transport.Link, ss *sink) {
	tr := newTransport(t, &Options{Poll: PollAll})
	acc := make(chan accepted, 1)
	l, err := tr.Listen("127.0.0.1:0", transport.Config{}, func(l transport.Link) transport.Sink {
		s := newSink(t)
		acc <- accepted{l, s}
		return takeSink{s}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	cs = newSink(t)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	c, err := tr.Dial(ctx, l.Addr(), transport.Config{}, takeSink{cs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Abort)
	a := <-acc
	cl, ln = c.(*link), l.(*listener)
	for _, h := range []*host{cl.h, ln.h} {
		holdInPollingMode(t, h, func() { cl.Poll(); ln.Poll(); cl.Poll(); ln.Poll() }, "two Polls")
		h.svc.Unlock()
	}
	return cl, cs, ln, a.l, a.s
}

// TestRepliesCarryAcknowledgements: in polling mode, a Poll that reads a
// lone datagram leaves its acknowledgement to the next Poll, so that a
// request's acknowledgement leaves with the reply sent in between, and a
// reply's with the next request: a ping-pong costs each side one datagram
// per round trip, not two.
func TestRepliesCarryAcknowledgements(t *testing.T) {
	cl, cs, ln, sv, ss := pollingPair(t)
	const rounds = 200
	cSent, sSent := sentDatagrams(cl.h), sentDatagrams(ln.h)
	for i := range rounds {
		if err := cl.Send(0, transport.Reliable, seqPayload(i, 19)); err != nil {
			t.Fatal(err)
		}
		cl.Poll()
		pollUntil(t, ln, func() bool { return ss.count() > i }, "the request")
		if err := sv.Send(0, transport.Reliable, seqPayload(i, 19)); err != nil {
			t.Fatal(err)
		}
		ln.Poll() // an Update's closing Poll
		pollUntil(t, cl, func() bool { return cs.count() > i }, "the reply")
	}
	cSent, sSent = sentDatagrams(cl.h)-cSent, sentDatagrams(ln.h)-sSent
	// The run goroutines' looks may send an acknowledgement alone now and
	// then; without holding, each side sent 2 datagrams a round trip.
	if limit := uint32(rounds + rounds/4); cSent > limit || sSent > limit {
		t.Errorf("%d round trips took %d datagrams from the client and %d from the server, want at most %d each",
			rounds, cSent, sSent, limit)
	}
}

// TestHeldAcknowledgementsLeave: acknowledgements held back for a reply
// wait for a packet to go with only so long. When the Update's handlers
// sent nothing, its closing Poll sends them, unless the game polls in a
// tight loop: then they wait for its next Sends, and any Poll sends them
// once they waited ackHold. A Wait sends them before it sleeps, and the
// run goroutine at its next look when the game stops polling. The sender
// then sees its packet acknowledged.
func TestHeldAcknowledgementsLeave(t *testing.T) {
	cl, _, ln, _, ss := pollingPair(t)
	clientAcked := func() bool { return acked(cl) }
	sent := 0
	holdOne := func() { t.Helper(); holdAck(t, cl, ln, ss, &sent) }

	sentNow := func() uint32 { return uint32(ln.h.c.host.totalSentPackets) }
	held := func() bool { return ln.h.c.acksHeld != 0 }

	// closingPoll holds an acknowledgement back, lets the closing Poll of
	// an Update of a game spinning or not find it, and reports whether
	// that Poll sent it, with svc held and the acknowledgement still held
	// when it did not; again when the run goroutine went round meanwhile.
	// For a spinning game, ackHold cannot run out before the test looks.
	closingPoll := func(spinning bool) bool {
		t.Helper()
		look := int32(pollingCheck)
		if spinning {
			look = maxPollingLook
		}
		for end := time.Now().Add(deadline); time.Now().Before(end); {
			holdOne()
			ln.h.lookMs.Store(look)
			if spinning {
				ln.h.heldSince = time.Now().Add(time.Hour)
			}
			before, worked := sentNow(), ln.h.worked.Load()
			ln.h.svc.Unlock()
			ln.Hold()
			ln.Poll() // closes an Update whose handlers sent nothing
			ln.h.svc.Lock()
			sent := !held() && sentNow() != before
			if ln.h.lookMs.Load() == look && ln.h.worked.Load() == worked {
				if sent {
					ln.h.svc.Unlock()
				}
				return sent
			}
			ln.h.svc.Unlock()
			pollUntil(t, cl, clientAcked, "the acknowledgement")
		}
		t.Fatal("the run goroutine went round around every closing Poll")
		return false
	}
	if !closingPoll(false) {
		ln.h.svc.Unlock()
		t.Error("the closing Poll of a game not spinning kept the acknowledgement held back")
	}
	pollUntil(t, cl, clientAcked, "the acknowledgement sent by a closing Poll")
	if closingPoll(true) {
		t.Error("the closing Poll of a spinning game sent at once the acknowledgement held back")
	} else {
		// Still held: a Poll once they waited ackHold sends them.
		ln.h.heldSince = time.Now().Add(-ackHold)
		before, worked := sentNow(), ln.h.worked.Load()
		ln.h.svc.Unlock()
		ln.Poll()
		ln.h.svc.Lock()
		mine, sent := ln.h.worked.Load() == worked, !held() && sentNow() != before
		ln.h.svc.Unlock()
		if mine && !sent {
			t.Error("a Poll did not send the acknowledgement held back for ackHold")
		}
	}
	pollUntil(t, cl, clientAcked, "the acknowledgement sent by a Poll")

	// A Wait that declines (the caller is about to block elsewhere) sends
	// them; again when the run goroutine went round in between.
	for end := time.Now().Add(deadline); ; {
		if time.Now().After(end) {
			t.Fatal("the run goroutine went round around every Wait")
		}
		holdOne()
		before, worked := sentNow(), ln.h.worked.Load()
		ln.h.svc.Unlock()
		ln.Wait(0)
		ln.h.svc.Lock()
		flushed, mine := !held() && sentNow() != before, ln.h.worked.Load() == worked
		ln.h.svc.Unlock()
		pollUntil(t, cl, clientAcked, "the acknowledgement sent by a Wait")
		if !mine {
			continue
		}
		if !flushed {
			t.Error("a Wait that declined kept the acknowledgement held back")
		}
		break
	}
	// A Wait that waits sends them before it sleeps (a datagram that comes
	// meanwhile may be held again when it wakes).
	holdOne()
	ln.h.svc.Unlock()
	ln.Wait(20 * time.Millisecond)
	pollUntil(t, cl, clientAcked, "the acknowledgement sent by a Wait")

	holdOne()
	ln.h.svc.Unlock() // and the game polls no more
	pollUntil(t, cl, clientAcked, "the acknowledgement sent by the run goroutine")
}

// TestNothingForTheGameIsAcknowledgedAtOnce: a datagram that brings the
// game nothing (here an ENet ping) gets no closing Poll to carry its
// acknowledgement, so the Poll that read it sends it at once, unless the
// game spins (its next Poll is a moment away).
func TestNothingForTheGameIsAcknowledgedAtOnce(t *testing.T) {
	cl, _, ln, _, _ := pollingPair(t)
	for end := time.Now().Add(deadline); ; {
		if time.Now().After(end) {
			t.Fatal("no server Poll read a ping alone")
		}
		// The client pings at its next service, once a millisecond
		// passed since it last heard the server.
		cl.h.svc.Lock()
		cl.peer.pingInterval = 1
		cl.h.c.hasDue, cl.h.c.due = 1, cl.h.c.host.serviceTime
		pinged := cl.h.c.host.totalSentPackets
		cl.h.svc.Unlock()
		pollUntil(t, cl, func() bool {
			cl.h.svc.Lock()
			defer cl.h.svc.Unlock()
			return cl.h.c.host.totalSentPackets != pinged
		}, "a ping sent")
		ln.h.svc.Lock()
		got, worked := ln.h.c.host.totalReceivedPackets, ln.h.worked.Load()
		ln.h.lookMs.Store(pollingCheck) // not spinning
		ln.h.svc.Unlock()
		ln.Poll()
		ln.h.svc.Lock()
		read := ln.h.c.host.totalReceivedPackets - got
		mine := ln.h.worked.Load() == worked && ln.h.lookMs.Load() == pollingCheck
		held := ln.h.c.acksHeld != 0
		ln.h.svc.Unlock()
		if read != 1 || !mine {
			continue // the run goroutine's look read it, or more came
		}
		if held {
			t.Fatal("a Poll that read a lone ping held its acknowledgement back")
		}
		return
	}
}

// TestCloseSendsHeldAcknowledgements: a link closed in the Update that
// read its peer's last message (the acknowledgement held back for a
// reply) acknowledges that message before it disconnects: ENet drops a
// peer's queued acknowledgements when it starts a disconnect.
func TestCloseSendsHeldAcknowledgements(t *testing.T) {
	cl, cs, ln, sv, ss := pollingPair(t)
	h := ln.h
	sent := 0
	holdAck(t, cl, ln, ss, &sent) // with svc held: the run goroutine stays out
	sv.Close()
	h.pollLocked(false, true) // the Update's closing Poll starts the disconnect
	defer h.svc.Unlock()      // and only then may the disconnect go out
	pollUntil(t, cl, func() bool {
		cl.h.svc.Lock()
		defer cl.h.svc.Unlock()
		if cl.c == nil {
			t.Fatal("the client's link ended before its last payload was acknowledged")
		}
		return cl.c.created == cl.c.released
	}, "the acknowledgement of the last payload")
	select {
	case <-cs.closed:
		t.Fatal("the client saw the disconnect before the acknowledgement")
	default:
	}
}
