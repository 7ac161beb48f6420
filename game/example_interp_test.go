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
// x per snapshot; each arrives 20 ms after its stamp. The client renders a
// frame every 40 ms (printed every other frame): what it shows moves
// smoothly, a little in the past. It shows the first snapshot alone until
// the second comes; then rendered time runs, a little slower than server
// time while the delay grows to its target (the interval, the lateness and
// a margin for jitter, which shrinks as the snapshots keep coming on time).
// In a game, the snapshots come to a handler, which calls
// Add(snap.At, conn.ServerTime(), snap.Pos), and each frame calls
// At(conn.ServerTime()).
func ExampleInterpolator() {
	ip, err := game.NewInterpolator(game.InterpolatorConfig[Pos]{Lerp: Pos.Lerp})
	if err != nil {
		panic(err)
	}
	start := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC) // server time
	next := 0                                             // the next snapshot to arrive
	for frame := 0; frame < 25; frame++ {
		now := start.Add(time.Duration(frame) * 40 * time.Millisecond)
		for at := start.Add(time.Duration(next) * 100 * time.Millisecond); !at.Add(20 * time.Millisecond).After(now); {
			ip.Add(at, at.Add(20*time.Millisecond), Pos{X: float64(next), Y: 0})
			next++
			at = at.Add(100 * time.Millisecond)
		}
		if p, ok := ip.At(now); ok && frame%2 == 0 {
			fmt.Printf("at %d ms: x = %.2f, delay %v\n", now.Sub(start).Milliseconds(), p.X, ip.Delay().Round(time.Millisecond))
		}
	}
	st := ip.Stats()
	fmt.Println("interval", st.Interval, "lateness", st.Lateness, "target", st.Target.Round(time.Millisecond))
	// Output:
	// at 80 ms: x = 0.00, delay 80ms
	// at 160 ms: x = 0.36, delay 124ms
	// at 240 ms: x = 1.08, delay 132ms
	// at 320 ms: x = 1.83, delay 137ms
	// at 400 ms: x = 2.63, delay 137ms
	// at 480 ms: x = 3.47, delay 133ms
	// at 560 ms: x = 4.31, delay 129ms
	// at 640 ms: x = 5.13, delay 127ms
	// at 720 ms: x = 5.95, delay 125ms
	// at 800 ms: x = 6.75, delay 125ms
	// at 880 ms: x = 7.56, delay 124ms
	// at 960 ms: x = 8.37, delay 123ms
	// interval 100ms lateness 20ms target 123ms
}
