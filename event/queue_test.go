package event_test

import (
	"testing"

	"github.com/gonetic/gonetic/event"
)

func TestQueue(t *testing.T) {
	q := event.NewQueue[int](3)
	for i := range 3 {
		if !q.Push(i) {
			t.Fatalf("push %d refused", i)
		}
	}
	if q.Push(9) || !q.Full() || q.Len() != 3 || q.Cap() != 3 {
		t.Fatal("a full queue accepted a push")
	}
	for round := 0; round < 5; round++ { // wrap around
		v, ok := q.Poll()
		if !ok || v != round {
			t.Fatalf("poll %d: %d %v", round, v, ok)
		}
		q.Push(round + 3)
	}
	for want := 5; want < 8; want++ {
		if v, ok := q.Poll(); !ok || v != want {
			t.Fatalf("drain: %d %v, want %d", v, ok, want)
		}
	}
	if _, ok := q.Poll(); ok {
		t.Fatal("poll of an empty queue")
	}
}

// Every event type is an Event; this fails to compile otherwise.
var _ = []event.Event{
	event.Connected[int]{}, event.Accepted[int]{}, event.Disconnected[int]{}, event.Refused{}, event.Received[int]{},
}

func BenchmarkPushPoll(b *testing.B) {
	q := event.NewQueue[event.Event](1024)
	ev := event.Event(event.Connected[int]{Conn: 1})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		q.Push(ev)
		if _, ok := q.Poll(); !ok {
			b.Fatal()
		}
	}
}
