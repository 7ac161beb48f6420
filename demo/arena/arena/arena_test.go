package arena

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/gonetic/gonetic/demo/internal/transports"
	"github.com/gonetic/gonetic/net/nettest"
)

// The bounds the end-to-end test holds the clients to, in world units (a
// player moves Speed = 10 a tick, 300 a second). README.md states them.
const (
	// maxAfterTag: after a tag, a client predicts its player at the old
	// speed until it hears of it; the difference, ItSpeed − Speed a tick,
	// cannot add up to more than this within PredictWindow.
	maxAfterTag = (ItSpeed - Speed) * TickRate * float64(PredictWindow) / float64(time.Second)
	// maxInterpP99 and maxInterpMax bound the distance between a remote
	// player as rendered and the server's position at the same server
	// time: 3 units is 10 ms of movement (clock error, float32 positions,
	// a late snapshot now and then); the worst is two ticks' worth (a
	// snapshot that came late enough to be extrapolated over).
	maxInterpP99 = 3.0
	maxInterpMax = 2 * ItSpeed
)

// TestEndToEnd plays the arena in-process over real sockets, a server
// with bots and a headless client, and checks the client against the
// server's authoritative history: every predicted input lands exactly
// where the server's step did, but after a tag; the interpolated others
// stay within the bounds above.
func TestEndToEnd(t *testing.T) {
	for _, c := range []struct {
		name, transport string
		everyone        bool
	}{
		{"tcp", "tcp", false},
		{"tcp-everyone", "tcp", true},
		{"enet", "enet", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.transport == "enet" {
				if _, err := transports.New("enet"); err != nil {
					t.Skip(err)
				}
			}
			before := runtime.NumGoroutine()
			t.Cleanup(func() { nettest.CheckGoroutines(t, before) }) // no goroutine left once all closed
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			rep, err := Measure(ctx, MeasureConfig{Transport: c.transport, Bots: 8, Clients: 2, Duration: 4 * time.Second, Everyone: c.everyone})
			if err != nil {
				t.Fatal(err)
			}
			t.Log(rep)
			check(t, rep)
		})
	}
}

func check(t *testing.T, rep *Report) {
	t.Helper()
	if rep.Inputs < 2*2*TickRate { // two clients, two seconds at least
		t.Errorf("only %d inputs compared", rep.Inputs)
	}
	if rep.Unexplained > 0 {
		t.Errorf("%d predicted inputs differ from the server's with no tag to explain it (max %.3f units)", rep.Unexplained, rep.MaxUnexplained)
	}
	if rep.MaxAfterTag > maxAfterTag {
		t.Errorf("a prediction after a tag is %.2f units off, more than %.2f", rep.MaxAfterTag, maxAfterTag)
	}
	if rep.Rendered < 100 {
		t.Errorf("only %d rendered positions compared", rep.Rendered)
	}
	if rep.InterpErr.P99 > maxInterpP99 || rep.InterpErr.Max > maxInterpMax {
		t.Errorf("interpolation error %v: want p99 ≤ %v and max ≤ %v", rep.InterpErr, maxInterpP99, maxInterpMax)
	}
	if rep.SnapsPerClient < TickRate/2 {
		t.Errorf("%.1f snapshots a second per client", rep.SnapsPerClient)
	}
}
