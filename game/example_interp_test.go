package game_test

import (
	"fmt"
	"time"

	"github.com/gonetic/gonetic/game"
)

// Pos is a remote entity's state in a snapshot.
type Pos struct{ X, Y float64 }

// Lerp is the game's interpolation of its state: a fraction f of the way
// from a to b (past b when f > 1).
func (a Pos) Lerp(b Pos, f float64) Pos {
	return Pos{a.X + (b.X-a.X)*f, a.Y + (b.Y-a.Y)*f}
}

// A server sends a snapshot every 100 ms of an entity moving one unit along
// x per snapshot; each arrives 20 to 50 ms after its stamp. The client
// renders a frame every 40 ms (printed every other frame): what it shows
// moves smoothly, a little in the past. It shows the first snapshot alone
// until the second comes; then rendered time runs, a little slower than
// server time while the delay grows to its target: the interval, the mean
// lateness and a margin for its jitter.
//
// In a game, a handler adds each snapshot as it comes, with
// Add(snap.At, conn.ServerTime(), snap.Pos), and each frame renders
// At(conn.ServerTime()).
func ExampleInterpolator() {
	ip, err := game.NewInterpolator(game.InterpolatorConfig[Pos]{Lerp: Pos.Lerp})
	if err != nil {
		panic(err)
	}
	start := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC) // server time
	late := []time.Duration{20, 45, 25, 50, 20, 30, 45, 20, 35, 25, 40}
	next := 0 // the next snapshot to arrive
	for frame := range 25 {
		now := start.Add(time.Duration(frame) * 40 * time.Millisecond)
		for next < len(late) {
			at := start.Add(time.Duration(next) * 100 * time.Millisecond)
			arrived := at.Add(late[next] * time.Millisecond)
			if arrived.After(now) {
				break
			}
			ip.Add(at, arrived, Pos{X: float64(next)})
			next++
		}
		if p, ok := ip.At(now); ok && frame%2 == 0 {
			fmt.Printf("at %d ms: x = %.2f, delay %v\n", now.Sub(start).Milliseconds(), p.X, ip.Delay().Round(time.Millisecond))
		}
	}
	st := ip.Stats()
	ms := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	fmt.Println("interval", ms(st.Interval), "lateness", ms(st.Lateness), "jitter", ms(st.Jitter), "target", ms(st.Target))
	// Output:
	// at 80 ms: x = 0.00, delay 80ms
	// at 160 ms: x = 0.12, delay 148ms
	// at 240 ms: x = 0.96, delay 144ms
	// at 320 ms: x = 1.76, delay 144ms
	// at 400 ms: x = 2.48, delay 152ms
	// at 480 ms: x = 3.20, delay 160ms
	// at 560 ms: x = 4.00, delay 160ms
	// at 640 ms: x = 4.81, delay 159ms
	// at 720 ms: x = 5.53, delay 167ms
	// at 800 ms: x = 6.31, delay 169ms
	// at 880 ms: x = 7.13, delay 167ms
	// at 960 ms: x = 7.97, delay 163ms
	// interval 100ms lateness 28ms jitter 8ms target 160ms
}
