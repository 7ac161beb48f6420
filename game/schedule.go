package game

import (
	"context"
	"fmt"
	"time"
)

// MaxCatchUp is how far behind its schedule a loop may fall and still run
// every tick, back to back, to catch up. Further behind (a debugger stop,
// a machine that froze), it skips to the newest due tick and reports the
// ticks it skipped: a simulation stepped by ticks keeps its rate, and a
// long stall does not come back as a burst of ticks.
const MaxCatchUp = 250 * time.Millisecond

// Tick is one tick of a Schedule.
type Tick struct {
	// N counts the schedule's intervals since it started: the tick due at
	// start + N×interval. It grows by one from tick to tick, by more after
	// skipped ticks.
	N uint64
	// At is when the tick was due: the schedule's start + N×interval.
	// Ticks are scheduled from the start, never from the previous tick, so
	// the rate does not drift however late single ticks are.
	At time.Time
	// Late is how long after At the tick started. A tick that starts an
	// interval or more late shows that the ticks before it overran.
	Late time.Duration
	// Skipped is the number of ticks skipped just before this one, because
	// the loop fell more than MaxCatchUp behind.
	Skipped uint64
}

// Schedule yields ticks at a fixed rate from a start time. It is for a
// loop that someone else drives (an Ebiten Game.Update, called 60 times a
// second): ask it for the ticks that are due each frame. A loop of one's
// own is simpler with Run.
type Schedule struct {
	start    time.Time
	interval time.Duration
	next     uint64 // the number of the next tick
}

// NewSchedule returns a schedule whose tick 0 is due at start and one
// more every interval. The interval must be positive.
func NewSchedule(start time.Time, interval time.Duration) (*Schedule, error) {
	if interval <= 0 {
		return nil, fmt.Errorf("game: tick interval %v: it must be positive (time.Second/30 for 30 Hz)", interval)
	}
	return &Schedule{start: start, interval: interval}, nil
}

// Interval is the time between two ticks.
func (s *Schedule) Interval() time.Duration { return s.interval }

// Next is when the next tick is due.
func (s *Schedule) Next() time.Time { return s.at(s.next) }

func (s *Schedule) at(n uint64) time.Time {
	return s.start.Add(time.Duration(n) * s.interval)
}

// Due returns the next tick and moves past it if it is due at now, and
// false if it is not due yet. Call it in a loop until it returns false:
//
//	for t, ok := s.Due(time.Now()); ok; t, ok = s.Due(time.Now()) {
//		step(t)
//	}
func (s *Schedule) Due(now time.Time) (Tick, bool) {
	at := s.at(s.next)
	late := now.Sub(at)
	if late < 0 {
		return Tick{}, false
	}
	var skipped uint64
	if late > MaxCatchUp {
		newest := uint64(now.Sub(s.start) / s.interval) // due at or before now
		skipped = newest - s.next
		s.next = newest
		at = s.at(newest)
		late = now.Sub(at)
	}
	t := Tick{N: s.next, At: at, Late: late, Skipped: skipped}
	s.next++
	return t, true
}

// Updater is what Run polls between ticks: a *net.Server or a *net.Client.
type Updater interface {
	Update(timeout time.Duration) error
}

// nower is the optional ability of an Updater to tell its own time: a
// *net.Server tells the server time its clients estimate.
type nower interface {
	Now() time.Time
}

// Run is a fixed-tick game loop: it calls u.Update until each tick is
// due, so that handlers run as messages arrive, and then tick, every
// interval from now on (see Schedule). When u is a *net.Server, the ticks
// are on its clock (Server.Now), the one its clients' Conn.ServerTime
// estimates: Tick.At is the server time to stamp a snapshot with. Otherwise
// they are on time.Now. It returns nil when ctx is done
// (noticed within a tick), the error of Update (net.ErrClosed once the
// server or client is closed), or the first error tick returns. Run, Update
// and tick all run on the calling goroutine.
func Run(ctx context.Context, u Updater, interval time.Duration, tick func(Tick) error) error {
	clock := time.Now
	if c, ok := u.(nower); ok {
		clock = c.Now
	}
	s, err := NewSchedule(clock(), interval)
	if err != nil {
		return err
	}
	for {
		if ctx.Err() != nil {
			return nil
		}
		now := clock()
		t, ok := s.Due(now)
		if !ok {
			if err := u.Update(s.Next().Sub(now)); err != nil {
				return err
			}
			continue
		}
		if err := u.Update(0); err != nil { // what arrived since the last look, before the tick sees the world
			return err
		}
		if err := tick(t); err != nil {
			return err
		}
	}
}
