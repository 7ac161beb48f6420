//go:build cgo

package net_test

import (
	"flag"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/enet"
	"github.com/gonetic/gonetic/adapters/sim"
	"github.com/gonetic/gonetic/adapters/tcp"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/transport"
)

var clockFigures = flag.Bool("clockfigures", false, "TestClockFigures: measure the server clock estimate's error (docs/PERF.md, Server time)")

// TestClockFigures measures how far the client's estimate of the server's
// clock is from the truth, over TCP and ENet on loopback, directly and
// with 50 ms added from client to server; the figures of docs/PERF.md:
//
//	go test -run TestClockFigures -clockfigures -v ./net/
func TestClockFigures(t *testing.T) {
	if !*clockFigures {
		t.Skip("a measurement: run with -clockfigures")
	}
	const samples, connects = 500, 30
	newTCP := func(testing.TB) transport.Transport { return tcp.New(tcp.Options{}) }
	newENet := func(t testing.TB) transport.Transport {
		tr, err := enet.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	t.Logf("%-14s %6s | %-23s | %-23s | %-23s | %s", "path", "n", "raw rtt p50 / p99", "raw sample |err| p50/p99", "estimate |err| p50/p99", "first (hello ping) |err| p50/p99, uncertainty p50 | estimates outside uncertainty")
	for _, c := range []struct {
		name string
		tr   func(testing.TB) transport.Transport
		lag  time.Duration
	}{
		{"tcp", newTCP, 0},
		{"enet", newENet, 0},
		{"tcp+50ms up", newTCP, 50 * time.Millisecond},
		{"enet+50ms up", newENet, 50 * time.Millisecond},
	} {
		cliTr := c.tr(t)
		if c.lag > 0 {
			s, err := sim.New(sim.Config{Up: sim.Conditions{Lag: c.lag}})
			if err != nil {
				t.Fatal(err)
			}
			if cliTr, err = s.Wrap(cliTr); err != nil {
				t.Fatal(err)
			}
		}
		cfg := gnet.Config{PingInterval: 10 * time.Millisecond, Timeout: 10 * time.Second}
		srv, cli, conn, _ := clockPair(t, c.tr(t), cliTr, cfg)
		var rtt, raw, est []time.Duration
		outside := 0 // estimates off by more than their uncertainty
		seen := conn.Clock().Samples
		for len(rtt) < samples {
			_ = cli.Update(time.Millisecond)
			cl := conn.Clock()
			if cl.Samples == seen {
				continue
			}
			seen = cl.Samples
			truth := trueOffset(srv, cli)
			off, r := gnet.LastSample(conn)
			rtt = append(rtt, r)
			raw = append(raw, (off - truth).Abs())
			est = append(est, (cl.Offset - truth).Abs())
			if est[len(est)-1] > cl.Uncertainty {
				outside++
			}
		}
		// The first sample, from the ping sent with the handshake, of new
		// connections to the same server.
		var first, unc []time.Duration
		for range connects {
			h := &clockHandler{srv: srv, cli: cli}
			conn, err := cli.Connect(srv.Addr(), h)
			if err != nil {
				t.Fatal(err)
			}
			for !h.returned {
				if err := cli.Update(time.Millisecond); err != nil {
					t.Fatal(err)
				}
			}
			first = append(first, (h.atOpen.Offset - h.truth).Abs())
			unc = append(unc, h.atOpen.Uncertainty)
			conn.Disconnect("next")
		}
		t.Logf("%-14s %6d | %-23s | %-23s | %-23s | %s, %v | %d", c.name, samples, p5099(rtt), p5099(raw), p5099(est), p5099(first), pct(unc, 50), outside)
	}
}

func pct(d []time.Duration, p int) time.Duration {
	d = slices.Clone(d)
	slices.Sort(d)
	return d[(len(d)-1)*p/100]
}

func p5099(d []time.Duration) string {
	return fmt.Sprintf("%v / %v", pct(d, 50).Round(time.Microsecond), pct(d, 99).Round(time.Microsecond))
}
