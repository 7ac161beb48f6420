package tcp

import "sync/atomic"

// budget bounds the bytes that the links of one listener hold together for
// one purpose (frames being received beyond their usual read buffers, or
// payloads queued for sending). A nil budget bounds nothing.
type budget struct {
	max  int64
	used atomic.Int64
}

func newBudget(max int) *budget { return &budget{max: int64(max)} }

// take reserves n bytes and reports true, or reserves nothing and reports
// false when fewer than n are left.
func (b *budget) take(n int) bool {
	if b == nil || n <= 0 {
		return true
	}
	for {
		u := b.used.Load()
		if u+int64(n) > b.max {
			return false
		}
		if b.used.CompareAndSwap(u, u+int64(n)) {
			return true
		}
	}
}

// force reserves n bytes even past the bound.
func (b *budget) force(n int) {
	if b != nil {
		b.used.Add(int64(n))
	}
}

// give returns n bytes taken before.
func (b *budget) give(n int) {
	if b != nil && n > 0 {
		b.used.Add(-int64(n))
	}
}

// inUse is how many bytes are taken; 0 for a nil budget.
func (b *budget) inUse() int {
	if b == nil {
		return 0
	}
	return int(b.used.Load())
}
