package game

import "time"

// InterpolatorConfig configures NewInterpolator. Zero fields take their
// documented defaults.
type InterpolatorConfig[S any] struct {
	// Lerp returns the state a fraction f of the way from a to b: the
	// game's own interpolation of its own state type (positions lerped,
	// angles the short way round, flags taken from a or b). f is in [0, 1]
	// between two snapshots, and above 1 when At extrapolates past the
	// newest one (at most 1 + MaxExtrapolation / the interval between the
	// last two). The result may reuse memory of the game's; At returns it
	// as it is. Required.
	Lerp func(a, b S, f float64) S
	// MinDelay and MaxDelay bound the render delay, which adapts to the
	// snapshots' interval and jitter. Defaults: 0 and 1 s.
	MinDelay, MaxDelay time.Duration
	// MaxExtrapolation is how far past the newest snapshot At extrapolates
	// when snapshots stop coming; after that it holds the last
	// extrapolated state. Default 100 ms; negative: never extrapolate
	// (hold the newest snapshot).
	MaxExtrapolation time.Duration
	// Size is how many snapshots are kept. Default 32.
	Size int
}

// InterpolatorStats count what happened to the snapshots added.
type InterpolatorStats struct {
	Added     uint64 // kept
	Late      uint64 // dropped: older than the time already rendered
	Duplicate uint64 // dropped: a snapshot with that time was already there
	// Extrapolated counts the calls of At that rendered past the newest
	// snapshot.
	Extrapolated uint64
	// Interval and Jitter are the estimates the delay is made of: the
	// time between snapshots, and how much their arrival varies.
	Interval, Jitter time.Duration
}

// Interpolator renders a stream of snapshots stamped with server time a
// little in the past (server time − Delay), between the two snapshots
// around that moment, so that remote entities move smoothly whatever the
// network does to the stream.
//
// The delay adapts: it is the interval between snapshots plus a margin
// for their measured jitter, so that in the common case a later snapshot
// has arrived when it is needed; it changes gradually, so that rendered
// time never jumps or runs backwards.
//
// Snapshots may arrive out of order or not at all. One older than the
// time already rendered is dropped (Stats.Late), as is a second one with
// the same time; others are kept in time order. A missing snapshot is
// bridged by interpolating between its neighbours. When snapshots stop,
// At extrapolates from the last two for MaxExtrapolation, then holds.
type Interpolator[S any] struct {
	cfg InterpolatorConfig[S]
}

// NewInterpolator returns an empty Interpolator, or an error if cfg has no
// Lerp or a bound is inconsistent.
func NewInterpolator[S any](cfg InterpolatorConfig[S]) (*Interpolator[S], error) {
	panic("unimplemented")
}

// Add records snapshot s, stamped at server time at, which arrived when
// the server time was now (Conn.ServerTime() in its handler). It returns
// false if s was dropped as late or a duplicate.
func (ip *Interpolator[S]) Add(at, now time.Time, s S) bool {
	panic("unimplemented")
}

// At returns the state at server time now − Delay(), and false until the
// first snapshot arrived. Call it once a frame, with the server time
// (Conn.ServerTime()).
func (ip *Interpolator[S]) At(now time.Time) (S, bool) {
	panic("unimplemented")
}

// Delay is the current render delay behind server time.
func (ip *Interpolator[S]) Delay() time.Duration {
	panic("unimplemented")
}

// Stats returns the counters and estimates.
func (ip *Interpolator[S]) Stats() InterpolatorStats {
	panic("unimplemented")
}
