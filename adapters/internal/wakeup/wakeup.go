// Package wakeup holds the one-slot channel on which an adapter's
// goroutine (a link's writer or reader, a listener's accept loop) waits for
// work.
package wakeup

// Chan wakes the one goroutine that waits on it (<-c). Wake-ups that come
// while it is awake merge into one, so that the waiter must look for all
// the work there is each time it wakes.
type Chan chan struct{}

// New returns a Chan with its one slot.
func New() Chan { return make(Chan, 1) }

// Signal wakes the waiter, or leaves it a wake-up if it is not waiting;
// it never blocks. Safe for concurrent use.
func (c Chan) Signal() {
	select {
	case c <- struct{}{}:
	default:
	}
}
