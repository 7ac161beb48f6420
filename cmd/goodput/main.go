// Command goodput measures ENet goodput under the network simulator:
// gonetic's ENet adapter beside raw libenet (internal/bench/c/goodput.c),
// each a sender pushing reliable packets as fast as its library takes them
// to a receiver, through a sim.Relay this command runs, in turns, in one
// run (docs/PERF.md, "Network simulator").
//
//	goodput [-sim "lag=50ms,loss=20%"] [-d 20s] [-warmup 2s] [-r 2] [-size 1000] [-c goodput_c] [-impl c,go]
//
// Each round runs every implementation once, in the order -impl gives:
// the receiver and the sender are processes of their own (the C twin, or
// this command's recv and send modes), so that the relay's goroutines in
// this process are the only thing they share with the other side. Goodput
// is the payload bytes the receiver got, in order, in the -d after a
// -warmup counted from its connect, per second. The table gives each
// implementation's median over the rounds, its range and mean. Round r
// gives every implementation the same seed (-seed, plus r-1), so the same
// fates for the same datagram numbers. At 20 % loss each
// way, ENet sometimes times a link out (a packet resent five times, nothing
// acknowledged for 5 s): such a run counts what arrived until then, over
// the whole -d, and is marked, since it is what the library does.
//
//	goodput recv -addr 127.0.0.1:0 -warmup 2s -d 20s
//	goodput send -addr HOST:PORT -size 1000
//	goodput net-recv …, goodput net-send …  (the same on package net: -impl go-net)
//
// are the Go receiver and sender, and
//
//	goodput relay -sim "lag=50ms,loss=20%" -target HOST:PORT
//
// a relay alone, for trying a sender and a receiver by hand: it prints
// "relay ip:port", then the simulator's counts each second.
//
// recv and send use the transport level of adapters/enet with its default
// Options (the sender's QueueLimit aside); net-recv and net-send use
// package net over it, a Client sending a registered message (reliable,
// channel 0) to a Server whose handler counts it in Update, as a game
// would. The receivers print "ready ip:port", then RESULT lines, and end
// the link, which ends the sender. What counts of a net message is its
// sequence number and payload, -size bytes, not the framing net adds.
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gonetic/gonetic/adapters/enet"
	"github.com/gonetic/gonetic/adapters/sim"
	"github.com/gonetic/gonetic/net/transport"
)

// roles are the processes the driver starts, by their first argument.
var roles = map[string]func(args []string) int{
	"recv": recvMain, "send": sendMain, "relay": relayMain,
	"net-recv": netRecvMain, "net-send": netSendMain,
}

func main() {
	if len(os.Args) > 1 {
		if role, ok := roles[os.Args[1]]; ok {
			os.Exit(role(os.Args[2:]))
		}
	}
	os.Exit(driverMain(os.Args[1:]))
}

func fail(code int, format string, args ...any) int {
	fmt.Fprintf(os.Stderr, "goodput: "+format+"\n", args...)
	return code
}

func driverMain(args []string) int {
	fs := flag.NewFlagSet("goodput", flag.ExitOnError)
	spec := fs.String("sim", "lag=50ms,loss=20%", "the simulator's conditions (sim.Parse), both ways")
	d := fs.Duration("d", 20*time.Second, "measured time per run")
	warmup := fs.Duration("warmup", 2*time.Second, "time after the connect that is not measured")
	rounds := fs.Int("r", 2, "rounds: each runs every implementation once")
	seed := fs.Uint64("seed", 1, "the simulator's seed in the first round; round r has seed+r-1")
	size := fs.Int("size", 1000, "payload bytes")
	cbin := fs.String("c", "", "the C twin, built from internal/bench/c/goodput.c (no C runs without it)")
	impls := fs.String("impl", "c,go", "implementations, in the order each round runs them: c, go, go-net (package net: a Client sending a registered message to a Server), c-nothrottle (C with ENet's throttle deceleration 0, as gonetic sets it)")
	fs.Parse(args)
	cfg, err := sim.Parse(*spec)
	if err != nil {
		return fail(2, "%v", err)
	}
	self, err := os.Executable()
	if err != nil {
		return fail(2, "%v", err)
	}
	var list []string
	for i := range strings.SplitSeq(*impls, ",") {
		switch i = strings.TrimSpace(i); i {
		case "c", "c-nothrottle":
			if *cbin == "" {
				fmt.Fprintf(os.Stderr, "goodput: no -c binary: %s left out\n", i)
				continue
			}
		case "go", "go-net":
		default:
			return fail(2, "unknown implementation %q (want c, c-nothrottle, go or go-net)", i)
		}
		list = append(list, i)
	}
	secs := strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
	wsecs := strconv.FormatFloat(warmup.Seconds(), 'f', -1, 64)
	fmt.Printf("conditions %s, %d-byte reliable payloads, one channel, %v measured after %v, %d rounds\n", cfg, *size, *d, *warmup, *rounds)
	results := map[string][]float64{}
	timedOut := map[string]int{}
	for r := range *rounds {
		for _, impl := range list {
			var recv, send []string
			switch impl {
			case "go", "go-net":
				mode := map[string]string{"go": "", "go-net": "net-"}[impl]
				recv = []string{self, mode + "recv", "-addr", "127.0.0.1:0", "-warmup", warmup.String(), "-d", d.String()}
				send = []string{self, mode + "send", "-size", strconv.Itoa(*size), "-addr"}
			default:
				recv = []string{*cbin, "recv", "-addr", "127.0.0.1:0", "-warmup", wsecs, "-duration", secs}
				send = []string{*cbin, "send", "-size", strconv.Itoa(*size)}
				if impl == "c-nothrottle" {
					send = append(send, "-throttle", "off")
				}
				send = append(send, "-addr")
			}
			c := cfg
			c.Seed = *seed + uint64(r) // the same fates for every implementation of a round
			res, err := runOnce(c, recv, send, *warmup+*d+30*time.Second)
			if err != nil {
				fmt.Fprintf(os.Stderr, "goodput: round %d, %s: %v\n", r+1, impl, err)
				continue
			}
			results[impl] = append(results[impl], res.goodput)
			note := ""
			if res.ended > 0 {
				note = fmt.Sprintf("  (ENet timed the link out %.1f s after the connect)", res.ended)
				timedOut[impl]++
			}
			fmt.Printf("round %d (seed %d) %-13s goodput %8.1f KB/s  packets %7d  up: %d datagrams, %.1f %% lost  down: %d, %.1f %% lost%s\n",
				r+1, c.Seed, impl, res.goodput/1e3, res.packets, res.stats.Up.Packets, lossPct(res.stats.Up), res.stats.Down.Packets, lossPct(res.stats.Down), note)
		}
	}
	// The mean beside the median: a run's goodput hangs on a few long
	// resend back-offs, so runs vary widely and the mean (all the bytes
	// over all the time) moves less with one unlucky run.
	fmt.Printf("\n| implementation | goodput, KB/s: median | range | mean | runs | timed out |\n|---|---|---|---|---|---|\n")
	for _, impl := range list {
		g := results[impl]
		if len(g) == 0 {
			fmt.Printf("| %s | - | - | - | 0 | - |\n", impl)
			continue
		}
		slices.Sort(g)
		mean := 0.0
		for _, x := range g {
			mean += x / float64(len(g))
		}
		fmt.Printf("| %s | %.1f | %.1f–%.1f | %.1f | %d | %d |\n", impl, median(g)/1e3, g[0]/1e3, g[len(g)-1]/1e3, mean/1e3, len(g), timedOut[impl])
	}
	for _, impl := range list {
		if len(results[impl]) < *rounds {
			return 1
		}
	}
	return 0
}

func lossPct(p sim.PathStats) float64 {
	if p.Packets == 0 {
		return 0
	}
	return 100 * float64(p.Lost) / float64(p.Packets)
}

func median(x []float64) float64 {
	n := len(x)
	if n%2 == 1 {
		return x[n/2]
	}
	return (x[n/2-1] + x[n/2]) / 2
}

type result struct {
	reported bool
	goodput  float64
	packets  int64
	ended    float64 // seconds after the connect at which ENet timed the link out, 0 if it did not
	stats    sim.Stats
}

// runOnce starts the receiver, a relay in front of it and the sender, and
// returns what the receiver reported.
func runOnce(cfg sim.Config, recv, send []string, limit time.Duration) (res result, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	rc := exec.CommandContext(ctx, recv[0], recv[1:]...)
	rc.Stderr = os.Stderr
	out, err := rc.StdoutPipe()
	if err != nil {
		return res, err
	}
	if err := rc.Start(); err != nil {
		return res, err
	}
	defer rc.Wait()
	lines := bufio.NewScanner(out)
	if !lines.Scan() || !strings.HasPrefix(lines.Text(), "ready ") {
		return res, fmt.Errorf("%s did not say ready", recv[0])
	}
	target := strings.TrimPrefix(lines.Text(), "ready ")
	s, err := sim.New(cfg)
	if err != nil {
		return res, err
	}
	relay, err := s.Relay("udp", "127.0.0.1:0", target)
	if err != nil {
		return res, err
	}
	defer relay.Close()
	sc := exec.CommandContext(ctx, send[0], append(send[1:], relay.Addr())...)
	sc.Stdout, sc.Stderr = os.Stderr, os.Stderr
	if err := sc.Start(); err != nil {
		return res, err
	}
	// The receiver's end reaches the sender through the same losses, or
	// not (the receiver does not wait long for its disconnect to be
	// acknowledged): the sender gets a few seconds to see it, then is
	// stopped. How it ends is not what is measured.
	sent := make(chan error, 1)
	go func() { sent <- sc.Wait() }()
	defer func() {
		select {
		case <-sent:
		case <-time.After(5 * time.Second):
			sc.Process.Kill()
			<-sent
		}
	}()
	for lines.Scan() {
		f := strings.Fields(lines.Text())
		if len(f) < 3 || f[0] != "RESULT" {
			continue
		}
		v, _ := strconv.ParseFloat(f[2], 64)
		switch f[1] {
		case "goodput":
			res.goodput, res.reported = v, true
		case "packets":
			res.packets = int64(v)
		case "ended":
			res.ended = v
		}
	}
	if err := rc.Wait(); err != nil {
		return res, fmt.Errorf("receiver: %v", err)
	}
	res.stats = s.Stats()
	if !res.reported {
		return res, errors.New("the receiver reported nothing")
	}
	return res, nil // 0 bytes is a result: a back-off can outlast the run
}

func relayMain(args []string) int {
	fs := flag.NewFlagSet("goodput relay", flag.ExitOnError)
	spec := fs.String("sim", "lag=50ms,loss=20%", "the simulator's conditions (sim.Parse), both ways")
	target := fs.String("target", "", "the receiver's address")
	addr := fs.String("addr", "127.0.0.1:0", "the relay's address")
	fs.Parse(args)
	cfg, err := sim.Parse(*spec)
	if err != nil {
		return fail(2, "%v", err)
	}
	s, err := sim.New(cfg)
	if err != nil {
		return fail(2, "%v", err)
	}
	r, err := s.Relay("udp", *addr, *target)
	if err != nil {
		return fail(2, "%v", err)
	}
	defer r.Close()
	fmt.Printf("relay %s\n", r.Addr())
	for range time.Tick(time.Second) {
		fmt.Printf("%+v\n", s.Stats())
	}
	return 0
}

// receiver counts what arrives in the window; it is a TrySink, as package
// net's Sink is, so that the adapter hands it payloads from the host's
// goroutine.
type receiver struct {
	start     time.Time
	warmup, d time.Duration
	closed    chan error
	once      sync.Once
	bad       atomic.Bool

	mu             sync.Mutex // guards what follows; recvMain takes it to read the counts
	next           uint32
	bytes, packets int64
}

func (r *receiver) TryReceive(ch uint8, p []byte) bool {
	r.Receive(ch, p)
	return true
}

func (r *receiver) Receive(_ uint8, p []byte) {
	seq := ^uint32(0)
	if len(p) >= 4 {
		seq = binary.LittleEndian.Uint32(p)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if seq != r.next && !r.bad.Swap(true) {
		fmt.Fprintf(os.Stderr, "goodput recv: payload %d where %d was due\n", seq, r.next)
	}
	r.next = seq + 1
	if at := time.Since(r.start); at >= r.warmup && at < r.warmup+r.d {
		r.bytes += int64(len(p))
		r.packets++
	}
}

func (r *receiver) Closed(err error) { r.once.Do(func() { r.closed <- err }) }

func recvMain(args []string) int {
	fs := flag.NewFlagSet("goodput recv", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen at")
	warmup := fs.Duration("warmup", 2*time.Second, "time after the connect that is not measured")
	d := fs.Duration("d", 20*time.Second, "measured time")
	fs.Parse(args)
	t, err := enet.New(nil)
	if err != nil {
		return fail(2, "%v", err)
	}
	links := make(chan transport.Link, 1)
	r := &receiver{warmup: *warmup, d: *d, closed: make(chan error, 1)}
	accepted := false // Accept runs on the listener's goroutine
	ln, err := t.Listen(*addr, transport.Config{Channels: 1}, func(l transport.Link) transport.Sink {
		if accepted {
			return nil // one sender
		}
		accepted = true
		r.start = time.Now() // before the first Receive, and before recvMain reads it
		links <- l
		return r
	})
	if err != nil {
		return fail(2, "%v", err)
	}
	defer ln.Close()
	fmt.Printf("ready %s\n", ln.Addr())
	var l transport.Link
	select {
	case l = <-links:
	case <-time.After(10 * time.Second):
		return fail(1, "recv: nobody connected")
	}
	ended := false
	select {
	case <-time.After(time.Until(r.start.Add(*warmup + *d))):
	case err := <-r.closed:
		// ENet timed the link out (see the C twin): the count ends here.
		ended = true
		fmt.Fprintf(os.Stderr, "goodput recv: the link ended early: %v\n", err)
	}
	r.mu.Lock() // no Receive after this
	fmt.Printf("RESULT goodput %.0f B/s\n", float64(r.bytes)/d.Seconds())
	fmt.Printf("RESULT packets %d packets\n", r.packets)
	if ended {
		fmt.Printf("RESULT ended %.1f s\n", time.Since(r.start).Seconds())
	}
	r.mu.Unlock()
	if !ended {
		l.Close()
		select {
		case <-r.closed:
		case <-time.After(2 * time.Second):
		}
	}
	if r.bad.Load() {
		return 1
	}
	return 0
}

type sender struct{ closed chan error }

func (s *sender) Receive(uint8, []byte) {}
func (s *sender) Closed(err error)      { s.closed <- err }

func sendMain(args []string) int {
	fs := flag.NewFlagSet("goodput send", flag.ExitOnError)
	addr := fs.String("addr", "", "the receiver's address (or a relay's)")
	size := fs.Int("size", 1000, "payload bytes")
	verbose := fs.Bool("v", false, "print the link's Stats each second")
	fs.Parse(args)
	if *size < 4 {
		return fail(2, "send: -size below 4")
	}
	// A queue in Go of a few MiB: enough that ENet never waits for Send
	// (the adapter gives it at most Options.InFlight packets at a time),
	// small enough that the sender mostly waits for room.
	t, err := enet.New(&enet.Options{QueueLimit: 4 << 20})
	if err != nil {
		return fail(2, "%v", err)
	}
	s := &sender{closed: make(chan error, 1)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	l, err := t.Dial(ctx, *addr, transport.Config{Channels: 1}, s)
	cancel()
	if err != nil {
		return fail(1, "send: %v", err)
	}
	p := make([]byte, *size)
	for i := range p {
		p[i] = 0xA5
	}
	start = time.Now()
	report := time.Now().Add(time.Second)
	for seq := uint32(0); ; {
		if *verbose && time.Now().After(report) {
			report = report.Add(time.Second)
			fmt.Fprintf(os.Stderr, "send: seq %d %+v\n", seq, l.Stats())
		}
		binary.LittleEndian.PutUint32(p, seq)
		err := l.Send(0, transport.Reliable, p)
		switch {
		case err == nil:
			seq++
			continue
		case errors.Is(err, transport.ErrQueueFull):
			select {
			case err := <-s.closed:
				return endSend(err)
			case <-time.After(time.Millisecond):
			}
		default:
			return endSend(<-s.closed)
		}
	}
}

var start time.Time // the sender's connect

// endSend is the sender's exit status once its link ended: the receiver
// closes it, or aborts it when its disconnect was not acknowledged in time
// (its listener's ShutdownTimeout, through the losses).
func endSend(err error) int {
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, enet.ErrAborted) {
		return fail(1, "send: %v, %.1f s after the connect", err, time.Since(start).Seconds())
	}
	return 0
}
