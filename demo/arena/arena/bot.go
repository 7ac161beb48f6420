package arena

import (
	"math"
	"math/rand/v2"
)

// Bot is the arena's simple AI: "it" chases the nearest player, the others
// flee from "it" when it comes near and wander otherwise, keeping off the
// walls. The server's bots (-bots) and the headless clients use it.
type Bot struct {
	heading float64 // the wandering direction, radians
	turnIn  int     // ticks until the heading changes
}

const (
	fleeRange = 500.0 // a player flees from "it" closer than this
	wallRange = 160.0 // and keeps this far from the walls when it can
)

// Seen is a player as a Bot sees it.
type Seen struct {
	ID    uint32
	State State
}

// Decide returns the keys a bot holds this tick: the player me, in state
// s, among others (every player it sees, itself possibly included).
func (b *Bot) Decide(me uint32, s State, others []Seen, rng *rand.Rand) Keys {
	var vx, vy float64
	if b.turnIn <= 0 {
		b.heading += (rng.Float64() - 0.5) * math.Pi
		b.turnIn = 15 + rng.IntN(45)
	}
	b.turnIn--
	wx, wy := math.Cos(b.heading), math.Sin(b.heading)

	// The nearest player for "it", "it" for the others.
	var tx, ty float64
	best := math.Inf(1)
	for _, p := range others {
		id, o := p.ID, p.State
		if id == me || (!s.It && !o.It) {
			continue
		}
		dx, dy := o.X-s.X, o.Y-s.Y
		if d := dx*dx + dy*dy; d < best {
			best, tx, ty = d, dx, dy
		}
	}
	d := math.Sqrt(best)
	switch {
	case s.It && !math.IsInf(best, 1):
		vx, vy = tx/d+0.3*wx, ty/d+0.3*wy
	case !s.It && d < fleeRange:
		vx, vy = -tx/d+0.4*wx, -ty/d+0.4*wy
	default:
		vx, vy = wx, wy
	}
	// Walls push back, harder the closer they are; a wanderer turns.
	px := push(s.X) - push(Width-s.X)
	py := push(s.Y) - push(Height-s.Y)
	if px != 0 || py != 0 {
		vx, vy = vx+px, vy+py
		if !s.It && d >= fleeRange {
			b.heading = math.Atan2(vy, vx)
		}
	}
	return keysFor(vx, vy)
}

// push is how hard a wall gap away pushes a bot back.
func push(gap float64) float64 { return max(0, 1-gap/wallRange) * 1.5 }

// keysFor turns a direction into the nearest of the eight the keys give.
func keysFor(vx, vy float64) Keys {
	n := math.Hypot(vx, vy)
	if n == 0 {
		return 0
	}
	var k Keys
	const cut = 0.38 // sin(22.5°): between straight and diagonal
	switch {
	case vx/n > cut:
		k |= Right
	case vx/n < -cut:
		k |= Left
	}
	switch {
	case vy/n > cut:
		k |= Down
	case vy/n < -cut:
		k |= Up
	}
	return k
}
