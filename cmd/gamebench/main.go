// Command gamebench measures gonetic in the shape of a game: a server that
// ticks at 30 or 60 Hz and sends each client its own snapshot, and one
// process holding N clients that run a 60 fps frame loop, send 30 inputs a
// second and a chat every 3 s. Its raw libenet twin,
// internal/bench/c/gamebench.c, runs the same shape, so every figure has a
// raw figure beside it; internal/bench/game.sh runs both and prints the
// table. The shape, the figures and the command lines are fixed by the
// shared spec (issue 16, "the game-shaped benchmark"):
//
//	gamebench server  -addr 127.0.0.1:PORT -hz 30 -clients N -duration 10s -label L [-transport tcp|enet]
//	gamebench clients -addr 127.0.0.1:PORT -hz 30 -n N       -duration 10s -label L [-transport tcp|enet]
//
// With -sim SPEC ("lag=30ms,jitter=5ms,loss=2%", the syntax of
// adapters/sim.Parse) a process plays over a simulated network: give it to
// the server only, which puts every client under the conditions both
// ways. The process prints them first: "network simulator: lag=30ms (seed
// 123)".
//
// With -tokens (give it to both processes) every connection uses a connect
// token (package token) and all its traffic is sealed, encrypted and
// authenticated: the server sets ServerConfig.Tokens, and the clients
// process issues each client its token in-process (net.WithToken), under
// a key both derive from a fixed seed (benchKey) and naming the server by
// -addr as both are given it. A benchmark's key, no secret.
//
// The server prints "ready <addr>" once it listens. Both print their figures
// as "RESULT <label>.<figure> <value> <unit>" lines when they exit: the
// clients process the snapshot and input latencies, losses and its CPU; the
// server its tick work, lateness and CPU. A warm-up of 2 s after all clients
// connected is not measured. Either process exits by itself within
// warmup+duration+10 s, whatever the other one does.
package main

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gonetic/gonetic/adapters/sim"
	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/message"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/transport"
	"github.com/gonetic/gonetic/token"
)

// Player is one entry of a snapshot: 34 bytes in the C twin's layout.
type Player struct {
	ID           uint32
	X, Y, VX, VY float32
	State        uint32
	HP           uint16
	Pad          [8]byte
}

// Snapshot is what the server sends each client every tick: sequenced
// (unreliable, late ones dropped) on channel 2.
type Snapshot struct {
	Tick     uint32
	SendNs   int64 // CLOCK_MONOTONIC at send
	AckInput uint32
	Players  []Player
}

// Input is a client's input, 30 a second, sequenced on channel 1.
type Input struct {
	Seq    uint32
	SendNs int64
	DX, DY float32
}

// Chat is a client's 40-byte chat line, reliable on channel 0, every 3 s.
type Chat struct{ Text string }

// Stop tells the server the clients are done measuring.
type Stop struct{}

const (
	warmup      = 2 * time.Second
	inputHz     = 30
	frameHz     = 60
	chatEvery   = 3 * time.Second
	maxPlayers  = 20
	connectWait = 5 * time.Second // how long the clients may take to connect
)

func factory() *message.Factory {
	f := gnet.NewFactory()
	message.MustRegister[Snapshot](f, message.Channel(2), message.Deliver(message.Sequenced), message.SentBy(message.ServerToClient))
	message.MustRegister[Input](f, message.Channel(1), message.Deliver(message.Sequenced), message.SentBy(message.ClientToServer))
	message.MustRegister[Chat](f, message.Channel(0), message.Deliver(message.Reliable), message.SentBy(message.ClientToServer))
	message.MustRegister[Stop](f, message.SentBy(message.ClientToServer))
	return f
}

// transports maps -transport names to adapters with their default options;
// enet registers itself from a cgo-only file.
var transports = map[string]func() (transport.Transport, error){
	"tcp": func() (transport.Transport, error) { return tcp.New(tcp.Options{}), nil },
}

func main() {
	if len(os.Args) < 2 || (os.Args[1] != "server" && os.Args[1] != "clients") {
		fmt.Fprintln(os.Stderr, "usage: gamebench server|clients [flags]; gamebench server -h for flags")
		os.Exit(2)
	}
	role := os.Args[1]
	fs := flag.NewFlagSet(role, flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:7970", "address")
	hz := fs.Int("hz", 30, "server tick rate, ticks per second (30 or 60)")
	clients := fs.Int("clients", 0, "server: the number of clients to expect")
	n := fs.Int("n", 0, "clients: the number of clients to run")
	duration := fs.Duration("duration", 10*time.Second, "measured time, after a warm-up of 2 s")
	label := fs.String("label", "", "RESULT name prefix (default gonetic.<transport>)")
	tr := fs.String("transport", "tcp", "network adapter: "+strings.Join(keys(), " or "))
	simSpec := fs.String("sim", "", "play over a simulated network, e.g. lag=30ms,jitter=5ms,loss=2% (keys in adapters/sim.Parse; "+
		"loss, dup, reorder and mtu need enet): give it to the server only, which covers both ways")
	tokens := fs.Bool("tokens", false, "connect with connect tokens and seal all traffic (give it to both processes; the key is a fixed benchmark key)")
	_ = fs.Parse(os.Args[2:])
	if fs.NArg() > 0 {
		fail("unexpected arguments %q", fs.Args())
	}
	if *hz <= 0 || *hz > 1000 {
		fail("-hz %d: want 1 to 1000", *hz)
	}
	if *duration <= 0 {
		fail("-duration %v: want > 0", *duration)
	}
	count := *n
	if role == "server" {
		count = *clients
	}
	if count <= 0 {
		fail("%s needs the client count (server: -clients N, clients: -n N)", role)
	}
	t, simulator, err := newTransport(*tr, *simSpec)
	if err != nil {
		fail("%v", err)
	}
	if simulator != nil {
		fmt.Printf("network simulator: %s\n", simulator)
	}
	if *label == "" {
		*label = "gonetic." + *tr
	}
	// The watchdog: whatever the other side does, this process ends.
	limit := warmup + *duration + 9500*time.Millisecond
	time.AfterFunc(limit, func() { fail("%s: still running after %v: giving up", role, limit) })
	cfg := runConfig{addr: *addr, hz: *hz, n: count, duration: *duration, label: *label, tr: t, tokens: *tokens}
	if role == "server" {
		os.Exit(server(cfg))
	}
	os.Exit(runClients(cfg))
}

type runConfig struct {
	addr     string
	hz, n    int
	duration time.Duration
	label    string
	tr       transport.Transport
	tokens   bool // -tokens: connect tokens, sealed traffic
}

// benchKey is -tokens' key, the same in both processes: derived from a
// fixed seed, so the benchmark needs no key passed around. Known to
// anyone, so for measuring only.
func benchKey() token.Key {
	return token.Key(sha256.Sum256([]byte("gonetic cmd/gamebench -tokens")))
}

// benchToken issues a connect token for the server named addr under
// benchKey, as a game's backend would, valid for a minute: a client uses
// it only to connect.
func benchToken(addr string) []byte {
	now := time.Now()
	tok, err := token.Issue(benchKey(), token.Claims{Servers: []string{addr}, Expires: now.Add(time.Minute)}, now)
	if err != nil {
		fail("issue a token: %v", err)
	}
	return tok
}

// newTransport returns the adapter called name, under the network
// conditions of simSpec if it is not empty, with the Sim that applies them
// (nil without).
func newTransport(name, simSpec string) (transport.Transport, *sim.Sim, error) {
	newTr, ok := transports[name]
	if !ok {
		return nil, nil, fmt.Errorf("unknown -transport %q (this build has %v)", name, keys())
	}
	t, err := newTr()
	if err != nil {
		return nil, nil, err
	}
	t, s, err := sim.Simulate(t, simSpec)
	if err != nil {
		return nil, nil, fmt.Errorf("-sim: %w", err)
	}
	return t, s, nil
}

func keys() []string {
	var out []string
	for k := range transports {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "gamebench: "+format+"\n", args...)
	os.Exit(2)
}

// mono is CLOCK_MONOTONIC in nanoseconds: the clock both processes (and the
// C twin) stamp and read, shared by every process of the machine.
// aligned is the first whole second of CLOCK_MONOTONIC after t. The server
// ticks, and the clients' frames run, on grids that start there: one second
// holds a whole number of ticks (30 or 60) and of frames (60), so both
// processes share one schedule without talking, as a game whose clients
// synchronise their clocks to the server would.
func aligned(t int64) int64 { return (t/int64(time.Second) + 1) * int64(time.Second) }

// framePhase is how long after a server tick the clients' frame falls: the
// time a snapshot has to arrive to be seen at that frame. A snapshot that
// misses it waits a whole frame, which is what the latency tail then shows.
const framePhase = 2 * time.Millisecond

func mono() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		fail("clock_gettime: %v", err)
	}
	return ts.Nano()
}

// cpuNs is the process's user+system CPU time so far.
func cpuNs() int64 {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		fail("getrusage: %v", err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// samples is a bounded set of durations in ns, preallocated: adding one
// never allocates, and beyond its capacity they are counted, not kept.
type samples struct {
	v       []int64
	dropped int
}

func newSamples(n int) samples { return samples{v: make([]int64, 0, n)} }

func (s *samples) add(ns int64) {
	if len(s.v) == cap(s.v) {
		s.dropped++
		return
	}
	s.v = append(s.v, ns)
}

// pct is the p-th percentile in µs, sorted[n*p/100] as cmd/gbench and the
// C twin take it (p in 0..100; 100 is the maximum), or NaN without samples.
// It sorts s.
// above is the share of samples above ns, in percent.
func (s *samples) above(ns int64) float64 {
	if len(s.v) == 0 {
		return math.NaN()
	}
	n := 0
	for _, v := range s.v {
		if v > ns {
			n++
		}
	}
	return 100 * float64(n) / float64(len(s.v))
}

// missAfter is the latency past which a snapshot missed the frame it was
// due at: half a frame. One seen in time is 2 ms after its tick at most
// (less the tick's lateness); one that missed, a frame later.
const missAfter = int64(time.Second / frameHz / 2)

func (s *samples) pct(p float64) float64 {
	if len(s.v) == 0 {
		return math.NaN()
	}
	if !slices.IsSorted(s.v) {
		slices.Sort(s.v)
	}
	i := min(int(float64(len(s.v))*p/100), len(s.v)-1)
	return float64(s.v[i]) / 1e3
}

func result(label, figure string, value float64, unit string) {
	fmt.Printf("RESULT %s.%s %.6g %s\n", label, figure, value, unit)
}
