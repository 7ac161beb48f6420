package game

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// vec is the state of these tests: a position.
type vec struct{ X, Y float64 }

func lerpVec(a, b vec, f float64) vec {
	return vec{a.X + (b.X-a.X)*f, a.Y + (b.Y-a.Y)*f}
}

func (v vec) dist(w vec) float64 { return math.Hypot(v.X-w.X, v.Y-w.Y) }

// base is the server time of the first snapshot: every time in these tests
// is built from it, so that runs are repeatable.
var base = time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)

const interval = time.Second / 30 // the server's snapshot rate
const frame = time.Second / 60    // the client's frame rate

// line moves at 3 units/s along x and 1 along y: interpolation and
// extrapolation of it are exact.
func line(t time.Time) vec {
	s := t.Sub(base).Seconds()
	return vec{3 * s, s}
}

// circle turns once every 2 s on a circle of radius 10: interpolation of it
// is close, not exact.
func circle(t time.Time) vec {
	a := math.Pi * t.Sub(base).Seconds()
	return vec{10 * math.Cos(a), 10 * math.Sin(a)}
}

// arrival is snapshot number i (stamped base + i×interval) arriving at
// server time now.
type arrival struct {
	i   int
	now time.Time
}

func stamp(i int) time.Time { return base.Add(time.Duration(i) * interval) }

// stream is n snapshots arriving late by lateness(i), in arrival order
// (ties keep stamp order).
func stream(n int, lateness func(i int) time.Duration) []arrival {
	as := make([]arrival, n)
	for i := range as {
		as[i] = arrival{i, stamp(i).Add(lateness(i))}
	}
	slices.SortStableFunc(as, func(a, b arrival) int { return a.now.Compare(b.now) })
	return as
}

// rendered is what one frame rendered.
type rendered struct {
	now, r time.Time     // server time and rendered time (zero until it runs)
	iv     time.Duration // Stats().Interval
	v      vec
	extra  bool // rendered past the newest snapshot
}

// play runs frames every frame from base until end: each frame first adds
// the snapshots that arrived by then (with their own arrival time, as
// handlers would see it), then calls At.
func play(t *testing.T, ip *Interpolator[vec], as []arrival, truth func(time.Time) vec, end time.Duration) []rendered {
	t.Helper()
	var out []rendered
	next := 0
	for now := base; now.Sub(base) < end; now = now.Add(frame) {
		for next < len(as) && !as[next].now.After(now) {
			a := as[next]
			ip.Add(stamp(a.i), a.now, truth(stamp(a.i)))
			next++
		}
		before := ip.stats.Extrapolated
		v, ok := ip.At(now)
		if !ok {
			continue
		}
		var r time.Time
		if ip.started {
			r = ip.origin.Add(ip.rendered)
		}
		out = append(out, rendered{now, r, ip.interval, v, ip.stats.Extrapolated > before})
	}
	return out
}

func newVecInterpolator(t testing.TB, cfg InterpolatorConfig[vec]) *Interpolator[vec] {
	t.Helper()
	cfg.Lerp = lerpVec
	ip, err := NewInterpolator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return ip
}

func constant(d time.Duration) func(int) time.Duration {
	return func(int) time.Duration { return d }
}

func TestInterpolatorSteady(t *testing.T) {
	for _, tc := range []struct {
		name  string
		truth func(time.Time) vec
		tol   float64
	}{
		{"line", line, 1e-9},
		// The chord of a 2 s circle of radius 10 between two snapshots
		// is at most 10×(1−cos(π/60)) = 0.0137 inside it.
		{"circle", circle, 0.014},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ip := newVecInterpolator(t, InterpolatorConfig[vec]{})
			out := play(t, ip, stream(300, constant(20*time.Millisecond)), tc.truth, 10*time.Second)
			var extra int
			for _, o := range out {
				if o.r.IsZero() { // showing the first snapshot until a second comes
					continue
				}
				if d := o.v.dist(tc.truth(o.r)); d > tc.tol {
					t.Fatalf("at %v rendering %v: %v, want %v (off by %v)", o.now.Sub(base), o.r.Sub(base), o.v, tc.truth(o.r), d)
				}
				if o.extra && o.now.Sub(base) > time.Second {
					extra++
				}
			}
			if extra > 0 {
				t.Errorf("%d frames extrapolated in a steady stream after the first second", extra)
			}
			st := ip.Stats()
			if st.Interval != interval {
				t.Errorf("Interval %v, want %v", st.Interval, interval)
			}
			if d := st.Lateness - 20*time.Millisecond; d < -time.Microsecond || d > time.Microsecond {
				t.Errorf("Lateness %v, want 20ms", st.Lateness)
			}
			if st.Jitter > time.Microsecond {
				t.Errorf("Jitter %v in a steady stream", st.Jitter)
			}
			want := interval + 20*time.Millisecond
			if d := ip.Delay() - want; d < -time.Millisecond || d > time.Millisecond {
				t.Errorf("Delay %v, want %v: the interval and the lateness", ip.Delay(), want)
			}
			if st.Added != 300 || st.Late != 0 || st.Duplicate != 0 || st.Overflow != 0 {
				t.Errorf("stats %+v: want 300 added, none dropped", st)
			}
		})
	}
}

// TestInterpolatorJitter: lateness of 20 ms plus a seeded random jitter of
// growing spread, snapshots overtaking each other when it is wider than
// the interval. The delay grows with the jitter, and few frames find
// their snapshot missing.
func TestInterpolatorJitter(t *testing.T) {
	for _, d := range []struct {
		name string
		draw func(r *rand.Rand, spread time.Duration) time.Duration
	}{
		{"uniform", func(r *rand.Rand, s time.Duration) time.Duration { return time.Duration(r.Int64N(int64(s) + 1)) }},
		// A long tail: most arrive early, a few very late, as through a
		// queue that sometimes fills.
		{"exponential", func(r *rand.Rand, s time.Duration) time.Duration {
			return min(time.Duration(r.ExpFloat64()*float64(s)/4), 4*s)
		}},
		{"normal", func(r *rand.Rand, s time.Duration) time.Duration {
			return time.Duration(max(0, float64(s)*(1+r.NormFloat64()/3)))
		}},
	} {
		t.Run(d.name, func(t *testing.T) {
			var prev time.Duration
			for _, spread := range []time.Duration{0, 10 * time.Millisecond, 30 * time.Millisecond, 60 * time.Millisecond, 120 * time.Millisecond} {
				var frames, extra int
				var delay, jitter time.Duration
				for seed := range uint64(5) {
					rng := rand.New(rand.NewPCG(seed, uint64(spread)))
					late := make([]time.Duration, 600)
					for i := range late {
						late[i] = 20*time.Millisecond + d.draw(rng, spread)
					}
					ip := newVecInterpolator(t, InterpolatorConfig[vec]{})
					out := play(t, ip, stream(len(late), func(i int) time.Duration { return late[i] }), line, 20*time.Second)
					for _, o := range out {
						if o.now.Sub(base) < 5*time.Second { // judge the steady state
							continue
						}
						if dd := o.v.dist(line(o.r)); dd > 1e-9 {
							t.Fatalf("spread %v: at %v: %v, want %v", spread, o.r.Sub(base), o.v, line(o.r))
						}
						frames++
						delay += o.now.Sub(o.r)
						if o.extra {
							extra++
						}
					}
					jitter += ip.Stats().Jitter
				}
				delay /= time.Duration(frames)
				share := float64(extra) / float64(frames)
				t.Logf("spread %3v: delay %6.1fms, jitter %5.1fms, %.2f%% of frames past the newest snapshot", spread, float64(delay)/1e6, float64(jitter/5)/1e6, 100*share)
				if delay < prev+spread/10 {
					t.Errorf("spread %v: mean delay %v, not above the %v of the smaller spread before", spread, delay, prev)
				}
				prev = delay
				if share > 0.01 {
					t.Errorf("spread %v: %.2f%% of the frames past the newest snapshot, want at most 1%%", spread, 100*share)
				}
			}
		})
	}
}

// TestInterpolatorReordered: snapshots swapped in pairs render as they do
// in order.
func TestInterpolatorReordered(t *testing.T) {
	const n = 300
	inOrder := stream(n, constant(20*time.Millisecond))
	// Each odd snapshot overtakes the even one before it, which comes a
	// millisecond later.
	swapped := stream(n, func(i int) time.Duration {
		if i%2 == 0 {
			return interval + 21*time.Millisecond
		}
		return 20 * time.Millisecond
	})
	if swapped[0].i != 1 || swapped[1].i != 0 {
		t.Fatalf("the stream is not swapped: %v", swapped[:4])
	}
	t.Run("fixed delay", func(t *testing.T) {
		// In order, the first snapshot is shown alone, and rendering
		// goes on from it with less delay than the target for a while;
		// swapped, two came at once. From the second second, the two
		// have the same delay.
		cfg := InterpolatorConfig[vec]{MinDelay: 100 * time.Millisecond, MaxDelay: 100 * time.Millisecond}
		want := play(t, newVecInterpolator(t, cfg), inOrder, circle, 10*time.Second)
		ip := newVecInterpolator(t, cfg)
		got := play(t, ip, swapped, circle, 10*time.Second)
		want, got = want[len(want)-500:], got[len(got)-500:]
		if !slices.Equal(got, want) {
			for k := range got {
				if got[k] != want[k] {
					t.Fatalf("at %v swapped snapshots render %+v, in order %+v", got[k].now.Sub(base), got[k], want[k])
				}
			}
		}
		if st := ip.Stats(); st.Added != n || st.Late != 0 {
			t.Errorf("stats %+v: want all %d added", st, n)
		}
	})
	t.Run("adaptive delay", func(t *testing.T) {
		// The lateness of the even snapshots is an interval longer, so
		// the delay is; what is rendered is as close to the truth.
		ip := newVecInterpolator(t, InterpolatorConfig[vec]{})
		out := play(t, ip, swapped, circle, 10*time.Second)
		var extra int
		for _, o := range out[len(out)/2:] {
			if d := o.v.dist(circle(o.r)); d > 0.014 {
				t.Fatalf("at %v: %v, want %v (off by %v)", o.r.Sub(base), o.v, circle(o.r), d)
			}
			if o.extra {
				extra++
			}
		}
		if st := ip.Stats(); extra > 0 || st.Added != n || st.Late != 0 || st.Interval != interval {
			t.Errorf("stats %+v, %d frames extrapolated in the second half: want all %d added, none extrapolated, interval %v", st, extra, n, interval)
		}
	})
	t.Run("in one frame", func(t *testing.T) {
		// Snapshots come two by two, as when a link delivers a burst:
		// in order, or the second first, a nanosecond apart. The same
		// lateness samples, in another order: smoothing weighs the later
		// of two more, so the delays differ by a little (here 53 and 20 ms
		// of lateness give 2.2 ms), and so does what is rendered with
		// them, by no more than the delays' difference.
		pairs := func(swap bool) []arrival {
			as := make([]arrival, n)
			for k := 0; k < n; k += 2 {
				now := stamp(k + 1).Add(20 * time.Millisecond)
				as[k], as[k+1] = arrival{k, now}, arrival{k + 1, now.Add(1)}
				if swap {
					as[k], as[k+1] = arrival{k + 1, now}, arrival{k, now.Add(1)}
				}
			}
			return as
		}
		want := play(t, newVecInterpolator(t, InterpolatorConfig[vec]{}), pairs(false), circle, 10*time.Second)
		got := play(t, newVecInterpolator(t, InterpolatorConfig[vec]{}), pairs(true), circle, 10*time.Second)
		if len(got) != len(want) {
			t.Fatalf("%d frames rendered, %d in order", len(got), len(want))
		}
		const speed = 10 * math.Pi                 // of circle, per second
		for k := len(got) / 5; k < len(got); k++ { // from the second second
			g, w := got[k], want[k]
			dd := g.now.Sub(g.r) - w.now.Sub(w.r)
			if dd < -3*time.Millisecond || dd > 3*time.Millisecond {
				t.Fatalf("at %v: delay %v swapped, %v in order", g.now.Sub(base), g.now.Sub(g.r), w.now.Sub(w.r))
			}
			if d := g.v.dist(w.v); d > speed*math.Abs(dd.Seconds())+1e-9 {
				t.Fatalf("at %v: %v swapped, %v in order: %v apart, with delays %v apart", g.now.Sub(base), g.v, w.v, d, dd)
			}
		}
	})
}

// TestInterpolatorMissing: snapshots that never come are bridged by
// interpolating between their neighbours.
func TestInterpolatorMissing(t *testing.T) {
	missing := map[int]bool{30: true, 61: true, 62: true, 100: true}
	var as []arrival
	for _, a := range stream(200, constant(20*time.Millisecond)) {
		if !missing[a.i] {
			as = append(as, a)
		}
	}
	// Three intervals and the lateness cover two missing in a row.
	ip := newVecInterpolator(t, InterpolatorConfig[vec]{MinDelay: 3*interval + 25*time.Millisecond})
	out := play(t, ip, as, circle, 6*time.Second)
	bridged := 0
	for _, o := range out {
		if o.r.IsZero() {
			continue
		}
		if o.extra {
			t.Fatalf("at %v: extrapolated", o.r.Sub(base))
		}
		if o.iv != interval {
			t.Fatalf("at %v: Interval %v with a few missing, want %v", o.r.Sub(base), o.iv, interval)
		}
		i := int(o.r.Sub(base) / interval)
		if !missing[i] && !missing[i+1] {
			continue
		}
		a, b := i, i+1
		for missing[a] {
			a--
		}
		for missing[b] {
			b++
		}
		f := float64(o.r.Sub(stamp(a))) / float64(stamp(b).Sub(stamp(a)))
		want := lerpVec(circle(stamp(a)), circle(stamp(b)), f)
		if o.v != want {
			t.Errorf("at %v: %v, want %v, from snapshot %d to %d", o.r.Sub(base), o.v, want, a, b)
		}
		bridged++
	}
	if bridged < 10 {
		t.Errorf("only %d frames rendered in the gaps", bridged)
	}
	if st := ip.Stats(); st.Interval != interval {
		t.Errorf("Interval %v with a few missing, want %v", st.Interval, interval)
	}
}

// TestInterpolatorStop: when snapshots stop, At extrapolates for
// MaxExtrapolation, then holds; when they come back, rendering goes on.
func TestInterpolatorStop(t *testing.T) {
	for _, maxExtra := range []time.Duration{0, 50 * time.Millisecond, -1} {
		ip := newVecInterpolator(t, InterpolatorConfig[vec]{MaxExtrapolation: maxExtra})
		limit := maxExtra
		switch {
		case maxExtra == 0:
			limit = defaultMaxExtrapolation
		case maxExtra < 0:
			limit = 0
		}
		// 60 snapshots (2 s), none for 1 s, then again.
		var as []arrival
		for _, a := range stream(120, constant(20*time.Millisecond)) {
			if a.i < 60 || a.i >= 90 {
				as = append(as, a)
			}
		}
		out := play(t, ip, as, line, 4*time.Second)
		newest := stamp(59)
		var last time.Time
		held := 0
		for _, o := range out {
			if !o.r.After(newest) || o.r.After(stamp(90)) {
				continue
			}
			if !o.extra {
				if o.now.Before(stamp(90)) { // no snapshot after the newest yet
					t.Fatalf("max %v: at %v past the newest snapshot, not counted as extrapolated", maxExtra, o.r.Sub(base))
				}
				continue
			}
			// Extrapolating a line is exact, up to the limit.
			reach := min(o.r.Sub(newest), limit)
			if want := line(newest.Add(reach)); o.v.dist(want) > 1e-9 {
				t.Fatalf("max %v: at %v: %v, want %v: the line %v past the newest", maxExtra, o.r.Sub(base), o.v, want, reach)
			}
			if reach == limit {
				held++
			}
			last = o.r
		}
		if held < 10 || last.Sub(newest) < 500*time.Millisecond {
			t.Errorf("max %v: held %d frames, up to %v past the newest: the test did not stop the stream long enough", maxExtra, held, last.Sub(newest))
		}
		// Once snapshots come back, they render again.
		end := out[len(out)-1]
		if end.extra || end.v.dist(line(end.r)) > 1e-9 {
			t.Errorf("max %v: after the stream came back, at %v: %v, want %v", maxExtra, end.r.Sub(base), end.v, line(end.r))
		}
	}
}

// TestInterpolatorMonotonic: rendered time advances at 0.9× to 1.1× server
// time while the delay moves to its target, up or down, and stands still
// when server time goes back.
func TestInterpolatorMonotonic(t *testing.T) {
	// Lateness jitters by up to 150 ms for 5 s, then is steady: the
	// target goes up and then down by over 100 ms.
	rng := rand.New(rand.NewPCG(18, 1))
	late := make([]time.Duration, 450)
	for i := range late {
		late[i] = 20 * time.Millisecond
		if i < 150 {
			late[i] += time.Duration(rng.Int64N(int64(150 * time.Millisecond)))
		}
	}
	ip := newVecInterpolator(t, InterpolatorConfig[vec]{})
	out := play(t, ip, stream(len(late), func(i int) time.Duration { return late[i] }), circle, 15*time.Second)
	for len(out) > 0 && out[0].r.IsZero() {
		out = out[1:]
	}
	var lo, hi time.Duration = time.Hour, 0
	for k := 1; k < len(out); k++ {
		dt, dr := out[k].now.Sub(out[k-1].now), out[k].r.Sub(out[k-1].r)
		if dr < dt*9/10 || dr > dt*11/10+1 {
			t.Fatalf("at %v: rendered time advanced %v in %v", out[k].now.Sub(base), dr, dt)
		}
		if d := out[k].now.Sub(out[k].r); out[k].now.Sub(base) > 4*time.Second {
			lo, hi = min(lo, d), max(hi, d)
		}
	}
	if hi-lo < 100*time.Millisecond {
		t.Errorf("delay went from %v to %v: the test did not move the target enough", hi, lo)
	}
	if d := ip.Delay(); d > interval+21*time.Millisecond {
		t.Errorf("Delay %v at the end of a steady stream, want about %v", d, interval+20*time.Millisecond)
	}

	// Server time goes back 5 ms (a clock correction): the same time is
	// rendered until it passes where it was.
	now := out[len(out)-1].now
	v, _ := ip.At(now)
	r := ip.Rendered()
	if want := now.Add(-ip.Delay()); !r.Equal(want) {
		t.Fatalf("Rendered() = %v, want server time − Delay() = %v", r, want)
	}
	for _, back := range []time.Duration{-5 * time.Millisecond, -time.Millisecond, 0} {
		if w, _ := ip.At(now.Add(back)); !ip.Rendered().Equal(r) || w != v {
			t.Fatalf("server time %v back: rendered %v, was %v", back, ip.Rendered(), r)
		}
	}
	ip.At(now.Add(time.Millisecond))
	if dr := ip.Rendered().Sub(r); dr < 900*time.Microsecond || dr > 1100*time.Microsecond {
		t.Errorf("1 ms after the last frame, rendered time advanced %v", dr)
	}
}

func TestInterpolatorLateAndDuplicate(t *testing.T) {
	ip := newVecInterpolator(t, InterpolatorConfig[vec]{MinDelay: 50 * time.Millisecond, MaxDelay: 50 * time.Millisecond})
	if _, ok := ip.At(base); ok {
		t.Fatal("At before any snapshot returned ok")
	}
	if r := ip.Rendered(); !r.IsZero() {
		t.Fatalf("Rendered() = %v before At rendered anything, want the zero time", r)
	}
	add := func(i int, now time.Duration, want bool) {
		t.Helper()
		if got := ip.Add(stamp(i), base.Add(now), line(stamp(i))); got != want {
			t.Fatalf("Add(snapshot %d at %v) = %v, want %v", i, now, got, want)
		}
	}
	add(0, 10*time.Millisecond, true)
	if v, ok := ip.At(base.Add(20 * time.Millisecond)); !ok || v != line(base) {
		t.Fatalf("At with one snapshot = %v, %v, want it", v, ok)
	}
	add(0, 20*time.Millisecond, false) // the same again
	add(3, 110*time.Millisecond, true)
	add(1, 111*time.Millisecond, true) // out of order, in time
	ip.At(base.Add(120 * time.Millisecond))
	if want := 70 * time.Millisecond; ip.rendered != want {
		t.Fatalf("rendered %v, want %v", ip.rendered, want)
	}
	add(2, 121*time.Millisecond, false) // stamped 66.7 ms, before the 70 ms rendered
	add(3, 122*time.Millisecond, false) // the same again
	add(4, 140*time.Millisecond, true)
	st := ip.Stats()
	if st.Added != 4 || st.Late != 1 || st.Duplicate != 2 || st.Overflow != 0 {
		t.Errorf("stats %+v: want 4 added, 1 late, 2 duplicates", st)
	}
	// A late snapshot still counts in the lateness: late snapshots are
	// what the delay is for. The duplicates do not. A sample counts up to
	// MaxDelay.
	want := 10 * time.Millisecond
	for _, a := range []struct {
		i   int
		now time.Duration
	}{{3, 110 * time.Millisecond}, {1, 111 * time.Millisecond}, {2, 121 * time.Millisecond}, {4, 140 * time.Millisecond}} {
		want += (min(base.Add(a.now).Sub(stamp(a.i)), 50*time.Millisecond) - want) / 8
	}
	if d := st.Lateness - want; d < -10 || d > 10 {
		t.Errorf("Lateness %v, want %v", st.Lateness, want)
	}
}

func TestInterpolatorOverflow(t *testing.T) {
	// 200 ms behind at 30 Hz is 6 intervals: 4 snapshots are too few.
	for _, tc := range []struct {
		size     int
		overflow bool
	}{{4, true}, {9, false}} {
		ip := newVecInterpolator(t, InterpolatorConfig[vec]{MinDelay: 200 * time.Millisecond, Size: tc.size})
		out := play(t, ip, stream(100, constant(10*time.Millisecond)), line, 3*time.Second)
		st := ip.Stats()
		if (st.Overflow > 0) != tc.overflow {
			t.Errorf("size %d: Overflow %d", tc.size, st.Overflow)
		}
		if !tc.overflow {
			for _, o := range out[len(out)/2:] {
				if o.extra || o.v.dist(line(o.r)) > 1e-9 {
					t.Fatalf("size %d: at %v: %v, want %v", tc.size, o.r.Sub(base), o.v, line(o.r))
				}
			}
		}
	}
	// Older than a full buffer, and not yet rendered: pushed out at once.
	ip := newVecInterpolator(t, InterpolatorConfig[vec]{Size: 2})
	ip.Add(stamp(1), stamp(1), vec{})
	ip.Add(stamp(2), stamp(2), vec{})
	if ip.Add(stamp(0), stamp(2), vec{}) || ip.Stats().Overflow != 1 {
		t.Errorf("a snapshot older than a full buffer was kept: %+v", ip.Stats())
	}
}

func TestInterpolatorConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg  InterpolatorConfig[vec]
		want string
	}{
		{InterpolatorConfig[vec]{}, "Lerp is required"},
		{InterpolatorConfig[vec]{Lerp: lerpVec, MinDelay: -1}, "must not be negative"},
		{InterpolatorConfig[vec]{Lerp: lerpVec, MaxDelay: -1}, "must not be negative"},
		{InterpolatorConfig[vec]{Lerp: lerpVec, MinDelay: 2 * time.Second}, "MinDelay (2s) is above MaxDelay (1s"},
		{InterpolatorConfig[vec]{Lerp: lerpVec, MinDelay: 2, MaxDelay: 1}, "is above"},
		{InterpolatorConfig[vec]{Lerp: lerpVec, Size: 1}, "at least 2"},
		{InterpolatorConfig[vec]{Lerp: lerpVec, Size: -3}, "at least 2"},
	} {
		ip, err := NewInterpolator(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "game: ") {
			t.Errorf("NewInterpolator(%+v) = %v, %v; want an error saying %q", tc.cfg, ip, err, tc.want)
		}
	}
	ip, err := NewInterpolator(InterpolatorConfig[vec]{Lerp: lerpVec})
	if err != nil {
		t.Fatal(err)
	}
	if c := ip.cfg; c.MinDelay != 0 || c.MaxDelay != time.Second || c.MaxExtrapolation != 100*time.Millisecond || c.Size != 32 {
		t.Errorf("defaults %+v", c)
	}
	if ip.Delay() != 0 {
		t.Errorf("Delay %v before any snapshot", ip.Delay())
	}
	if _, err := NewInterpolator(InterpolatorConfig[vec]{Lerp: lerpVec, MinDelay: time.Second, MaxDelay: time.Second, Size: 2}); err != nil {
		t.Errorf("a fixed delay of 1 s: %v", err)
	}
}

// steadyState is an Interpolator with a full buffer, and the arguments
// of the next Add and At.
func steadyState(tb testing.TB) (ip *Interpolator[vec], i int, frameAt time.Time) {
	ip = newVecInterpolator(tb, InterpolatorConfig[vec]{})
	for i = 0; i < 100; i++ {
		ip.Add(stamp(i), stamp(i).Add(20*time.Millisecond), line(stamp(i)))
		ip.At(stamp(i).Add(20 * time.Millisecond))
	}
	return ip, i, stamp(i)
}

func TestInterpolatorAllocs(t *testing.T) {
	ip, i, _ := steadyState(t)
	allocs := testing.AllocsPerRun(1000, func() {
		at := stamp(i)
		ip.Add(at, at.Add(20*time.Millisecond), line(at))
		ip.At(at.Add(20 * time.Millisecond))
		ip.At(at.Add(20*time.Millisecond + frame))
		i++
	})
	if allocs != 0 {
		t.Errorf("%v allocations per Add and two At", allocs)
	}
}

// BenchmarkInterpolator is one snapshot and two frames (30 Hz snapshots,
// 60 Hz frames) with a full buffer.
func BenchmarkInterpolator(b *testing.B) {
	ip, i, _ := steadyState(b)
	b.ReportAllocs()
	for b.Loop() {
		at := stamp(i)
		ip.Add(at, at.Add(20*time.Millisecond), line(at))
		ip.At(at.Add(20 * time.Millisecond))
		ip.At(at.Add(20*time.Millisecond + frame))
		i++
	}
}

// TestInterpolatorAbsurdTimes: stamps and server times off by centuries
// (a zero time.Time, a clock not yet synchronised) neither panic nor
// overflow the delay out of its bounds, and the estimates recover.
func TestInterpolatorAbsurdTimes(t *testing.T) {
	ip := newVecInterpolator(t, InterpolatorConfig[vec]{})
	far := time.Date(2900, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, a := range []struct{ at, now time.Time }{
		{base, time.Time{}}, {time.Time{}, base}, {far, base}, {base.Add(interval), far}, {time.Time{}, far},
	} {
		ip.Add(a.at, a.now, vec{})
		for _, now := range []time.Time{a.now, time.Time{}, far, base} {
			ip.At(now)
			if d := ip.Stats().Target; d < 0 || d > time.Second {
				t.Fatalf("after Add(%v, %v): target %v, out of [0, 1s]", a.at, a.now, d)
			}
		}
	}
	// A first snapshot that came at the zero time wears off in a few
	// seconds.
	ip = newVecInterpolator(t, InterpolatorConfig[vec]{})
	ip.Add(base, time.Time{}, vec{})
	out := play(t, ip, stream(300, constant(20*time.Millisecond))[1:], line, 3*time.Second)
	if st, end := ip.Stats(), out[len(out)-1]; st.Target > interval+21*time.Millisecond || end.extra {
		t.Errorf("3 s after a first snapshot that came at the zero time: %+v, last frame %+v", st, end)
	}
}

// TestInterpolatorStart: the first snapshot is shown alone until a second
// comes; rendered time then starts from it, not before it, even if the
// target delay would put it earlier, and what is older is late.
func TestInterpolatorStart(t *testing.T) {
	ip := newVecInterpolator(t, InterpolatorConfig[vec]{})
	at := func() time.Time { return ip.origin.Add(ip.rendered) }
	ip.Add(stamp(1), stamp(1).Add(20*time.Millisecond), line(stamp(1)))
	for _, now := range []time.Time{stamp(1).Add(20 * time.Millisecond), stamp(1).Add(50 * time.Millisecond)} {
		if v, ok := ip.At(now); !ok || v != line(stamp(1)) || !at().Equal(stamp(1)) {
			t.Fatalf("At(%v) with one snapshot = %v, %v, rendering %v; want the snapshot at %v", now.Sub(base), v, ok, at().Sub(base), interval)
		}
		if d := ip.Delay(); d != now.Sub(stamp(1)) {
			t.Errorf("Delay %v showing the first snapshot at %v", d, now.Sub(base))
		}
	}
	if ip.Add(stamp(0), stamp(1).Add(55*time.Millisecond), vec{}) || ip.Stats().Late != 1 {
		t.Errorf("a snapshot older than the one shown was kept: %+v", ip.Stats())
	}
	// Later than the first: the target is above the 40 ms after it that
	// rendering starts at.
	ip.Add(stamp(2), stamp(2).Add(40*time.Millisecond), line(stamp(2)))
	now := stamp(2).Add(40 * time.Millisecond)
	v, _ := ip.At(now)
	if target := ip.Stats().Target; now.Add(-target).After(stamp(1)) {
		t.Fatalf("target %v: the test does not make rendering start before the first snapshot", target)
	}
	if v != line(stamp(1)) || !at().Equal(stamp(1)) || ip.Delay() != now.Sub(stamp(1)) {
		t.Errorf("rendering started at %v with %v (delay %v), want the first snapshot's %v", at().Sub(base), v, ip.Delay(), interval)
	}
	ip.At(now.Add(frame))
	if dr := at().Sub(stamp(1)); dr < frame*9/10 || dr >= frame {
		t.Errorf("a frame later rendered time advanced %v, want at least 0.9× and less than %v: the delay is growing to its target", dr, frame)
	}

	// Two snapshots before the first frame: rendering starts at the
	// target delay, before the oldest, which is held until rendered time
	// reaches it.
	ip = newVecInterpolator(t, InterpolatorConfig[vec]{})
	ip.Add(stamp(0), stamp(0).Add(40*time.Millisecond), line(stamp(0)))
	ip.Add(stamp(1), stamp(1).Add(20*time.Millisecond), line(stamp(1)))
	now = stamp(1).Add(20 * time.Millisecond)
	held := 0
	for ; now.Add(-ip.Delay()).Before(base); now = now.Add(time.Millisecond) {
		if v, _ := ip.At(now); v != line(base) {
			t.Fatalf("at %v rendering %v: %v, want the oldest snapshot, %v", now.Sub(base), at().Sub(base), v, line(base))
		}
		held++
	}
	if st := ip.Stats(); held < 10 || st.Extrapolated != 0 {
		t.Errorf("held the oldest for %d frames; %+v", held, st)
	}
}

// BenchmarkInterpolatorAt is one frame between snapshots.
func BenchmarkInterpolatorAt(b *testing.B) {
	ip, _, now := steadyState(b)
	b.ReportAllocs()
	for b.Loop() {
		ip.At(now) // rendered time stands still after the first
	}
}
