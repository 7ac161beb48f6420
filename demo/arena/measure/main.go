// Command measure plays the arena in one process, a server with bots and
// headless clients over real sockets on 127.0.0.1, and reports the
// figures of docs/PERF.md's "Arena" section: the server's work per tick
// (p50, p99), the bytes per second each client receives, the prediction
// checked input by input against the server, the interpolated positions
// against the server's at the same server time, and the clients' frame
// time without drawing.
//
//	go run ./demo/arena/measure -bots 100 -clients 10 -d 10s -transport tcp,enet -interest on,off
//
// One run per transport and interest setting, one after the other.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/gonetic/gonetic/demo/arena/arena"
	"github.com/gonetic/gonetic/demo/internal/cpuprofile"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("measure", flag.ContinueOnError)
	transports := fs.String("transport", "tcp,enet", "transports to measure, comma-separated")
	interest := fs.String("interest", "on,off", "interest management settings to measure: on, off or both")
	bots := fs.Int("bots", 100, "server-side bots")
	clients := fs.Int("clients", 10, "headless network clients in this process")
	d := fs.Duration("d", 10*time.Second, "how long each run plays")
	sim := fs.String("sim", "", "the server's simulated network (adapters/sim.Parse)")
	profile := fs.String("cpuprofile", "", "write a CPU profile of the runs to this file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	stopProfile, err := cpuprofile.Start(*profile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "measure:", err)
		return 2
	}
	defer stopProfile()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	for _, tr := range strings.Split(*transports, ",") {
		for _, in := range strings.Split(*interest, ",") {
			if in != "on" && in != "off" {
				fmt.Fprintf(os.Stderr, "measure: -interest %q: use on, off or on,off\n", in)
				return 2
			}
			rep, err := arena.Measure(ctx, arena.MeasureConfig{
				Transport: tr, Sim: *sim, Bots: *bots, Clients: *clients, Duration: *d, Everyone: in == "off",
			})
			if err != nil {
				fmt.Fprintln(os.Stderr, "measure:", err)
				return 1
			}
			fmt.Println(rep)
			if ctx.Err() != nil {
				return 1
			}
		}
	}
	return 0
}
