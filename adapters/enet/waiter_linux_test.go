//go:build cgo && linux

package enet

import (
	"fmt"
	"os"
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
