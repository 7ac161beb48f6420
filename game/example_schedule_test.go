package game_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gonetic/gonetic/game"
	gnet "github.com/gonetic/gonetic/net"
)

// A server's loop at 30 Hz: Run polls the server until each tick is due,
// so handlers run as messages arrive, then steps the world.
func ExampleRun() {
	srv, err := gnet.Listen(gnet.ServerConfig{Config: gnet.Config{Factory: gnet.NewFactory()}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	err = game.Run(ctx, srv, time.Second/30, func(t game.Tick) error {
		// Step the world here, then send snapshots stamped t.At.
		fmt.Println("tick", t.N)
		if t.N == 2 {
			stop() // a signal handler or a shutdown would do this
		}
		return nil
	})
	fmt.Println("stopped:", err)
	// Output:
	// tick 0
	// tick 1
	// tick 2
	// stopped: <nil>
}

// Game stands for an Ebiten game: Ebiten calls its Update 60 times a
// second, and it ticks its input at 30 Hz from there. (An Ebiten game's
// Update takes no argument; now is one here so that the example runs
// deterministically.)
type Game struct {
	client *gnet.Client
	ticks  *game.Schedule
}

// Update is one frame: deliver what arrived, then take the ticks that are
// due. Neither waits: Update(0) never blocks, and Due only looks at the
// clock.
func (g *Game) Update(now time.Time) error {
	if err := g.client.Update(0); err != nil {
		return err
	}
	for t, ok := g.ticks.Due(now); ok; t, ok = g.ticks.Due(now) {
		fmt.Printf("tick %d (frame at %v)\n", t.N, now.Sub(start))
		// Sample the input, predict, send it: see Predictor.
	}
	return nil
}

var start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// A frame-driven loop (an Ebiten Game.Update at 60 Hz) ticking at 30 Hz:
// the Schedule hands out the ticks that came due since the last frame.
func ExampleSchedule() {
	client, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: gnet.NewFactory()}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	ticks, _ := game.NewSchedule(start, time.Second/30)
	g := &Game{client: client, ticks: ticks}
	for frame := range 5 { // Ebiten would call Update every 1/60 s
		_ = g.Update(start.Add(time.Duration(frame) * time.Second / 60))
	}
	// Output:
	// tick 0 (frame at 0s)
	// tick 1 (frame at 33.333333ms)
	// tick 2 (frame at 66.666666ms)
}
