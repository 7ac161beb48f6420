//go:build cgo

package enet

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gonetic/gonetic/net/transport"
)

// A listener's host walks the peer slots its peers use plus some slack,
// not all of PeerLimit, and a burst of connects larger than the slack
// still gets every client in.
func TestListenerSlotsFollowPeers(t *testing.T) {
	needInternals(t)
	const limit, clients = 1000, 150                                             // clients: more than the slack of 64
	tr := newTransport(t, &Options{PeerLimit: limit, HalfOpenPerAddress: limit}) // a burst from one address
	var accepted atomic.Int64
	ln, err := tr.Listen("127.0.0.1:0", transport.Config{}, func(transport.Link) transport.Sink {
		accepted.Add(1)
		return newCountSink()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	h := ln.(*listener).h
	waitWalked := func(ok func(int) bool, what string) int {
		t.Helper()
		end := time.Now().Add(deadline)
		for {
			var n int
			h.inspect(func() { n = int(h.c.host.peerCount) })
			if ok(n) {
				return n
			}
			if time.Now().After(end) {
				t.Fatalf("ENet walks %d of %d slots, want %s", n, limit, what)
			}
			h.wake() // a round of the host's goroutine refits
			time.Sleep(time.Millisecond)
		}
	}
	waitWalked(func(n int) bool { return n <= 64 }, "at most 64 with no peer")

	links := make([]transport.Link, clients)
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range links {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			l, err := tr.Dial(ctx, ln.Addr(), transport.Config{}, newSink(t))
			if err != nil {
				errs <- err
				return
			}
			links[i] = l
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("a client of the burst did not get in: %v", err)
	}
	n := waitWalked(func(n int) bool { return n >= clients && accepted.Load() == clients }, "room for every client")
	if n >= limit {
		t.Errorf("ENet walks all %d slots for %d peers", n, clients)
	}

	for _, l := range links {
		l.Close()
	}
	waitWalked(func(n int) bool { return n <= 64 }, "at most 64 again once the peers left")
}
