// Command soak is gonetic's long test, behind `make soak`: the reliability
// matrix for long runs, then 1,000 clients churning through connect, chat
// and disconnect against one server, over ENet and over TCP, each client
// through the network simulator (adapters/sim), while the process's RSS,
// heap, goroutines and open descriptors are sampled.
//
//	soak [-d 30m] [-clients 1000] [-life 3m] [-chats 2] [-adapters enet,tcp]
//	     [-enet-sim lag=20ms,jitter=5ms,loss=2%] [-tcp-sim lag=20ms]
//	     [-matrix-share 0.33] [-matrix-clients 4] [-every 5s] [-csv FILE]
//	     [-memprofile FILE] [-short]
//
// -d is the whole run. A share of it (-matrix-share) runs every case of
// internal/reliability's matrix, each for an equal part; the rest is split
// between the adapters' churn phases. In a churn phase, new players
// (each a gonetic Client of its own, with its own transport and Sim) come
// at most -ramp a second while fewer than -clients play; each completes
// its handshake, says hello, sends -chats chat lines at random moments of
// a life of about -life, and ends: 80 % with a bye (it asks the server for
// the count of chat lines relayed to it, checks it received each one once
// and in order, and disconnects with a reason), 10 % by closing its Client
// without a bye, 10 % by going silent (its Sim drops or holds everything,
// and it stops calling Update) until the server's -timeout ends it. The
// server relays every chat line to every other player that is in.
//
// Every few seconds (-every) a row shows the process (server and clients
// share it): RSS, heap in use, the live heap (what the last GC kept),
// goroutines, fds, the server's connections, the players, and the chat
// lines relayed and received so far. At the end of each phase the samples
// after warm-up (a quarter of the phase, or -life if longer, half at most)
// are compared with the last ones: goroutines and fds per player, and the
// peaks of RSS and the live heap (see the tolerances in sample.go); and once
// everything closed, goroutines and fds must be back where they were before
// the phase.
//
// soak exits 1 on a leak, a reliable chat line missed, duplicated, out of
// order or another connection's, a handshake that did not complete, a
// player the server ended while it played, a disconnect without a reason,
// or a failed matrix case; 2 on bad flags.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"
)

func main() {
	d := flag.Duration("d", 30*time.Minute, "the whole run: the matrix's share, then the churn of each adapter")
	short := flag.Bool("short", false, "a form for CI: -d 60s -clients 100 -life 10s -every 2s -matrix-share 0 unless set")
	clients := flag.Int("clients", 1000, "most players connected at once")
	life := flag.Duration("life", 3*time.Minute, "a player's mean time connected (each lives 0.5 to 1.5 times it)")
	chats := flag.Int("chats", 2, "chat lines each player sends in its life")
	ramp := flag.Int("ramp", 50, "new players a second at most")
	adapters := flag.String("adapters", "enet,tcp", "comma-separated adapters to churn over")
	enetSim := flag.String("enet-sim", "lag=20ms,jitter=5ms,loss=2%", "each ENet player's conditions (adapters/sim spec)")
	tcpSim := flag.String("tcp-sim", "lag=20ms", "each TCP player's conditions (adapters/sim spec; no loss on a stream)")
	share := flag.Float64("matrix-share", 1.0/3, "the part of -d for the reliability matrix (0 skips it)")
	matrixClients := flag.Int("matrix-clients", 4, "clients in each case of the matrix")
	every := flag.Duration("every", 5*time.Second, "sampling interval")
	timeout := flag.Duration("timeout", 15*time.Second, "gnet Config.Timeout on both ends: how long a silent player stays")
	csvPath := flag.String("csv", "", "also write the samples to this CSV file")
	memProfile := flag.String("memprofile", "", "write a heap profile at the end of each churn phase, with every player in, to this file with the adapter's name appended")
	flag.Parse()
	if *short {
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		def := func(name string, apply func()) {
			if !set[name] {
				apply()
			}
		}
		def("d", func() { *d = 60 * time.Second })
		def("clients", func() { *clients = 100 })
		def("life", func() { *life = 10 * time.Second })
		def("every", func() { *every = 2 * time.Second })
		def("matrix-share", func() { *share = 0 }) // internal/reliability's tests run its short form
	}
	if *d <= 0 || *clients <= 0 || *life <= 0 || *chats < 0 || *every <= 0 || *share < 0 || *share >= 1 {
		fmt.Fprintln(os.Stderr, "soak: -d, -clients, -life and -every must be positive, -chats not negative, -matrix-share in [0, 1)")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	var csv *os.File
	if *csvPath != "" {
		f, err := os.Create(*csvPath)
		if err != nil {
			fmt.Fprintln(os.Stderr, "soak:", err)
			os.Exit(2)
		}
		defer f.Close()
		fmt.Fprintln(f, csvHeader)
		csv = f
	}
	started := time.Now()
	var failures []string

	names := strings.Split(*adapters, ",")
	matrixTime := time.Duration(float64(*d) * *share)
	churnTime := (*d - matrixTime) / time.Duration(len(names))
	if matrixTime > 0 {
		fmt.Printf("## the reliability matrix, %v in all\n\n", matrixTime.Round(time.Second))
		failures = append(failures, runMatrix(ctx, matrixTime, *matrixClients)...)
	}
	for _, name := range names {
		cond := map[string]string{"enet": *enetSim, "tcp": *tcpSim}[name]
		cfg := churnConfig{
			adapter: name, cond: cond, clients: *clients, life: *life, chats: *chats, rampRate: *ramp,
			d: churnTime, timeout: *timeout, every: *every,
		}
		if *memProfile != "" {
			cfg.memProfile = *memProfile + "." + name
		}
		fmt.Printf("\n## churn over %s (%s): up to %d players, life ~%v, %d chats each, %v\n\n", name, cond, *clients, *life, *chats, churnTime.Round(time.Second))
		fmt.Println(sampleHeader)
		res := churn(ctx, cfg, func(s string) { fmt.Println(s) })
		if csv != nil {
			for _, s := range res.samples {
				fmt.Fprintln(csv, s.csv(name))
			}
		}
		report(res)
		var during []sample
		for _, s := range res.samples {
			if s.at <= churnTime {
				during = append(during, s)
			}
		}
		// Warm-up: the players' number and the heap's target settle within
		// a life or so; a quarter of the phase at least, half at most.
		warm := min(max(churnTime/4, *life), churnTime/2)
		for _, l := range leaks(res.base, res.after, during, warm) {
			res.failures = append(res.failures, "leak: "+l)
		}
		for _, f := range res.failures {
			failures = append(failures, name+" churn: "+f)
		}
		if ctx.Err() != nil {
			failures = append(failures, "interrupted")
			break
		}
	}
	fmt.Printf("\n## soak: %v\n", time.Since(started).Round(time.Second))
	if len(failures) > 0 {
		fmt.Println("FAIL")
		for _, f := range failures {
			fmt.Println("  -", f)
		}
		os.Exit(1)
	}
	fmt.Println("PASS")
}

func report(r *churnResult) {
	fmt.Printf("\nplayers: %d started, %d connected (handshake done), %d handshakes failed\n", r.started, r.connected, r.connectFails)
	fmt.Printf("ends: %d bye, %d close without bye, %d silent\n", r.ends[endBye], r.ends[endClose], r.ends[endSilent])
	fmt.Printf("chat: %d lines sent, %d relays sent by the server (%d refused: full queues of silent players)\n", r.chatsSent, r.relays, r.sendRefused)
	fmt.Printf("reliable check: %d relays received by players that left with a bye, %d missed, %d leaves unanswered; "+
		"at any player: %d duplicated, %d out of order, %d from before it joined (another connection's)\n",
		r.relaysReceived, r.missed, r.leaveUnanswered, r.dups, r.disorder, r.foreign)
	for _, d := range r.details {
		fmt.Println("    ", d)
	}
	fmt.Printf("simulator, all players' paths: up %d packets, %d lost; down %d packets, %d lost\n",
		r.simStats.Up.Packets, r.simStats.Up.Lost, r.simStats.Down.Packets, r.simStats.Down.Lost)
	fmt.Printf("UDP datagrams the kernel dropped for full receive buffers during the phase (machine-wide): %d\n", r.rcvbufErrors)
	fmt.Printf("disconnects without a reason: %d\n", r.noReason)
	fmt.Printf("server-side disconnect reasons:\n%s", reasonTable(r.serverReasons))
	fmt.Printf("client-side disconnect reasons (players that left with a bye):\n%s", reasonTable(r.clientReasons))
	fmt.Printf("process before the phase: %s\n", strings.TrimSpace(r.base.row()))
	fmt.Printf("process after it closed:  %s\n", strings.TrimSpace(r.after.row()))
}
