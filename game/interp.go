package game

import (
	"fmt"
	"slices"
	"time"
)

// Defaults of InterpolatorConfig.
const (
	defaultMaxDelay         = time.Second
	defaultMaxExtrapolation = 100 * time.Millisecond
	defaultInterpolatorSize = 32
)

// jitterMargin is k in the target delay Interval + Lateness + k×Jitter.
// Jitter is a mean deviation: about 0.8 σ for normal noise, so 4 covers
// about 3 σ, and all of a uniform spread (whose mean deviation is a
// quarter of its width). Swept over 10 seeds of uniform, exponential and
// normal jitter of 10 to 120 ms on 20 ms of lateness (as
// TestInterpolatorJitter makes them), the worst share of frames that ran
// past the newest snapshot was 2.7% with k = 2, 1.2% with 3, 0.7% with 4
// and 0.4% with 5, each step adding some 10 to 15 ms of delay. 4 is also
// RFC 6298's choice.
const jitterMargin = 4

// slew is how fast the delay follows its target, as a share of the time
// that passed: rendered time runs between 0.9× and 1.1× real time while it
// converges. A tenth is hard to see in motion and still takes a 100 ms
// change of the target in one second.
const slew = 10 // 1/slew

// sane bounds the interval in the target, and MaxDelay where it bounds a
// lateness sample: far beyond any delay that makes sense, low enough that
// stamps or server times off by centuries cannot overflow the estimates.
const sane = 24 * time.Hour

// InterpolatorConfig configures NewInterpolator. Zero fields take their
// documented defaults.
type InterpolatorConfig[S any] struct {
	// Lerp returns the state a fraction f of the way from a to b: the
	// game's own interpolation of its own state type (positions lerped,
	// angles the short way round, flags taken from a or b). f is in [0, 1)
	// between two snapshots, and above 1 when At extrapolates past the
	// newest one (at most 1 + MaxExtrapolation / the interval between the
	// last two). The result may reuse memory of the game's; At returns it
	// as it is. Lerp is called only inside At. Required.
	Lerp func(a, b S, f float64) S
	// MinDelay and MaxDelay bound the render delay, which adapts to the
	// snapshots' interval and jitter. Defaults: 0 and 1 s. A game that
	// wants a fixed delay sets both to it; one whose snapshots are often
	// lost may set MinDelay to two intervals and the lateness, so that a
	// lost snapshot is bridged by interpolating across the gap rather
	// than by extrapolating.
	MinDelay, MaxDelay time.Duration
	// MaxExtrapolation is how far past the newest snapshot At extrapolates
	// when snapshots stop coming; after that it holds the last
	// extrapolated state. Default 100 ms; negative: never extrapolate
	// (hold the newest snapshot).
	MaxExtrapolation time.Duration
	// Size is how many snapshots are kept, at least 2. Default 32. It
	// should hold MaxDelay's worth of snapshots and a few more: fewer, and
	// a long delay drops snapshots still to be rendered (Stats.Overflow).
	Size int
}

// InterpolatorStats count what happened to the snapshots added and tell
// what the delay is made of.
type InterpolatorStats struct {
	Added     uint64 // kept
	Late      uint64 // dropped: at or before the time already rendered
	Duplicate uint64 // dropped: a snapshot with that time was already there
	// Overflow counts snapshots pushed out of the buffer, Size newer ones
	// being kept, before rendered time had passed them: Size is too small
	// for the delay.
	Overflow uint64
	// Rendered counts the calls of At that returned a state, and
	// Extrapolated those of them that rendered past the newest snapshot
	// (extrapolating or holding): Extrapolated/Rendered is the share of
	// frames whose snapshot had not arrived in time.
	Rendered, Extrapolated uint64
	// Interval, Lateness and Jitter are the estimates the delay is made
	// of: the time between snapshots (the median over the snapshots
	// kept), how long after its stamp a snapshot arrives (smoothed; it
	// includes the error of the client's estimate of server time), and
	// how much that varies (smoothed mean deviation).
	Interval, Lateness, Jitter time.Duration
	// Target is the delay the Interpolator moves to: Interval + Lateness
	// + 4×Jitter, within [MinDelay, MaxDelay].
	Target time.Duration
}

// snapshot is one state with its stamp, as an offset from the
// Interpolator's origin.
type snapshot[S any] struct {
	t time.Duration
	s S
}

// Interpolator renders a stream of snapshots stamped with server time a
// little in the past (server time − Delay), between the two snapshots
// around that moment, so that remote entities move smoothly whatever the
// network does to the stream.
//
// The delay adapts: it is the interval between snapshots plus how late
// they arrive plus a margin of four times the jitter of that lateness
// (Stats.Target), so that in the common case a later snapshot has arrived
// when it is needed. It follows its target gradually, rendered time
// running at 0.9× to 1.1× server time meanwhile, so that rendered time
// never jumps or runs backwards; if the server time given to At goes
// backwards (a correction of the clock estimate), rendered time stands
// still until it passes where it was.
//
// Snapshots may arrive out of order or not at all. One at or before the
// time already rendered is dropped (Stats.Late), as is a second one with
// the same time (Stats.Duplicate); others are kept in time order. A
// missing snapshot is bridged by interpolating between its neighbours.
// When snapshots stop, At extrapolates from the last two for
// MaxExtrapolation, then holds.
//
// An Interpolator is for one goroutine, the game loop's. Add and At
// allocate nothing (beyond what Lerp does).
type Interpolator[S any] struct {
	cfg InterpolatorConfig[S]

	// Times are offsets from origin, the first stamp without its monotonic
	// reading: stamps come off the wire and have none, and a time.Time
	// that had one would be compared by it with others that have it too.
	origin    time.Time
	hasOrigin bool

	buf  []snapshot[S] // a ring in time order, the oldest at buf[head]
	head int
	n    int
	gaps []time.Duration // scratch for the median interval

	// Lateness is smoothed as RFC 6298 smooths round trips (gains 1/8 and
	// 1/4): it is the same problem, a timer that should rarely fire early.
	lateness, jitter time.Duration
	samples          uint64
	lateCap          time.Duration // the bound of a lateness sample
	interval         time.Duration
	target           time.Duration

	shown    bool          // At returned a state: rendered and delay are set
	started  bool          // rendered time runs: last is set too
	rendered time.Duration // the time last rendered
	delay    time.Duration // the server time last given to At − rendered
	last     time.Duration // the latest server time At was given

	stats InterpolatorStats
}

// NewInterpolator returns an empty Interpolator, or an error if cfg has no
// Lerp or a bound is inconsistent.
func NewInterpolator[S any](cfg InterpolatorConfig[S]) (*Interpolator[S], error) {
	if cfg.Lerp == nil {
		return nil, fmt.Errorf("game: InterpolatorConfig.Lerp is required: the interpolation of your state type, a fraction f of the way from a to b")
	}
	if cfg.MinDelay < 0 || cfg.MaxDelay < 0 {
		return nil, fmt.Errorf("game: InterpolatorConfig.MinDelay (%v) and MaxDelay (%v) must not be negative", cfg.MinDelay, cfg.MaxDelay)
	}
	if cfg.MaxDelay == 0 {
		cfg.MaxDelay = defaultMaxDelay
	}
	if cfg.MinDelay > cfg.MaxDelay {
		return nil, fmt.Errorf("game: InterpolatorConfig.MinDelay (%v) is above MaxDelay (%v; 0 means %v)", cfg.MinDelay, cfg.MaxDelay, defaultMaxDelay)
	}
	if cfg.MaxExtrapolation == 0 {
		cfg.MaxExtrapolation = defaultMaxExtrapolation
	}
	switch {
	case cfg.Size == 0:
		cfg.Size = defaultInterpolatorSize
	case cfg.Size < 2:
		return nil, fmt.Errorf("game: InterpolatorConfig.Size is %d: it takes at least 2 snapshots to interpolate (0 means %d)", cfg.Size, defaultInterpolatorSize)
	}
	return &Interpolator[S]{
		cfg:     cfg,
		lateCap: min(cfg.MaxDelay, sane),
		buf:     make([]snapshot[S], cfg.Size),
		gaps:    make([]time.Duration, cfg.Size-1),
	}, nil
}

// at is the i-th snapshot kept, from the oldest.
func (ip *Interpolator[S]) at(i int) *snapshot[S] {
	return &ip.buf[(ip.head+i)%len(ip.buf)]
}

// Add records snapshot s, stamped at server time at, which arrived when
// the server time was now (Conn.ServerTime() in its handler). It returns
// false if s was dropped as late or a duplicate, or at once pushed out of
// a full buffer of newer snapshots.
func (ip *Interpolator[S]) Add(at, now time.Time, s S) bool {
	if !ip.hasOrigin {
		ip.origin, ip.hasOrigin = at.Round(0), true
	}
	t := at.Sub(ip.origin)
	i := ip.n // where s goes: after the snapshots older than it
	for i > 0 && ip.at(i-1).t >= t {
		if ip.at(i-1).t == t {
			ip.stats.Duplicate++ // a copy says nothing new about the network either
			return false
		}
		i--
	}
	ip.sample(now.Sub(at))
	if ip.shown && t <= ip.rendered {
		// Too late to be rendered. Still counted in Lateness above: late
		// snapshots are what a longer delay is for.
		ip.stats.Late++
		ip.retarget()
		return false
	}
	if ip.n == len(ip.buf) {
		if i == 0 { // older than all of a full buffer
			ip.stats.Overflow++
			ip.retarget()
			return false
		}
		// Rendering needs the newest snapshot at or before rendered time
		// and those after it; the oldest kept is not needed any more if
		// the next one is already at or before rendered time.
		if ip.shown && ip.at(1).t > ip.rendered {
			ip.stats.Overflow++
		}
		ip.head = (ip.head + 1) % len(ip.buf)
		ip.n--
		i--
	}
	for j := ip.n; j > i; j-- { // shift the newer ones up: usually none
		*ip.at(j) = *ip.at(j - 1)
	}
	*ip.at(i) = snapshot[S]{t: t, s: s}
	ip.n++
	ip.stats.Added++
	ip.measureInterval()
	ip.retarget()
	return true
}

// sample takes one lateness into the smoothed lateness and its deviation.
func (ip *Interpolator[S]) sample(l time.Duration) {
	// A lateness beyond MaxDelay says no more than MaxDelay does: the
	// target is at MaxDelay either way (or at MinDelay, for a clock ahead
	// by more). Unbounded, one sample of a clock off by years (a zero
	// time.Time) would take minutes to wear off, or overflow.
	l = min(max(l, -ip.lateCap), ip.lateCap)
	ip.samples++
	if ip.samples == 1 {
		// Not RFC 6298's start (a deviation of half the first sample): a
		// lateness includes the offset of the client's estimate of
		// server time, so its size says nothing of its variation. And
		// rendering starts from the first snapshot shown, below the
		// target, so an early target too high is no safer: it only
		// makes the delay overshoot for seconds.
		ip.lateness, ip.jitter = l, 0
		return
	}
	ip.jitter += (absDuration(ip.lateness-l) - ip.jitter) / 4
	ip.lateness += (l - ip.lateness) / 8
}

// measureInterval takes the median gap between the snapshots kept. A
// median, not a smoothed mean: it is the same whatever order the
// snapshots came in, and a lost snapshot (a double gap) or a pause in the
// stream (a long one) does not inflate it.
func (ip *Interpolator[S]) measureInterval() {
	if ip.n < 2 {
		return
	}
	g := ip.gaps[:ip.n-1]
	j, prev := ip.head, ip.buf[ip.head].t
	for i := range g { // walking the ring: no division per snapshot
		if j++; j == len(ip.buf) {
			j = 0
		}
		g[i], prev = ip.buf[j].t-prev, ip.buf[j].t
	}
	slices.Sort(g)
	ip.interval = g[len(g)/2]
}

func (ip *Interpolator[S]) retarget() {
	d := min(ip.interval, sane) + ip.lateness + jitterMargin*ip.jitter
	ip.target = min(max(d, ip.cfg.MinDelay), ip.cfg.MaxDelay)
}

// At returns the state at server time now − Delay(), and false until the
// first snapshot arrived. Call it once a frame, with the server time
// (Conn.ServerTime()). Until a second snapshot arrived it returns the
// first: rendered time starts running once there are two snapshots to
// interpolate between and an interval to size the delay by.
//
// The state returned is Lerp's result, or a snapshot as it was added when
// rendered time falls on its stamp or outside the snapshots kept: read
// it, do not modify it.
func (ip *Interpolator[S]) At(now time.Time) (S, bool) {
	if ip.n == 0 {
		var zero S
		return zero, false
	}
	ip.stats.Rendered++
	if ip.n < 2 && !ip.started {
		now := now.Sub(ip.origin)
		ip.rendered, ip.delay, ip.shown = ip.at(0).t, now-ip.at(0).t, true
		return ip.at(0).s, true
	}
	ip.advance(now.Sub(ip.origin))
	return ip.render(ip.rendered), true
}

// advance moves rendered time to now − delay, moving delay toward the
// target by at most a tenth of the time that passed, so that rendered time
// advances by 0.9 to 1.1 times that time.
func (ip *Interpolator[S]) advance(now time.Duration) {
	if !ip.started {
		r := now - ip.target
		if ip.shown {
			// The first snapshot was shown on its own: going on from
			// there, even if that means a delay below the target for a
			// while, rather than back to an earlier time.
			r = max(r, ip.rendered)
		}
		ip.started, ip.shown = true, true
		ip.rendered, ip.delay, ip.last = r, now-r, now
		return
	}
	dt := now - ip.last
	if dt <= 0 {
		return // server time went back: rendered time stands still
	}
	step := dt / slew
	ip.delay += min(max(ip.target-ip.delay, -step), step)
	ip.last = now
	ip.rendered = now - ip.delay
}

// render returns the state at time r.
func (ip *Interpolator[S]) render(r time.Duration) S {
	newest := ip.at(ip.n - 1)
	if r >= newest.t {
		if r == newest.t {
			return newest.s
		}
		ip.stats.Extrapolated++
		if ip.n < 2 || ip.cfg.MaxExtrapolation < 0 {
			return newest.s
		}
		prev := ip.at(ip.n - 2)
		e := min(r-newest.t, ip.cfg.MaxExtrapolation)
		return ip.cfg.Lerp(prev.s, newest.s, 1+float64(e)/float64(newest.t-prev.t))
	}
	// Rendered time is usually an interval or two behind the newest
	// snapshot: look from the newest end.
	i := ip.n - 2
	for i >= 0 && ip.at(i).t > r {
		i--
	}
	if i < 0 { // before the oldest kept (it was pushed out, or rendering just started)
		return ip.at(0).s
	}
	a, b := ip.at(i), ip.at(i+1)
	if r == a.t {
		return a.s
	}
	return ip.cfg.Lerp(a.s, b.s, float64(r-a.t)/float64(b.t-a.t))
}

// Delay is the current render delay behind the latest server time given to
// At; before At returned a state, the delay it would start with.
func (ip *Interpolator[S]) Delay() time.Duration {
	if ip.shown {
		return ip.delay
	}
	return ip.target
}

// Rendered is the server time of the state At last returned: what to
// compare with the server's own history of the entity. It is the zero
// time until At returned a state.
func (ip *Interpolator[S]) Rendered() time.Time {
	if !ip.shown {
		return time.Time{}
	}
	return ip.origin.Add(ip.rendered)
}

// Stats returns the counters and estimates.
func (ip *Interpolator[S]) Stats() InterpolatorStats {
	st := ip.stats
	st.Interval, st.Lateness, st.Jitter, st.Target = ip.interval, ip.lateness, ip.jitter, ip.target
	return st
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
