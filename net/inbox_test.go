package net

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// testDeadline bounds waits for what must happen; generous for a busy CI
// machine.
const testDeadline = 20 * time.Second

// tryPush takes payloads while the inbox has room, refuses one that would
// make a pusher wait, and takes again once Update emptied the inbox; what
// it took comes out in order.
func TestInboxTryPush(t *testing.T) {
	in := newInbox(10)
	c := &Conn{}
	if !in.tryPush(c, 0, []byte("0123456")) {
		t.Fatal("tryPush refused a payload into an empty inbox")
	}
	if !in.tryPush(c, 1, []byte("789")) {
		t.Fatal("tryPush refused a payload that fits the limit")
	}
	if in.tryPush(c, 0, []byte("x")) {
		t.Fatal("tryPush took a payload past the inbox's limit")
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	items, data := in.take(0, timer, nil, nil)
	if len(items) != 2 || string(data[items[0].off:items[0].off+items[0].len]) != "0123456" ||
		items[1].channel != 1 || string(data[items[1].off:items[1].off+items[1].len]) != "789" {
		t.Fatalf("took %+v %q", items, data)
	}
	if !in.tryPush(c, 0, []byte("x")) {
		t.Fatal("tryPush refused after the inbox was emptied")
	}
	in.close()
	if !in.tryPush(c, 0, make([]byte, 100)) {
		t.Fatal("tryPush on a closed inbox must drop, not refuse: nobody will make room")
	}
}

// push waits while the inbox is over its limit, which stops the adapter
// reading from a peer that sends faster than Update takes, and goes on
// once Update took what was queued; a push of a link's end never waits.
func TestInboxPushWaitsForRoom(t *testing.T) {
	in := newInbox(8)
	c := &Conn{}
	in.push(c, itemPayload, 0, []byte("0123456789")) // the first always fits
	done := make(chan struct{})
	go func() {
		in.push(c, itemPayload, 0, []byte("x"))
		close(done)
	}()
	// Wait until the pusher is parked in push's wait for room; returning
	// instead means push went past the limit.
	deadline := time.Now().Add(testDeadline)
	for !blockedIn("(*inbox).push", "(*Cond).Wait") {
		select {
		case <-done:
			t.Fatal("push went past the inbox's limit instead of waiting for room")
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the pusher neither waited nor returned")
		}
		runtime.Gosched()
	}
	ended := make(chan struct{})
	go func() { in.push(c, itemClosed, 0, nil); close(ended) }()
	select {
	case <-ended:
	case <-time.After(testDeadline):
		t.Fatal("the push of a link's end waits for room")
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	items, _ := in.take(0, timer, nil, nil)
	if len(items) != 2 || items[1].kind != itemClosed {
		t.Fatalf("took %+v, want the payload then the link's end", items)
	}
	select {
	case <-done:
	case <-time.After(testDeadline):
		t.Fatal("push still waits after Update took everything")
	}
	if items, _ = in.take(0, timer, items, nil); len(items) != 1 || items[0].len != 1 {
		t.Fatalf("took %+v, want the waiting payload", items)
	}
}

// blockedIn reports whether some goroutine's stack holds both fn and wait.
func blockedIn(fn, wait string) bool {
	buf := make([]byte, 1<<20)
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.Contains(g, fn) && strings.Contains(g, wait) {
			return true
		}
	}
	return false
}
