// Command server is the arena's authoritative server: it runs the game at
// 30 ticks a second, applies each client's inputs in order, passes "it"
// on touch, and sends every client its own state and the players near it
// each tick.
//
//	go run ./demo/arena/server -addr 127.0.0.1:7778 -transport tcp -bots 10
//
// -bots N adds server-side bots, so that one person can play alone;
// -everyone turns interest management off (every client sees every
// player, one snapshot for all); -sim "lag=50ms,loss=2%" plays over a
// simulated network (adapters/sim), which every client feels both ways.
//
// It runs under package net/daemon: it prints "arena server listening on
// ADDR (...)" once it accepts connections, a status line every -status
// (players, tick work, bytes sent), and stops gracefully on SIGINT or
// SIGTERM: every client is told "server shutting down".
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/gonetic/gonetic/demo/arena/arena"
	"github.com/gonetic/gonetic/demo/internal/transports"
	"github.com/gonetic/gonetic/game"
	"github.com/gonetic/gonetic/net/daemon"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

type options struct {
	addr, transport, sim string
	bots, maxPlayers     int
	everyone, verbose    bool
	status               time.Duration
}

func run(args []string) int {
	var o options
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.StringVar(&o.addr, "addr", arena.DefaultAddr, "address to listen on, host:port (port 0 picks a free one)")
	fs.StringVar(&o.transport, "transport", "tcp", transports.Usage+" (clients must match)")
	fs.StringVar(&o.sim, "sim", "", transports.SimUsage)
	fs.IntVar(&o.bots, "bots", 5, "server-side bots")
	fs.IntVar(&o.maxPlayers, "max-players", 256, "most clients at once")
	fs.BoolVar(&o.everyone, "everyone", false, "turn interest management off: every client sees every player")
	fs.DurationVar(&o.status, "status", 10*time.Second, "print a status line this often (0: never)")
	fs.BoolVar(&o.verbose, "v", false, "log connection details and tags too")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	interest := "interest on"
	if o.everyone {
		interest = "interest off"
	}
	err := daemon.Run(context.Background(), daemon.Options{
		Name:   "arena-server",
		Logger: log,
		OnReady: func(addr string) {
			fmt.Printf("arena server listening on %s (%s, %d bots, %s)\n", addr, o.transport, o.bots, interest)
		},
	}, func(ctx context.Context, ready func(addr string)) error {
		return serve(ctx, o, log, ready)
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "arena server:", err)
		return 1
	}
	fmt.Println("arena server stopped")
	return 0
}

func serve(ctx context.Context, o options, log *slog.Logger, ready func(addr string)) error {
	tr, simulator, err := transports.Open(o.transport, o.sim)
	if err != nil {
		return err
	}
	if simulator != nil {
		fmt.Println(transports.SimStarted(simulator))
		defer func() { fmt.Println(transports.SimTotals(simulator)) }()
	}
	st := &status{every: o.status, next: time.Now().Add(o.status)}
	srv, err := arena.NewServer(arena.ServerConfig{
		Addr: o.addr, Transport: tr, Bots: o.bots, Everyone: o.everyone, MaxConns: o.maxPlayers,
		Logger: log, Ticked: st.ticked,
	})
	if err != nil {
		return err
	}
	ready(srv.Addr())
	err = srv.Run(ctx)
	sctx, cancel := daemon.ShutdownContext(ctx)
	defer cancel()
	if serr := srv.Shutdown(sctx); serr != nil {
		log.Warn("graceful stop cut short", "err", serr)
	}
	return err
}

// status prints a line every so often: the players, who is "it", the
// tick work.
type status struct {
	every time.Duration
	next  time.Time
	work  []time.Duration
	late  time.Duration
}

func (s *status) ticked(t game.Tick, w *arena.World, work time.Duration) {
	if s.every <= 0 {
		return
	}
	s.work = append(s.work, work)
	s.late = max(s.late, t.Late)
	now := time.Now()
	if now.Before(s.next) {
		return
	}
	s.next = now.Add(s.every)
	slices.Sort(s.work)
	q := func(p float64) time.Duration { return s.work[min(len(s.work)-1, int(p*float64(len(s.work))))] }
	it := "nobody"
	if a := w.Actor(w.It()); a != nil {
		it = a.Name
	}
	fmt.Printf("arena server: tick %d, %d players, %s is it; tick work p50 %v p99 %v, latest start %v\n",
		t.N, len(w.Actors()), it, q(.5).Round(time.Microsecond), q(.99).Round(time.Microsecond), s.late.Round(time.Microsecond))
	s.work, s.late = s.work[:0], 0
}
