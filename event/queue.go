package event

// Queue is a bounded first-in first-out ring of events. It never drops and
// never grows past its capacity: Push reports false when the queue is
// full, and the producer (package net's Update) then stops reading from the
// network until the game drains the queue, so that senders feel the
// backpressure and no message is lost. Poll and Push allocate nothing.
//
// A Queue is not safe for concurrent use; package net uses it from the
// goroutine that calls Update.
type Queue[E any] struct {
	buf        []E
	head, size int
}

// NewQueue returns a queue that holds up to capacity events (at least 1).
func NewQueue[E any](capacity int) *Queue[E] {
	return &Queue[E]{buf: make([]E, max(capacity, 1))}
}

// Len is the number of queued events.
func (q *Queue[E]) Len() int { return q.size }

// Cap is the most events the queue holds.
func (q *Queue[E]) Cap() int { return len(q.buf) }

// Full reports whether Push would fail.
func (q *Queue[E]) Full() bool { return q.size == len(q.buf) }

// Push adds e at the back. It returns false, and leaves the queue as it
// was, when the queue is full.
func (q *Queue[E]) Push(e E) bool {
	if q.size == len(q.buf) {
		return false
	}
	q.buf[(q.head+q.size)%len(q.buf)] = e
	q.size++
	return true
}

// Poll removes and returns the event at the front, or false when empty.
func (q *Queue[E]) Poll() (E, bool) {
	var zero E
	if q.size == 0 {
		return zero, false
	}
	e := q.buf[q.head]
	q.buf[q.head] = zero // let the event's message be collected
	q.head = (q.head + 1) % len(q.buf)
	q.size--
	return e, true
}
