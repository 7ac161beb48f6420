package reliability

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/sim"
)

// A flow whose path is cut for good fails at both ends, with an error,
// once the connection times out: it never hangs. Every connection ends
// with the timeout as its reason, on both sides.
func TestCutFlowFailsAtBothEnds(t *testing.T) {
	for _, adapter := range []string{"enet", "tcp"} {
		t.Run(adapter, func(t *testing.T) {
			o := Options{Clients: 1, Timeout: 2 * time.Second}.withDefaults()
			g, err := newGame(Case{Adapter: adapter, Sim: sim.Both(sim.Conditions{Rate: 200_000})}, o)
			if err != nil {
				t.Fatal(err)
			}
			defer g.close()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			c := g.clients[0]
			if err := g.until(ctx, "connecting", connectWithin, c.conn.Connected, nil); err != nil {
				t.Fatal(err)
			}
			flowDone := make(chan flowResult, 1)
			go func() { flowDone <- g.sendFlow(ctx, 64<<20) }() // far more than a second at the rate
			// Cut once the flow is under way.
			err = g.until(ctx, "the flow starting", time.Minute, func() bool { return g.sim.Stats().Up.Bytes > 256<<10 }, nil)
			if err != nil {
				t.Fatal(err)
			}
			if adapter == "enet" {
				g.sim.Set(sim.Both(sim.Conditions{Loss: 1}))
			} else {
				// A stream cannot lose: a path that carries nothing more.
				g.sim.Set(sim.Both(sim.Conditions{Rate: 1}))
			}
			var fr flowResult
			var handlerErr error
			gotFlow, gotHandler := false, false
			err = g.until(ctx, "the flow failing", time.Minute, func() bool {
				select {
				case fr = <-flowDone:
					gotFlow = true
				case handlerErr = <-g.handlerEnded:
					gotHandler = true
				default:
				}
				return gotFlow && gotHandler && c.hasEnded() && g.allEnded()
			}, nil)
			if err != nil {
				t.Fatalf("%v (flow ended %v, handler ended %v, client ended %v)", err, gotFlow, gotHandler, c.hasEnded())
			}
			if fr.err == nil || handlerErr == nil {
				t.Fatalf("the flow's caller got %v and its handler %v; want an error at both ends", fr.err, handlerErr)
			}
			for _, h := range g.serverConns() {
				if !strings.Contains(h.ended, "timed out") {
					t.Errorf("the server's connection ended with %q", h.ended)
				}
			}
			if !strings.Contains(c.ended, "timed out") {
				t.Errorf("the client's connection ended with %q", c.ended)
			}
			t.Logf("caller: %v; handler: %v", fr.err, handlerErr)
		})
	}
}
