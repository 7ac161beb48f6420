package sim

import (
	"math/rand/v2"
	"testing"
	"time"
)

// The scheduler's heap releases datagrams by due time, then in arrival
// order, and costs no allocation per datagram once it has grown.
func TestDueHeap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Now()
	var q dueHeap
	for seq := uint64(1); seq <= 2000; seq++ {
		// Few distinct times, so that many datagrams share one.
		q.push(datagram{due: base.Add(time.Duration(rng.IntN(50)) * time.Millisecond), seq: seq})
	}
	var last datagram
	for i := range 2000 {
		d := q.pop()
		if i > 0 && (d.due.Before(last.due) || d.due.Equal(last.due) && d.seq < last.seq) {
			t.Fatalf("pop %d: due %v seq %d after due %v seq %d", i, d.due.Sub(base), d.seq, last.due.Sub(base), last.seq)
		}
		last = d
	}
	if len(q) != 0 {
		t.Fatalf("%d left after popping every datagram", len(q))
	}

	q = make(dueHeap, 0, 64)
	allocs := testing.AllocsPerRun(100, func() {
		for i := range 32 {
			q.push(datagram{due: base.Add(time.Duration(31-i) * time.Millisecond), seq: uint64(i)})
		}
		for range 32 {
			q.pop()
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per 32 datagrams scheduled, want 0", allocs)
	}
}
