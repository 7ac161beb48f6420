//go:build cgo && linux

package enet

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gonetic/gonetic/net/transport"
)

// watched reads, from /proc, which descriptors the epoll instance that Go's
// netpoller waits on for h watches, and for which events.
func watched(t *testing.T, h *host) map[int]uint32 {
	t.Helper()
	var fd uintptr
	if err := h.rc.Control(func(f uintptr) { fd = f }); err != nil {
		t.Fatal(err)
	}
	info, err := os.ReadFile(fmt.Sprintf("/proc/self/fdinfo/%d", fd))
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]uint32{}
	for _, line := range strings.Split(string(info), "\n") {
		f := strings.Fields(line) // tfd: 7 events: 19 data: ...
		if len(f) < 4 || f[0] != "tfd:" || f[2] != "events:" {
			continue
		}
		n, err1 := strconv.Atoi(f[1])
		ev, err2 := strconv.ParseUint(f[3], 16, 32)
		if err1 != nil || err2 != nil {
			t.Fatalf("cannot parse %q", line)
		}
		out[n] = uint32(ev)
	}
	return out
}

// On Linux, Go's netpoller waits on an epoll instance that watches ENet's
// socket for reading only, and only while the host's goroutine sleeps: a
// socket watched for writing too woke an idle thread after every datagram
// sent.
func TestWaiterWatchesReadsOnly(t *testing.T) {
	tr := newTransport(t, nil)
	srv := listen(t, tr, transport.Config{}, nil)
	cl, cs := dial(t, tr, srv.ln.Addr(), transport.Config{})
	sv := srv.next(t)
	for _, h := range []*host{srv.ln.(*listener).h, cl.(*link).h} {
		w := watched(t, h)
		sock := h.socketFD()
		if _, ok := w[sock]; !ok || len(w) != 1 {
			t.Fatalf("the waiter watches %v, want ENet's socket %d alone", w, sock)
		}
	}
	const n = 200
	for i := range n {
		if err := cl.Send(0, transport.Reliable, seqPayload(i, 19)); err != nil {
			t.Fatal(err)
		}
		got := sv.s.waitN(i + 1)
		if err := sv.l.Send(0, transport.Reliable, got[i].p); err != nil {
			t.Fatal(err)
		}
		if back := cs.waitN(i + 1); seqOf(back[i].p) != i {
			t.Fatalf("round trip %d came back as %d", i, seqOf(back[i].p))
		}
	}
	// Every payload crossed both ways; both goroutines go to sleep, armed.
	for _, h := range []*host{srv.ln.(*listener).h, cl.(*link).h} {
		sock := h.socketFD()
		end := time.Now().Add(deadline)
		for {
			ev := watched(t, h)[sock]
			if ev&syscall.EPOLLOUT != 0 {
				t.Fatalf("the waiter watches the socket for writing (events %#x)", ev)
			}
			if ev&syscall.EPOLLIN != 0 {
				break
			}
			if time.Now().After(end) {
				t.Fatalf("the idle host's waiter does not watch for reading (events %#x): it would sleep deaf", ev)
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// Update's wait (transport.Waiter): a goroutine that waits for a host's
// socket itself wakes for a datagram and for Interrupt, services the host
// before it returns, and leaves the host in polling mode, which the run
// goroutine ends (listening again) once the Waits stop; it declines with
// PollNone, and with one P.
func TestWaitOnCallersGoroutine(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0))))
	tr := newTransport(t, nil) // PollDialed
	srv := listen(t, tr, transport.Config{}, nil)
	cl, cs := dial(t, tr, srv.ln.Addr(), transport.Config{})
	sv := srv.next(t)
	l := cl.(*link)
	h := l.h
	// A listener's host waits too; its Poll does not service it, but the
	// Hold and Poll that follow a Wait (in one Update) do.
	lh := srv.ln.(*listener).h
	if !srv.ln.(transport.Waiter).Wait(time.Millisecond) {
		t.Error("a listener's host did not wait with Options.Poll = PollDialed")
	}
	srv.ln.(transport.Holder).Hold()
	if !lh.held.Load() {
		t.Error("Hold after a Wait did not hold a listener's host")
	}
	srv.ln.(transport.Poller).Poll()
	srv.ln.(transport.Holder).Hold()
	if lh.held.Load() {
		t.Error("Hold held a listener's host with no Wait since the last Poll (PollDialed)")
	}
	srv.ln.(transport.Poller).Poll()
	// A Wait that waited put the listener's host in polling mode, though
	// its Poll does not service it; a Wait that declines ends it.
	holdInPollingMode(t, lh, func() { srv.ln.(transport.Waiter).Wait(time.Millisecond) }, "a Wait on a listener")
	lh.svc.Unlock()
	srv.ln.(transport.Waiter).Wait(0)
	if lh.polling.Load() {
		t.Error("a Wait that declined did not end a listener's host's polling mode")
	}

	// With svc held the run goroutine cannot service: only the datagram
	// can end the sleep.
	h.svc.Lock()
	if err := sv.l.Send(0, transport.Reliable, seqPayload(0, 19)); err != nil {
		t.Fatal(err)
	}
	woken := h.sleepInline(int(deadline / time.Millisecond))
	h.svc.Unlock()
	if !woken {
		t.Fatal("a datagram did not end a wait for the socket")
	}
	cs.waitN(1)

	h.svc.Lock()
	l.Interrupt() // before the wait: the wait returns at once
	woken = h.sleepInline(int(deadline / time.Millisecond))
	h.svc.Unlock()
	if !woken {
		t.Fatal("Interrupt before a wait did not end it")
	}
	h.svc.Lock()
	done := make(chan bool, 1)
	go func() { done <- h.sleepInline(int(deadline / time.Millisecond)) }()
	l.Interrupt()
	select {
	case woken = <-done:
	case <-time.After(deadline):
		t.Fatal("Interrupt did not end a wait in progress")
	}
	h.svc.Unlock()
	if !woken {
		t.Fatal("a wait ended by Interrupt reported its time up")
	}

	// Payloads arrive exactly once and in order while a goroutine waits
	// in Wait, which delivers what it services before it returns.
	const n = 500
	go func() {
		for i := 1; i <= n; i++ {
			if err := sv.l.Send(0, transport.Reliable, seqPayload(i, 19)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for cs.count() < n+1 {
		if !l.Wait(time.Second) {
			t.Fatal("Wait declined on a dialed host with GOMAXPROCS 2")
		}
	}
	for i, m := range cs.waitN(n + 1) {
		if seqOf(m.p) != i {
			t.Fatalf("payload %d has sequence %d", i, seqOf(m.p))
		}
	}
	// A Wait that waited leaves the host in polling mode: the caller hears
	// the socket, the run goroutine's waiter stays disarmed, and a Send
	// from another goroutine interrupts the caller's next Wait rather than
	// wake the run goroutine.
	sock := h.socketFD()
	holdInPollingMode(t, h, func() { l.Wait(time.Millisecond) }, "a Wait")
	ev := watched(t, h)[sock]
	h.interrupted.Store(false)
	wakes := h.wakes.Load()
	err := l.Send(0, transport.Reliable, seqPayload(n+1, 19))
	interrupted, woke := h.interrupted.Load(), h.wakes.Load()-wakes
	h.svc.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if ev&syscall.EPOLLIN != 0 {
		t.Errorf("after a Wait the run goroutine's waiter watches the socket (events %#x): it re-armed for every Wait", ev)
	}
	if !interrupted || woke != 0 {
		t.Errorf("a Send after a Wait interrupted the next Wait: %v; woke the run goroutine %d times", interrupted, woke)
	}
	// Done waiting, the run goroutine takes over: it sends the payload and
	// hears the socket again.
	if m := sv.s.waitN(1); seqOf(m[0].p) != n+1 {
		t.Fatalf("the server got sequence %d, want %d", seqOf(m[0].p), n+1)
	}
	for end := time.Now().Add(deadline); h.polling.Load() || watched(t, h)[sock]&syscall.EPOLLIN == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("once the Waits stopped the run goroutine did not listen again (events %#x): it would sleep deaf", watched(t, h)[sock])
		}
	}

	runtime.GOMAXPROCS(1)
	if l.Wait(time.Millisecond) {
		t.Error("Wait waited with one P")
	}
	runtime.GOMAXPROCS(2)
	none := newTransport(t, &Options{Poll: PollNone})
	srvNone := listen(t, none, transport.Config{}, nil)
	if srvNone.ln.(transport.Waiter).Wait(time.Millisecond) {
		t.Error("a host waited with Options.Poll = PollNone")
	}
}

// Two Polls with no Wait between them (a game calling Update(0) in a
// loop) put the host in polling mode: the run goroutine stops listening
// to the socket and Send stops waking it, the game's Polls doing both.
// When the Polls stop, the run goroutine takes over within a moment: it
// sends what was queued and listens again; at once when the caller says
// it waits elsewhere.
func TestPollingModeHandsOver(t *testing.T) {
	l, cs, sv := dialPolled(t)
	h := l.h
	sock := h.socketFD()

	// A blocking Update polls once, then waits: no polling mode.
	l.Poll()
	l.Wait(0)
	l.Poll()
	if h.polling.Load() {
		t.Fatal("Polls with a Wait between them put the host in polling mode")
	}
	// Two in a row (an Update(0) loop).
	holdInPollingMode(t, h, func() { l.Poll(); l.Poll() }, "two Polls")
	ev := watched(t, h)[sock]
	before := h.wakes.Load()
	err := l.Send(0, transport.Reliable, seqPayload(0, 19))
	woke := h.wakes.Load() - before
	h.svc.Unlock()
	if ev&syscall.EPOLLIN != 0 {
		t.Fatalf("in polling mode the run goroutine's waiter still watches the socket (events %#x)", ev)
	}
	if err != nil {
		t.Fatal(err)
	}
	if woke != 0 {
		t.Fatalf("a Send in polling mode woke the run goroutine %d times", woke)
	}
	// No more Polls: the run goroutine sends the payload and listens.
	sv.s.waitN(1)
	if err := sv.l.Send(0, transport.Reliable, seqPayload(1, 19)); err != nil {
		t.Fatal(err)
	}
	if m := cs.waitN(1); seqOf(m[0].p) != 1 {
		t.Fatalf("the client got sequence %d, want 1", seqOf(m[0].p))
	}
	end := time.Now().Add(deadline)
	for h.polling.Load() || watched(t, h)[sock]&syscall.EPOLLIN == 0 {
		if time.Now().After(end) {
			t.Fatal("the run goroutine did not leave polling mode and listen again once the Polls stopped")
		}
		time.Sleep(time.Millisecond)
	}

	// A caller about to wait elsewhere (Wait(0)) ends polling mode at once.
	l.Poll()
	l.Poll()
	if !h.polling.Load() {
		t.Fatal("two Polls did not put the host in polling mode")
	}
	if l.Wait(0) {
		t.Error("Wait(0) reported that it waited")
	}
	if h.polling.Load() {
		t.Fatal("Wait(0) did not end polling mode")
	}
	// Armed at once, unless a datagram was waiting: the run goroutine
	// services it first.
	end = time.Now().Add(deadline)
	for ev := watched(t, h)[sock]; ev&syscall.EPOLLIN == 0; ev = watched(t, h)[sock] {
		if time.Now().After(end) {
			t.Fatalf("after Wait(0) the run goroutine's waiter does not watch the socket (events %#x)", ev)
		}
		time.Sleep(time.Millisecond)
	}
}
