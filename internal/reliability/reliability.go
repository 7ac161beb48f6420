// Package reliability runs a game's traffic through the network simulator
// (adapters/sim) and checks what arrives: reliable messages exactly once
// and in order, sequenced ones never out of order, unsequenced ones
// counted, a flow complete with the right checksum, and every connection's
// end with a reason. Its tests run the matrix of conditions in short form;
// cmd/soak runs it for long.
package reliability

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gonetic/gonetic/adapters/enet"
	"github.com/gonetic/gonetic/adapters/sim"
	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/net/transport"
)

// Case is one cell of the matrix: an adapter under conditions.
type Case struct {
	Adapter string     // "enet" or "tcp"
	Sim     sim.Config // applied once, at the server: both directions
}

// Name is "adapter/conditions", e.g. "enet/lag=50ms,loss=5%".
func (c Case) Name() string { return c.Adapter + "/" + c.Sim.String() }

// conditions of the matrix, as the issue names them. Lag is one way.
var conditions = []string{
	"off", // the LAN
	"lag=50ms,loss=5%",
	"lag=100ms,jitter=30ms,loss=20%",
	"lag=10ms,loss=25%,dup=25%,reorder=25%",
	"rate=64KB/s,loss=20%",
}

// Matrix returns every condition on every adapter it applies to. Over TCP
// a condition loses what a byte stream cannot have (loss, duplicates,
// reordering); a condition left with nothing to apply is not run twice.
func Matrix() []Case {
	var cases []Case
	seen := map[string]bool{}
	for _, spec := range conditions {
		cfg, err := sim.Parse(spec)
		if err != nil {
			panic(err) // the table above is wrong
		}
		cases = append(cases, Case{Adapter: "enet", Sim: cfg})
		stream := sim.Config{Up: streamOnly(cfg.Up), Down: streamOnly(cfg.Down)}
		if s := stream.String(); !seen[s] && (s != "lag=10ms" || spec == "off") {
			seen[s] = true
			cases = append(cases, Case{Adapter: "tcp", Sim: stream})
		}
	}
	return cases
}

// streamOnly keeps what applies to a byte stream.
func streamOnly(c sim.Conditions) sim.Conditions {
	return sim.Conditions{Lag: c.Lag, Jitter: c.Jitter, Rate: c.Rate, Queue: c.Queue}
}

func newTransport(adapter string) (transport.Transport, error) {
	switch adapter {
	case "enet":
		return enet.New(nil)
	case "tcp":
		return tcp.New(tcp.Options{}), nil
	}
	return nil, fmt.Errorf("reliability: unknown adapter %q", adapter)
}

// Options size a run. The zero value is the short form.
type Options struct {
	// Duration is how long traffic flows before the run drains. Default 4 s.
	Duration time.Duration
	// Clients is how many clients connect. Default 2.
	Clients int
	// FlowBytes is the size of the flow the first client sends the server.
	// Default 128 KiB.
	FlowBytes int
	// Timeout is both ends' gnet.Config.Timeout. Default net's.
	Timeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.Duration <= 0 {
		o.Duration = 4 * time.Second
	}
	if o.Clients <= 0 {
		o.Clients = 2
	}
	if o.FlowBytes <= 0 {
		o.FlowBytes = 128 << 10
	}
	return o
}

// Tally counts one kind of message, summed over connections and
// directions.
type Tally struct {
	Sent, Delivered int
	Duplicates      int // arrived again
	Disorder        int // arrived after a later one (or, reliable, with a gap before it)
}

// Report is what a run saw.
type Report struct {
	Case        Case
	Took        time.Duration
	Reliable    Tally
	Sequenced   Tally
	Unsequenced Tally
	// LatencyP50 and LatencyP99 are the one-way latency of reliable
	// messages, both directions, measured in the one process.
	LatencyP50, LatencyP99 time.Duration
	FlowBytes              int
	FlowTook               time.Duration
	FlowErr                error // nil when the flow completed with the right checksum
	// Reasons are the reasons connections ended with, on both sides.
	Reasons []string
	Sim     sim.Stats

	violations []string
}

// Violations lists what broke the guarantees of each delivery mode, or of
// the run's ending; none in a good run.
func (r *Report) Violations() []string { return r.violations }

func (r *Report) violate(format string, args ...any) {
	r.violations = append(r.violations, fmt.Sprintf(format, args...))
}

// check adds the violations that the tallies show.
func (r *Report) check(clients int) {
	if t := r.Reliable; t.Delivered != t.Sent || t.Duplicates != 0 || t.Disorder != 0 {
		r.violate("reliable: %d of %d delivered, %d duplicated, %d out of order", t.Delivered, t.Sent, t.Duplicates, t.Disorder)
	}
	if t := r.Sequenced; t.Duplicates != 0 || t.Disorder != 0 || t.Delivered == 0 {
		r.violate("sequenced: %d of %d delivered, %d duplicated, %d out of order", t.Delivered, t.Sent, t.Duplicates, t.Disorder)
	}
	if r.Unsequenced.Delivered == 0 {
		r.violate("unsequenced: none of %d delivered", r.Unsequenced.Sent)
	}
	if r.FlowErr != nil {
		r.violate("flow: %v", r.FlowErr)
	}
	if len(r.Reasons) != 2*clients {
		r.violate("%d connection ends seen, want %d (both sides of %d)", len(r.Reasons), 2*clients, clients)
	}
	for _, why := range r.Reasons {
		if !strings.Contains(why, byeReason) {
			r.violate("a connection ended with %q, want the client's %q", why, byeReason)
		}
	}
}

// String is the report on one line.
func (r *Report) String() string {
	pct := func(t Tally) string {
		if t.Sent == 0 {
			return "-"
		}
		return fmt.Sprintf("%d/%d (%.1f%%)", t.Delivered, t.Sent, 100*float64(t.Delivered)/float64(t.Sent))
	}
	flow := "ok"
	if r.FlowErr != nil {
		flow = r.FlowErr.Error()
	}
	return fmt.Sprintf("%-44s reliable %s p50 %v p99 %v; sequenced %s; unsequenced %s; flow %d KiB in %v (%.0f KiB/s) %s",
		r.Case.Name(), pct(r.Reliable), r.LatencyP50.Round(100*time.Microsecond), r.LatencyP99.Round(100*time.Microsecond),
		pct(r.Sequenced), pct(r.Unsequenced), r.FlowBytes>>10, r.FlowTook.Round(time.Millisecond),
		float64(r.FlowBytes)/1024/max(r.FlowTook.Seconds(), 1e-9), flow)
}

// Run runs c's traffic for o.Duration, drains it, ends every connection
// and reports. It fails only when the run cannot be set up or ctx ends;
// what arrived wrong is in the report's Violations.
func Run(ctx context.Context, c Case, o Options) (*Report, error) {
	o = o.withDefaults()
	rep := &Report{Case: c}
	start := time.Now()
	g, err := newGame(c, o)
	if err != nil {
		return nil, err
	}
	defer g.close()
	if err := g.run(ctx, o, rep); err != nil {
		return nil, err
	}
	rep.Took = time.Since(start)
	rep.check(o.Clients)
	return rep, nil
}

// percentile returns the p-th percentile (0 to 1) of d, sorting it.
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[min(len(d)-1, int(p*float64(len(d))))]
}

var errFlowChecksum = errors.New("the handler's checksum differs from the sender's")

// flowResult is what the flow goroutine reports.
type flowResult struct {
	took time.Duration
	err  error
}
