package event_test

import (
	"runtime"
	"testing"
	"weak"

	"github.com/gonetic/gonetic/event"
)

func TestQueue(t *testing.T) {
	q := event.NewQueue[int](3)
	for i := range 3 {
		if q.Full() {
			t.Fatalf("full after %d pushes", i)
		}
		if !q.Push(i) {
			t.Fatalf("push %d refused", i)
		}
		if q.Len() != i+1 {
			t.Fatalf("Len %d after %d pushes", q.Len(), i+1)
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
		if q.Len() != 7-want || q.Full() {
			t.Fatalf("Len %d (full %v) after polling %d", q.Len(), q.Full(), want)
		}
	}
	if _, ok := q.Poll(); ok {
		t.Fatal("poll of an empty queue")
	}
}

// A queue made with no room holds one event.
func TestQueueAtLeastOne(t *testing.T) {
	for _, capacity := range []int{0, -5} {
		q := event.NewQueue[int](capacity)
		if q.Cap() != 1 || !q.Push(7) || q.Push(8) {
			t.Fatalf("NewQueue(%d): Cap %d; want a queue of one", capacity, q.Cap())
		}
		if v, ok := q.Poll(); !ok || v != 7 {
			t.Fatalf("NewQueue(%d): polled %d %v", capacity, v, ok)
		}
	}
}

// Poll lets go of the event it returns: a queue does not keep a polled
// message alive.
func TestQueuePollReleases(t *testing.T) {
	q := event.NewQueue[*[1 << 10]byte](2)
	q.Push(new([1 << 10]byte))
	p, _ := q.Poll()
	w := weak.Make(p)
	p = nil // drop the test's own reference
	runtime.GC()
	if w.Value() != nil {
		t.Fatal("the queue still holds a polled event")
	}
	runtime.KeepAlive(q) // the queue, not its end, must let go
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
