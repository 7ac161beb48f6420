package flow

import "sync"

// bufPool recycles chunk buffers: what producers fill, what the wire
// sends from, what the reader receives into. Steady state allocates none.
type bufPool struct {
	size int // capacity of a pooled buffer
	max  int // most idle buffers kept

	mu   sync.Mutex // guards free
	free [][]byte
}

// get returns a buffer of length n; from the pool when n fits.
func (p *bufPool) get(n int) []byte {
	if n > p.size {
		return make([]byte, n)
	}
	p.mu.Lock()
	if k := len(p.free); k > 0 {
		b := p.free[k-1]
		p.free[k-1] = nil
		p.free = p.free[:k-1]
		p.mu.Unlock()
		return b[:n]
	}
	p.mu.Unlock()
	return make([]byte, n, p.size)
}

// put gives b back; buffers of another size go to the garbage collector.
func (p *bufPool) put(b []byte) {
	if cap(b) != p.size {
		return
	}
	p.mu.Lock()
	if len(p.free) < p.max {
		p.free = append(p.free, b[:0])
	}
	p.mu.Unlock()
}
