// Command stream is two game servers in two processes: server A streams a
// world region (a million entities, about 100 MB) to server B over a flow;
// B applies it on its game loop and confirms. A shows a progress line and
// the throughput, and pings B with game messages meanwhile to show what
// the flow does to game latency. With -carrier nats, A and B join as
// nodes (package node) and all of it goes through NATS.
//
//	go run ./demo/stream -self                     # A here, B as a child process
//	go run ./demo/stream -role b                   # or B in one terminal …
//	go run ./demo/stream -role a                   # … and A in another
//
// See README.md for the flags.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gonetic/gonetic/adapters/enet"
	"github.com/gonetic/gonetic/adapters/flow"
	"github.com/gonetic/gonetic/adapters/sim"
	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/message"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/transport"
	"github.com/gonetic/gonetic/node"
)

// options are the command's flags.
type options struct {
	role      string
	self      bool
	addr      string
	flowAddr  string
	transport string
	carrier   string
	entities  int
	size      int
	typed     bool
	compress  string
	ping      time.Duration
	once      bool
	cost      time.Duration
	progress  bool
	sim       string
	nats      string      // NATS URLs, for -carrier nats; "": embedded servers
	cluster   string      // node.Config.Cluster, for -carrier nats
	flowCfg   flow.Config // -window, -chunk, -inflight: both servers
}

func main() {
	var o options
	flag.StringVar(&o.role, "role", "a", "a: stream the region; b: receive it")
	flag.BoolVar(&o.self, "self", false, "run B as a child process and A here, then exit")
	flag.StringVar(&o.addr, "addr", "127.0.0.1:7950", "B's game server address")
	flag.StringVar(&o.flowAddr, "flow-addr", "127.0.0.1:7951", "B's dedicated flow listener (TCP), for -carrier listener")
	flag.StringVar(&o.transport, "transport", "tcp", "network adapter of the game connection: tcp or enet")
	flag.StringVar(&o.carrier, "carrier", "station", "station: the flow shares the game connection; listener: B's dedicated flow listener; "+
		"nats: A and B join as nodes, the flow and the pings go through NATS")
	flag.StringVar(&o.nats, "nats", "", "with -carrier nats: the NATS servers to use (nats://host:4222, comma-separated); "+
		"empty: each process starts an embedded nats-server, clustered with the machine's others through "+node.LocalSeed)
	flag.StringVar(&o.cluster, "cluster", "", "with -carrier nats: the node cluster (node.Config.Cluster), to keep several runs apart on one NATS (empty: "+node.DefaultCluster+")")
	flag.IntVar(&o.entities, "entities", 1_000_000, "A: entities in the region, one packet each")
	flag.IntVar(&o.size, "size", 100, fmt.Sprintf("A: bytes per entity packet (at least %d)", minRecord))
	flag.BoolVar(&o.typed, "typed", false, "A: send entities as typed values (codec-encoded structs), not raw records")
	flag.StringVar(&o.compress, "compress", "none", "A: compression of the flow: none, s2 or zstd")
	flag.DurationVar(&o.ping, "ping", 10*time.Millisecond, "A: game ping interval over the game connection (0: no pings)")
	flag.BoolVar(&o.once, "once", false, "B: exit after the first region")
	flag.DurationVar(&o.cost, "cost", 0, "B: extra work per entity applied (a slow handler; A's memory stays bounded)")
	flag.BoolVar(&o.progress, "progress", true, "A: show the progress line")
	flag.StringVar(&o.sim, "sim", "", "play over a simulated network, e.g. lag=20ms,rate=10MB/s (keys in adapters/sim.Parse): "+
		"this process's game connection and flow listener or flow connection go through it, both ways; with -self, B's only "+
		"(once is enough); loss, dup, reorder and mtu need -transport enet")
	flag.IntVar(&o.flowCfg.Window, "window", 0, "flow credit window in bytes (0: flow.DefaultWindow)")
	flag.IntVar(&o.flowCfg.ChunkSize, "chunk", 0, "flow chunk size in bytes (0: the carrier's default)")
	flag.IntVar(&o.flowCfg.InFlight, "inflight", 0, "Station: bytes in flight per connection (0: flow.DefaultInFlight)")
	flag.IntVar(&o.flowCfg.Rate, "rate", 0, "bytes per second a connection's flows send (0: the carrier's default, -1: no limit)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch {
	case o.self:
		err = runSelf(ctx, o)
	case o.role == "a":
		err = runA(ctx, o, o.addr, o.flowAddr, os.Stdout)
	case o.role == "b":
		err = runB(ctx, o, os.Stdout)
	default:
		err = fmt.Errorf("-role %q: want a or b", o.role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "stream:", err)
		os.Exit(1)
	}
}

func (o options) check() error {
	if o.transport != "tcp" && o.transport != "enet" {
		return fmt.Errorf("-transport %q: want tcp or enet", o.transport)
	}
	if o.carrier != "station" && o.carrier != "listener" && o.carrier != "nats" {
		return fmt.Errorf("-carrier %q: want station, listener or nats", o.carrier)
	}
	if o.carrier == "nats" && o.sim != "" {
		return errors.New("-sim works on the game connection and the flow listener; with -carrier nats there are neither: drop -sim, or use -carrier station or listener")
	}
	if o.carrier == "nats" && o.transport != "tcp" {
		return fmt.Errorf("-transport %s is the game connection's adapter; with -carrier nats the nodes link over NATS: drop -transport", o.transport)
	}
	if o.size < minRecord {
		return fmt.Errorf("-size %d: at least %d", o.size, minRecord)
	}
	if _, err := compression(o.compress); err != nil {
		return err
	}
	return nil
}

func compression(name string) (flow.Compression, error) {
	for _, c := range []flow.Compression{flow.NoCompression, flow.S2, flow.Zstd} {
		if c.String() == name {
			return c, nil
		}
	}
	return 0, fmt.Errorf("-compress %q: want none, s2 or zstd", name)
}

// Ping is the game message A sends and B echoes.
type Ping struct {
	Seq  uint64
	Sent int64 // A's clock, in nanoseconds
}

// RegionHeader opens the flow.
type RegionHeader struct {
	Region   string
	Entities int
}

// Progress is what B reports mid-flow.
type Progress struct {
	Applied int
}

// Confirm is B's success value: what its game loop installed.
type Confirm struct {
	Entities  int
	Checksum  uint64
	WorldSize int
	Millis    int64
}

// newFactory is the game registry both servers use: the game's messages,
// then the flow frames.
func newFactory() *message.Factory {
	f := gnet.NewFactory()
	message.MustRegister[Ping](f)
	if err := flow.Register(f); err != nil {
		panic(err)
	}
	return f
}

func newTransport(name string) (transport.Transport, error) {
	if name == "enet" {
		return enet.New(nil)
	}
	return tcp.New(tcp.Options{}), nil
}

// simulate puts t under -sim's conditions, if any, and says which: it
// returns the transport to use and the Sim, nil without -sim.
func simulate(t transport.Transport, o options, out io.Writer) (transport.Transport, *sim.Sim, error) {
	w, s, err := sim.Simulate(t, o.sim)
	if err != nil {
		return nil, nil, fmt.Errorf("-sim: %w", err)
	}
	if s != nil {
		printf(out, "network simulator: %s\n", s)
	}
	return w, s, nil
}

// runSelf runs B as a child process, waits for it to listen, then runs A.
func runSelf(ctx context.Context, o options) error {
	if err := o.check(); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	// B's game server is put under -sim: that covers both ways.
	simSpec := o.sim
	o.sim = ""
	cmd := exec.CommandContext(ctx, exe, "-role", "b", "-once", "-sim", simSpec,
		"-addr", "127.0.0.1:0", "-flow-addr", "127.0.0.1:0",
		"-transport", o.transport, "-carrier", o.carrier, "-nats", o.nats, "-cluster", o.cluster,
		"-window", fmt.Sprint(o.flowCfg.Window), "-chunk", fmt.Sprint(o.flowCfg.ChunkSize),
		"-inflight", fmt.Sprint(o.flowCfg.InFlight), "-rate", fmt.Sprint(o.flowCfg.Rate), "-cost", o.cost.String())
	cmd.Stderr = os.Stderr
	cmd.Env = append(os.Environ(), childEnv+"=b")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start B: %w", err)
	}
	// A's progress line and B's lines share the terminal.
	term := &console{w: os.Stdout}
	lines := bufio.NewScanner(out)
	var game, fl string
	for lines.Scan() {
		if _, err := fmt.Sscanf(lines.Text(), "READY game=%s flow=%s", &game, &fl); err == nil {
			break
		}
		printf(term, "B| %s\n", lines.Text())
	}
	if game == "" {
		_ = cmd.Wait()
		return errors.New("process B exited before it was ready")
	}
	forwarded := make(chan struct{})
	go func() {
		defer close(forwarded)
		for lines.Scan() {
			printf(term, "B| %s\n", lines.Text())
		}
	}()
	err = runA(ctx, o, game, fl, term)
	if err != nil {
		_ = cmd.Process.Signal(os.Interrupt)
	}
	wait := make(chan error, 1)
	go func() { <-forwarded; wait <- cmd.Wait() }()
	select {
	case werr := <-wait:
		if err == nil && werr != nil {
			err = fmt.Errorf("process B: %w", werr)
		}
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-wait
		if err == nil {
			err = errors.New("process B did not exit after the region")
		}
	}
	return err
}

// childEnv marks the child process of -self (for tests that re-execute
// their own binary).
const childEnv = "GONETIC_STREAM_CHILD"

// printf writes a line, ignoring errors (a closed pipe ends the run
// elsewhere).
func printf(w io.Writer, format string, args ...any) {
	_, _ = fmt.Fprintf(w, format, args...)
}

// console is a terminal shared by A's progress line, which each write
// rewrites from its start ("\r…" without a newline), and whole lines, from
// A and from B's output: a line ends the progress line first, so that it
// is not printed onto it, and the next progress write starts a new one
// below. A write of "\n" ends the progress line, if one is on the screen.
type console struct {
	mu     sync.Mutex // guards w and inLine
	w      io.Writer
	inLine bool // a progress line is on the screen, not ended
}

func (c *console) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(p) == 0 || string(p) == "\n" && !c.inLine {
		return len(p), nil
	}
	if c.inLine && p[0] != '\r' && p[0] != '\n' {
		if _, err := io.WriteString(c.w, "\n"); err != nil {
			return 0, err
		}
	}
	c.inLine = p[0] == '\r' && p[len(p)-1] != '\n'
	return c.w.Write(p)
}

// ints formats n with thousands separators.
func ints(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
