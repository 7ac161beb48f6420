package net

import (
	"testing"
	"time"
)

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
