package arena

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/gonetic/gonetic/demo/internal/transports"
	"github.com/gonetic/gonetic/game"
)

// MeasureConfig configures Measure.
type MeasureConfig struct {
	// Transport is "tcp" (the default) or "enet", for the server and the
	// clients.
	Transport string
	// Sim puts the server's transport under simulated conditions
	// (adapters/sim.Parse), which every client feels both ways.
	Sim string
	// Bots are the server's bots, Clients the headless network clients
	// (each with its own connection and Bot, in this process). Clients
	// defaults to 1.
	Bots, Clients int
	// Duration is how long the clients play once all have joined.
	// Default 5 s.
	Duration time.Duration
	// Warmup is left out of the interpolation error and the rates, while
	// the interpolation delay settles. Default 1 s.
	Warmup time.Duration
	// Everyone turns interest management off (ServerConfig.Everyone).
	Everyone bool
}

// Report is what Measure found. Positions are in world units (a player
// moves 300 a second, Speed a tick).
type Report struct {
	Config   MeasureConfig
	Ticks    int
	TickWork Quantiles // the server's work per tick: step, encode, send
	// BytesPerClient is what each client received, per second (every
	// message and its framing, as the adapter counts it); SnapsPerClient
	// the snapshots.
	BytesPerClient, SnapsPerClient float64

	// Prediction: each input's predicted state against the server's after
	// the same input. Exact ones are bit for bit equal; the others follow
	// a tag of that player (less than PredictWindow before the server
	// applied the input: "it" runs faster), or are Unexplained.
	Inputs, Exact, AfterTag, Unexplained int
	MaxAfterTag, MaxUnexplained          float64

	// Interpolation: every other player each client rendered, against the
	// server's position at the same server time (its history, interpolated
	// between ticks).
	Rendered  int
	InterpErr QuantilesF
	// Frames are the clients' Frame calls (network, input, prediction,
	// interpolation; no drawing), and Visible the other players a frame
	// rendered, on average.
	Frame   Quantiles
	Visible float64
}

// PredictWindow is how long after a tag of a player a misprediction of
// it is expected: until the client hears of the tag (a round trip and
// the input queue), with a wide margin.
const PredictWindow = time.Second

// Quantiles of durations.
type Quantiles struct {
	N             int
	P50, P99, Max time.Duration
}

// QuantilesF of distances.
type QuantilesF struct {
	N             int
	P50, P99, Max float64
}

func quantiles(d []time.Duration) Quantiles {
	if len(d) == 0 {
		return Quantiles{}
	}
	slices.Sort(d)
	q := func(p float64) time.Duration { return d[min(len(d)-1, int(p*float64(len(d))))] }
	return Quantiles{N: len(d), P50: q(.5), P99: q(.99), Max: d[len(d)-1]}
}

func quantilesF(d []float64) QuantilesF {
	if len(d) == 0 {
		return QuantilesF{}
	}
	slices.Sort(d)
	q := func(p float64) float64 { return d[min(len(d)-1, int(p*float64(len(d))))] }
	return QuantilesF{N: len(d), P50: q(.5), P99: q(.99), Max: d[len(d)-1]}
}

func (q Quantiles) String() string {
	return fmt.Sprintf("p50 %v, p99 %v, max %v (n=%d)", q.P50, q.P99, q.Max, q.N)
}

func (q QuantilesF) String() string {
	return fmt.Sprintf("p50 %.4f, p99 %.4f, max %.4f (n=%d)", q.P50, q.P99, q.Max, q.N)
}

// history is the server's authoritative record.
type history struct {
	mu      sync.Mutex // guards everything: written on the server's loop, read at the end
	ticks   []worldAt
	applied map[[2]uint32]appliedAt // (player, seq) → state after it
	tagged  map[uint32][]uint64     // player → ticks it was tagged or tagged someone
	work    []time.Duration
	lastIt  uint32
}

type worldAt struct {
	tick uint64
	at   time.Time
	pos  map[uint32][2]float64
}

type appliedAt struct {
	s    State
	tick uint64
}

// sample is one other player as a client rendered it.
type sample struct {
	at   time.Time
	id   uint32
	x, y float64
}

type clientRecord struct {
	id       uint32
	applied  map[uint32]State
	samples  [][]sample // in chunks, so that recording never copies what it has (it runs inside the frames measured)
	frames   []time.Duration
	visible  int    // others rendered, after the warmup
	vframes  int    // frames rendered, after the warmup
	bytes    uint64 // received after the warmup
	snaps    int
	measured time.Duration
	err      error
}

// Measure runs a server with cfg.Bots bots and cfg.Clients headless
// clients in this process, over real sockets on 127.0.0.1, records the
// server's authoritative history and what each client predicted and
// rendered, and compares them.
func Measure(ctx context.Context, cfg MeasureConfig) (*Report, error) {
	if cfg.Clients == 0 {
		cfg.Clients = 1
	}
	if cfg.Duration == 0 {
		cfg.Duration = 5 * time.Second
	}
	if cfg.Warmup == 0 {
		cfg.Warmup = time.Second
	}
	str, _, err := transports.Open(cfg.Transport, cfg.Sim)
	if err != nil {
		return nil, err
	}
	ctr, err := transports.New(cfg.Transport)
	if err != nil {
		return nil, err
	}

	var world *World // set before the server runs
	h := &history{applied: map[[2]uint32]appliedAt{}, tagged: map[uint32][]uint64{}}
	srv, err := NewServer(ServerConfig{
		Addr: "127.0.0.1:0", Transport: str, Bots: cfg.Bots, Everyone: cfg.Everyone,
		Ticked: func(t game.Tick, w *World, work time.Duration) {
			pos := make(map[uint32][2]float64, len(w.Actors()))
			for _, a := range w.Actors() {
				pos[a.ID] = [2]float64{a.State.X, a.State.Y}
			}
			h.mu.Lock()
			defer h.mu.Unlock()
			h.ticks = append(h.ticks, worldAt{tick: w.Tick(), at: t.At, pos: pos})
			h.work = append(h.work, work)
			if it := w.It(); it != h.lastIt {
				h.tagged[it] = append(h.tagged[it], w.Tick())
				h.tagged[h.lastIt] = append(h.tagged[h.lastIt], w.Tick())
				h.lastIt = it
			}
		},
		Applied: func(a *Actor, seq uint32) {
			h.mu.Lock()
			h.applied[[2]uint32{a.ID, seq}] = appliedAt{a.State, world.Tick()}
			h.mu.Unlock()
		},
	})
	if err != nil {
		return nil, err
	}
	world = srv.World()
	sctx, stopServer := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		err := srv.Run(sctx)
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(cctx) // clients that stayed are told why
		served <- err
	}()
	defer func() {
		stopServer()
		<-served
	}()

	// Each client on its own goroutine, as each would be its own program.
	recs := make([]*clientRecord, cfg.Clients)
	var joined, done sync.WaitGroup
	joined.Add(cfg.Clients)
	play, stopPlay := context.WithCancel(ctx)
	defer stopPlay()
	start := make(chan time.Time)
	for i := range recs {
		r := &clientRecord{applied: map[uint32]State{}, frames: make([]time.Duration, 0, 1<<14)}
		recs[i] = r
		done.Add(1)
		go func() {
			defer done.Done()
			r.err = runClient(play, r, ClientConfig{
				Addr: srv.Addr(), Name: fmt.Sprintf("headless%d", i+1), Transport: ctr,
				Bot: &Bot{}, Seed: uint64(i + 1),
			}, &joined, start, cfg.Warmup)
		}()
	}
	joined.Wait()
	t0 := time.Now()
	for range recs {
		start <- t0
	}
	select {
	case <-time.After(cfg.Duration):
	case <-ctx.Done():
	}
	stopPlay()
	done.Wait()
	stopServer()
	if err := <-served; err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	served <- nil // for the deferred receive
	for _, r := range recs {
		if r.err != nil {
			return nil, r.err
		}
	}
	return h.report(cfg, recs, t0.Add(cfg.Warmup)), nil
}

// runClient joins, waits for start, plays until ctx is done, and leaves.
func runClient(ctx context.Context, r *clientRecord, cfg ClientConfig, joined *sync.WaitGroup, start <-chan time.Time, warmup time.Duration) error {
	var warm time.Time
	cfg.Applied = func(seq uint32, s State) { r.applied[seq] = s }
	cfg.Rendered = func(at time.Time, others []Player) {
		if time.Now().Before(warm) {
			return
		}
		r.visible += len(others)
		r.vframes++
		for _, p := range others {
			if n := len(r.samples); n == 0 || len(r.samples[n-1]) == cap(r.samples[n-1]) {
				r.samples = append(r.samples, make([]sample, 0, 4096))
			}
			last := &r.samples[len(r.samples)-1]
			*last = append(*last, sample{at, p.ID, float64(p.X), float64(p.Y)})
		}
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	c, err := Dial(dctx, cfg)
	cancel()
	joined.Done()
	t0 := <-start
	if err != nil {
		return fmt.Errorf("%s: %w", cfg.Name, err)
	}
	r.id = c.ID()
	warm = t0.Add(warmup)
	var b0 uint64
	snaps0 := 0
	err = Play(ctx, c, func(took time.Duration) {
		if b0 == 0 && time.Now().After(warm) {
			b0, snaps0 = c.Conn().Stats().BytesReceived, c.HUD(time.Now()).Snaps
		}
		r.frames = append(r.frames, took)
	})
	r.bytes = c.Conn().Stats().BytesReceived - b0
	r.snaps = c.HUD(time.Now()).Snaps - snaps0
	r.measured = time.Since(warm)
	cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if cerr := c.Close(cctx); cerr != nil && !errors.Is(cerr, context.DeadlineExceeded) {
		_ = cerr // the server may be gone first; leaving is best effort
	}
	if err != nil {
		return fmt.Errorf("%s: %w", cfg.Name, err)
	}
	return nil
}

func (h *history) report(cfg MeasureConfig, recs []*clientRecord, warm time.Time) *Report {
	h.mu.Lock()
	defer h.mu.Unlock()
	rep := &Report{Config: cfg, Ticks: len(h.ticks), TickWork: quantiles(h.work)}
	window := uint64(PredictWindow / (time.Second / TickRate))
	var frames []time.Duration
	var errs []float64
	nframes := 0
	for _, r := range recs {
		secs := r.measured.Seconds()
		if secs > 0 {
			rep.BytesPerClient += float64(r.bytes) / secs / float64(len(recs))
			rep.SnapsPerClient += float64(r.snaps) / secs / float64(len(recs))
		}
		for seq, p := range r.applied {
			a, ok := h.applied[[2]uint32{r.id, seq}]
			if !ok {
				continue // sent as the client stopped
			}
			rep.Inputs++
			d := math.Hypot(p.X-a.s.X, p.Y-a.s.Y)
			switch {
			case d == 0 && p.It == a.s.It:
				rep.Exact++
			case h.taggedBefore(r.id, a.tick, window):
				rep.AfterTag++
				rep.MaxAfterTag = max(rep.MaxAfterTag, d)
			default:
				rep.Unexplained++
				rep.MaxUnexplained = max(rep.MaxUnexplained, d)
			}
		}
		for _, chunk := range r.samples {
			for _, s := range chunk {
				if x, y, ok := h.at(s.id, s.at); ok {
					errs = append(errs, math.Hypot(s.x-x, s.y-y))
				}
			}
		}
		frames = append(frames, r.frames...)
		nframes += r.vframes
		rep.Visible += float64(r.visible)
	}
	rep.Rendered = len(errs)
	rep.InterpErr = quantilesF(errs)
	rep.Frame = quantiles(frames)
	if nframes > 0 {
		rep.Visible /= float64(nframes)
	}
	_ = warm
	return rep
}

// taggedBefore reports whether player id was tagged, or tagged someone,
// within window ticks before tick.
func (h *history) taggedBefore(id uint32, tick, window uint64) bool {
	for _, t := range h.tagged[id] {
		if t <= tick && tick-t <= window {
			return true
		}
	}
	return false
}

// at is player id's position at server time t, interpolated between the
// ticks around it; false outside the history or where the player is not in
// both ticks.
func (h *history) at(id uint32, t time.Time) (x, y float64, ok bool) {
	i, _ := slices.BinarySearchFunc(h.ticks, t, func(w worldAt, t time.Time) int { return w.at.Compare(t) })
	if i == 0 || i >= len(h.ticks) {
		return 0, 0, false
	}
	a, b := h.ticks[i-1], h.ticks[i]
	pa, oka := a.pos[id]
	pb, okb := b.pos[id]
	if !oka || !okb {
		return 0, 0, false
	}
	f := float64(t.Sub(a.at)) / float64(b.at.Sub(a.at))
	return pa[0] + f*(pb[0]-pa[0]), pa[1] + f*(pb[1]-pa[1]), true
}

// String is the report as a few lines.
func (r *Report) String() string {
	interest := "interest on"
	if r.Config.Everyone {
		interest = "interest off"
	}
	tr := r.Config.Transport
	if tr == "" {
		tr = "tcp"
	}
	return fmt.Sprintf(`arena %s, %d bots, %d clients, %v, %s:
  server tick work: %v over %d ticks
  per client: %.0f B/s received, %.1f snapshots/s
  prediction: %d inputs, %d exact, %d after a tag (max %.2f), %d unexplained (max %.2f)
  interpolation error: %v units, over %d rendered positions
  client frame (no drawing): %v, %.1f others rendered a frame`,
		tr, r.Config.Bots, r.Config.Clients, r.Config.Duration, interest,
		r.TickWork, r.Ticks, r.BytesPerClient, r.SnapsPerClient,
		r.Inputs, r.Exact, r.AfterTag, r.MaxAfterTag, r.Unexplained, r.MaxUnexplained,
		r.InterpErr, r.Rendered, r.Frame, r.Visible)
}
