package sim

import (
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// path decides the fate of the packets of one direction of one session.
// One goroutine uses it: the one that reads that direction.
type path struct {
	rng  *rand.Rand
	bad  bool      // in a burst of losses (Gilbert model)
	last time.Time // release time of the newest packet not reordered
	free time.Time // when Rate will have sent every byte queued so far
	ctr  *counters
}

func newPath(seed, stream uint64, ctr *counters) *path {
	return &path{rng: rand.New(rand.NewPCG(seed, stream)), ctr: ctr}
}

// datagram decides the fate of a datagram of size bytes that arrived at
// now: how many copies leave (0, 1 or 2), and when.
func (p *path) datagram(c *Conditions, now time.Time, size int) (copies int, due time.Time) {
	p.ctr.packets.Add(1)
	p.ctr.bytes.Add(uint64(size))
	if c.MTU > 0 && size > c.MTU {
		p.ctr.tooLarge.Add(1)
		return 0, due
	}
	if p.lose(c) {
		p.ctr.lost.Add(1)
		return 0, due
	}
	if c.Rate > 0 && p.backlog(c, now)+size > c.queue() {
		p.ctr.overflow.Add(1)
		return 0, due
	}
	due = p.transmit(c, now, size).Add(p.delay(c))
	if c.Reorder > 0 && p.rng.Float64() < c.Reorder {
		p.ctr.reordered.Add(1)
		due = due.Add(c.reorderDelay())
	} else {
		due = p.inOrder(due)
	}
	copies = 1
	if c.Duplicate > 0 && p.rng.Float64() < c.Duplicate {
		p.ctr.duplicated.Add(1)
		copies = 2
	}
	return copies, due
}

// streamWait is how long a stream must wait before size more bytes fit in
// Rate's queue.
func (p *path) streamWait(c *Conditions, now time.Time, size int) time.Duration {
	if c.Rate <= 0 {
		return 0
	}
	over := p.backlog(c, now) + size - c.queue()
	if over <= 0 {
		return 0
	}
	return time.Duration(int64(over) * int64(time.Second) / c.Rate)
}

// stream is when size bytes of a stream read at now are released. Streams
// are subject to Lag, Jitter and Rate only, and never reorder.
func (p *path) stream(c *Conditions, now time.Time, size int) time.Time {
	p.ctr.packets.Add(1)
	p.ctr.bytes.Add(uint64(size))
	return p.inOrder(p.transmit(c, now, size).Add(p.delay(c)))
}

// lose draws whether the next packet is lost.
func (p *path) lose(c *Conditions) bool {
	switch {
	case c.Loss <= 0:
		p.bad = false
		return false
	case c.Loss >= 1:
		return true
	case c.Burst <= 1:
		return p.rng.Float64() < c.Loss
	}
	// Two states: a packet is lost in the bad one. Leaving it with
	// probability 1/Burst makes bursts Burst long on average; entering it
	// with enter makes the long-run loss Loss.
	leave := 1 / c.Burst
	enter := c.Loss * leave / (1 - c.Loss)
	if p.bad {
		p.bad = p.rng.Float64() >= leave
	} else {
		p.bad = p.rng.Float64() < enter
	}
	return p.bad
}

// backlog is how many bytes wait in Rate's queue at now.
func (p *path) backlog(c *Conditions, now time.Time) int {
	if !p.free.After(now) {
		return 0
	}
	return int(int64(p.free.Sub(now)) * c.Rate / int64(time.Second))
}

// transmit is when the last byte of size bytes queued at now has gone out
// at Rate.
func (p *path) transmit(c *Conditions, now time.Time, size int) time.Time {
	if c.Rate <= 0 {
		return now
	}
	start := now
	if p.free.After(now) {
		start = p.free
	}
	p.free = start.Add(time.Duration(int64(size) * int64(time.Second) / c.Rate))
	return p.free
}

// delay draws Lag ± Jitter.
func (p *path) delay(c *Conditions) time.Duration {
	d := c.Lag
	if c.Jitter > 0 {
		d += time.Duration(p.rng.Int64N(2*int64(c.Jitter)+1)) - c.Jitter
	}
	return max(d, 0)
}

// inOrder holds due back to the release of the packet before.
func (p *path) inOrder(due time.Time) time.Time {
	if due.Before(p.last) {
		due = p.last
	}
	p.last = due
	return due
}

// counters are one direction's Stats, shared by every path of a Sim.
type counters struct {
	packets, bytes, lost, overflow, tooLarge, duplicated, reordered, delivered atomic.Uint64
}

func (c *counters) stats() PathStats {
	return PathStats{
		Packets: c.packets.Load(), Bytes: c.bytes.Load(),
		Lost: c.lost.Load(), Overflow: c.overflow.Load(), TooLarge: c.tooLarge.Load(),
		Duplicated: c.duplicated.Load(), Reordered: c.reordered.Load(), Delivered: c.delivered.Load(),
	}
}
