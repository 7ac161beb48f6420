package sim

import (
	"math"
	"testing"
	"time"
)

// fates runs n datagrams of size bytes, arriving every gap, through one
// path with c, and returns each one's copies and release time.
func fates(c Conditions, seed uint64, n, size int, gap time.Duration) (copies []int, dues []time.Time, ctr *counters) {
	ctr = new(counters)
	p := newPath(seed, 1, ctr)
	now := time.Unix(1000, 0)
	for range n {
		k, due := p.datagram(&c, now, size)
		copies, dues = append(copies, k), append(dues, due)
		now = now.Add(gap)
	}
	return copies, dues, ctr
}

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.4f, want %.4f ± %.4f", what, got, want, tol)
	}
}

// runs returns the share of datagrams lost and the mean length of a run
// of losses.
func runs(copies []int) (loss, meanRun float64) {
	lost, bursts := 0, 0
	for i, k := range copies {
		if k == 0 {
			lost++
			if i == 0 || copies[i-1] != 0 {
				bursts++
			}
		}
	}
	return float64(lost) / float64(len(copies)), float64(lost) / float64(max(bursts, 1))
}

func TestLossIndependent(t *testing.T) {
	copies, _, ctr := fates(Conditions{Loss: 0.2}, 1, 200_000, 100, time.Millisecond)
	loss, run := runs(copies)
	near(t, "loss", loss, 0.2, 0.005)
	near(t, "mean run of losses", run, 1/(1-0.2), 0.03) // geometric
	if got := ctr.lost.Load(); got != uint64(loss*200_000+0.5) {
		t.Errorf("Lost counter %d, want %v", got, loss*200_000)
	}
}

func TestLossInBursts(t *testing.T) {
	copies, _, _ := fates(Conditions{Loss: 0.2, Burst: 4}, 1, 200_000, 100, time.Millisecond)
	loss, run := runs(copies)
	near(t, "loss", loss, 0.2, 0.01)
	near(t, "mean run of losses", run, 4, 0.2)
}

func TestLossAll(t *testing.T) {
	copies, _, _ := fates(Conditions{Loss: 1, Burst: 3}, 1, 1000, 100, time.Millisecond)
	if loss, _ := runs(copies); loss != 1 {
		t.Errorf("loss %v at Loss 1", loss)
	}
}

func TestJitterKeepsOrder(t *testing.T) {
	c := Conditions{Lag: 50 * time.Millisecond, Jitter: 20 * time.Millisecond}
	_, dues, _ := fates(c, 1, 10_000, 100, 100*time.Millisecond) // spaced wider than the jitter
	start := time.Unix(1000, 0)
	lo, hi := time.Hour, time.Duration(0)
	for i, due := range dues {
		d := due.Sub(start.Add(time.Duration(i) * 100 * time.Millisecond))
		lo, hi = min(lo, d), max(hi, d)
	}
	if lo < 30*time.Millisecond || hi > 70*time.Millisecond || hi-lo < 35*time.Millisecond {
		t.Errorf("delays from %v to %v, want spread over 50ms ± 20ms", lo, hi)
	}
	_, dues, _ = fates(c, 1, 10_000, 100, time.Millisecond) // closer than the jitter
	for i := 1; i < len(dues); i++ {
		if dues[i].Before(dues[i-1]) {
			t.Fatalf("datagram %d released at %v, before datagram %d at %v", i, dues[i], i-1, dues[i-1])
		}
	}
}

func TestReorder(t *testing.T) {
	c := Conditions{Lag: 10 * time.Millisecond, Reorder: 0.25, ReorderDelay: 5 * time.Millisecond}
	_, dues, ctr := fates(c, 1, 100_000, 100, time.Millisecond)
	overtaken := 0
	for i := 1; i < len(dues); i++ {
		if dues[i].Before(dues[i-1]) {
			overtaken++
		}
	}
	near(t, "reordered", float64(ctr.reordered.Load())/1e5, 0.25, 0.01)
	if overtaken < 15_000 {
		t.Errorf("%d datagrams overtook the one before them, want about 25,000 × 0.75", overtaken)
	}
}

func TestDuplicate(t *testing.T) {
	copies, _, _ := fates(Conditions{Duplicate: 0.1}, 1, 100_000, 100, time.Millisecond)
	two := 0
	for _, k := range copies {
		if k == 2 {
			two++
		}
	}
	near(t, "duplicated", float64(two)/1e5, 0.1, 0.005)
}

func TestRateAndQueue(t *testing.T) {
	// 100 datagrams of 1,000 bytes at once, at 100,000 B/s: the default
	// queue (200 ms at the rate, 20,000 bytes) takes 20, one every 10 ms.
	copies, dues, ctr := fates(Conditions{Rate: 100_000}, 1, 100, 1000, 0)
	start := time.Unix(1000, 0)
	for i := range 20 {
		if copies[i] != 1 || dues[i] != start.Add(time.Duration(i+1)*10*time.Millisecond) {
			t.Fatalf("datagram %d: %d copies at +%v, want 1 at +%v", i, copies[i], dues[i].Sub(start), time.Duration(i+1)*10*time.Millisecond)
		}
	}
	if got := ctr.overflow.Load(); got != 80 {
		t.Errorf("%d dropped by the full queue, want 80", got)
	}
	// Spaced at the rate, nothing waits and nothing is dropped.
	_, _, ctr = fates(Conditions{Rate: 100_000, Queue: 1000}, 1, 100, 1000, 10*time.Millisecond)
	if got := ctr.overflow.Load(); got != 0 {
		t.Errorf("%d dropped at exactly the rate", got)
	}
}

func TestMTU(t *testing.T) {
	c := Conditions{MTU: 1200}
	p := newPath(1, 1, new(counters))
	if k, _ := p.datagram(&c, time.Now(), 1200); k != 1 {
		t.Errorf("a datagram of MTU bytes: %d copies", k)
	}
	if k, _ := p.datagram(&c, time.Now(), 1201); k != 0 {
		t.Errorf("a datagram above MTU: %d copies", k)
	}
}

func TestStreamWaitsForQueue(t *testing.T) {
	c := Conditions{Rate: 10_000, Queue: 5000, Lag: time.Second}
	p := newPath(1, 1, new(counters))
	now := time.Unix(1000, 0)
	if w := p.streamWait(&c, now, 5000); w != 0 {
		t.Fatalf("an empty queue makes a stream wait %v", w)
	}
	if due := p.stream(&c, now, 5000); due != now.Add(1500*time.Millisecond) {
		t.Fatalf("5,000 bytes at 10,000 B/s after 1 s of lag: released at +%v", due.Sub(now))
	}
	if w := p.streamWait(&c, now, 1000); w != 100*time.Millisecond {
		t.Errorf("1,000 more bytes behind a full queue wait %v, want 100ms", w)
	}
}

func TestSameSeedSameFates(t *testing.T) {
	c := Conditions{Lag: 20 * time.Millisecond, Jitter: 10 * time.Millisecond, Loss: 0.1, Burst: 2, Duplicate: 0.05, Reorder: 0.05}
	a, da, _ := fates(c, 42, 5000, 100, time.Millisecond)
	b, db, _ := fates(c, 42, 5000, 100, time.Millisecond)
	x, _, _ := fates(c, 43, 5000, 100, time.Millisecond)
	same := func(p, q []int) bool {
		for i := range p {
			if p[i] != q[i] {
				return false
			}
		}
		return true
	}
	if !same(a, b) {
		t.Error("the same seed drew different fates")
	}
	for i := range da {
		if !da[i].Equal(db[i]) {
			t.Fatalf("the same seed drew different delays at %d", i)
		}
	}
	if same(a, x) {
		t.Error("another seed drew the same fates")
	}
}
