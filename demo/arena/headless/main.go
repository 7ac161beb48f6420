// Command headless runs arena clients without a window: each is a network
// client of its own (its own connection, prediction and interpolation)
// played by the arena's bot AI, all in one process. It is the arena's
// client where there is no display, and its load generator.
//
//	go run ./demo/arena/headless -addr 127.0.0.1:7778 -clients 20
//
// Every -status it prints one line per client (up to five) with what a
// window's HUD shows: position, score, who is "it", round trip, clock
// offset, snapshot rate, interpolation delay. It stops after -d, or on
// SIGINT or SIGTERM, each client saying "quit", and prints the frame time
// (p50, p99; no drawing) and the bytes each client received per second.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/gonetic/gonetic/demo/arena/arena"
	"github.com/gonetic/gonetic/demo/internal/transports"
	"github.com/gonetic/gonetic/net/transport"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

type options struct {
	addr, transport, sim, name string
	clients                    int
	d, status                  time.Duration
}

func run(args []string) int {
	var o options
	fs := flag.NewFlagSet("headless", flag.ContinueOnError)
	fs.StringVar(&o.addr, "addr", arena.DefaultAddr, "server address, host:port")
	fs.StringVar(&o.transport, "transport", "tcp", transports.Usage+" (as the server)")
	fs.StringVar(&o.sim, "sim", "", transports.SimUsage)
	fs.StringVar(&o.name, "name", "headless", "player name (a number is added with -clients > 1)")
	fs.IntVar(&o.clients, "clients", 1, "network clients to run")
	fs.DurationVar(&o.d, "d", 0, "stop after this long (0: on SIGINT or SIGTERM)")
	fs.DurationVar(&o.status, "status", time.Second, "print the clients' status this often (0: never)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.clients < 1 {
		fmt.Fprintln(os.Stderr, "headless: -clients must be 1 or more")
		return 2
	}
	tr, simulator, err := transports.Open(o.transport, o.sim)
	if err != nil {
		fmt.Fprintln(os.Stderr, "headless:", err)
		return 2
	}
	if simulator != nil {
		fmt.Println(transports.SimStarted(simulator))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.d)
		defer cancel()
	}

	var (
		mu      sync.Mutex // guards stdout, frames, bytes, failed
		frames  []time.Duration
		bytes   float64
		failed  int
		wg      sync.WaitGroup
		started = time.Now()
	)
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Printf(format+"\n", args...)
	}
	for i := range o.clients {
		name := o.name
		if o.clients > 1 {
			name = fmt.Sprintf("%s%d", o.name, i+1)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, b, err := play(ctx, o, tr, name, uint64(i+1), i < 5, say)
			mu.Lock()
			defer mu.Unlock()
			frames = append(frames, f...)
			bytes += b
			if err != nil {
				failed++
				fmt.Printf("%s: %v\n", name, err)
			}
		}()
	}
	wg.Wait()
	if len(frames) > 0 {
		slices.Sort(frames)
		q := func(p float64) time.Duration { return frames[min(len(frames)-1, int(p*float64(len(frames))))] }
		fmt.Printf("headless: %d clients played %v: frame (no drawing) p50 %v p99 %v over %d frames; %.0f B/s received per client\n",
			o.clients, time.Since(started).Round(time.Second/10), q(.5), q(.99), len(frames), bytes/float64(o.clients))
	}
	if failed > 0 {
		return 1
	}
	return 0
}

// play runs one client on tr (shared by all) until ctx is done; it returns its frame times and
// the bytes per second it received.
func play(ctx context.Context, o options, tr transport.Transport, name string, seed uint64, show bool, say func(string, ...any)) ([]time.Duration, float64, error) {
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	c, err := arena.Dial(dctx, arena.ClientConfig{Addr: o.addr, Name: name, Transport: tr, Bot: &arena.Bot{}, Seed: seed})
	cancel()
	if err != nil {
		return nil, 0, fmt.Errorf("cannot join %s: %w", o.addr, err)
	}
	say("%s: joined %s as player %d (%s)", name, o.addr, c.ID(), o.transport)
	frames := make([]time.Duration, 0, 1<<14)
	start := time.Now()
	next := start.Add(o.status)
	err = arena.Play(ctx, c, func(took time.Duration) {
		frames = append(frames, took)
		if now := time.Now(); show && o.status > 0 && now.After(next) {
			next = now.Add(o.status)
			say("%s", arena.StatusLine(c, name, now))
		}
	})
	b := float64(c.Conn().Stats().BytesReceived) / time.Since(start).Seconds()
	sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	_ = c.Close(sctx)
	cancel()
	if err != nil {
		return frames, b, err
	}
	say("%s: left", name)
	return frames, b, nil
}
