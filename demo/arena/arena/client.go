package arena

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/gonetic/gonetic/game"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/transport"
)

// ClientConfig configures Dial. The zero value of every field but Name
// means its documented default.
type ClientConfig struct {
	// Addr is the server's address. Default DefaultAddr.
	Addr string
	// Name is the player's name (see CleanName).
	Name string
	// Transport is the network adapter; the server's must be the same.
	// Default TCP.
	Transport transport.Transport
	// Bot, if set, plays instead of the keyboard: Frame's keys are
	// ignored. For headless clients.
	Bot *Bot
	// Seed makes the Bot's choices repeatable. Default 1.
	Seed uint64

	// Applied, if set, is called with each input's Seq and the predicted
	// state after it, when Frame applies it. For tests.
	Applied func(seq uint32, s State)
	// Rendered, if set, is called every Frame with the server time the
	// others were rendered at (Interpolator.Rendered: ServerTime − Delay)
	// and them. For tests and measurements; others is reused by the next
	// Frame.
	Rendered func(at time.Time, others []Player)
}

// Client is one player's connection to the arena: it predicts its own
// player (game.Predictor), interpolates the others (game.Interpolator)
// and sends one Input per tick (game.Schedule). A frame loop (an Ebiten
// Game.Update, or a headless loop) calls Frame every frame.
//
// A Client belongs to the goroutine that calls Frame: every method must be
// called from it.
type Client struct {
	cfg    ClientConfig
	client *gnet.Client
	conn   *gnet.Conn
	rng    *rand.Rand

	id     uint32
	roster map[uint32]Entry
	pred   *game.Predictor[State, Keys]
	interp *game.Interpolator[[]Player]
	ticks  *game.Schedule
	score  uint32
	err    error     // why the connection ended
	before State     // the predicted state before the last tick's input
	tickAt time.Time // when the last tick was due

	others  []Player // rendered this frame, without us
	lerped  []Player // Lerp's result, reused
	seenBuf []Seen   // seen's result, reused
	arrive  [64]time.Time
	nsnap   int // snapshots received
	graph   Graph
}

// Dial connects to the server and joins; it returns once the server
// welcomed the player, or ctx's error, or why the connection failed.
func Dial(ctx context.Context, cfg ClientConfig) (*Client, error) {
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	c := &Client{cfg: cfg, roster: map[uint32]Entry{}, rng: rand.New(rand.NewPCG(cfg.Seed, 7))}
	var err error
	c.interp, err = game.NewInterpolator(game.InterpolatorConfig[[]Player]{Lerp: c.lerp})
	if err != nil {
		return nil, err
	}
	c.client, err = gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: NewFactory(), Transport: cfg.Transport}})
	if err != nil {
		return nil, err
	}
	c.conn, err = c.client.Dial(ctx, cfg.Addr, &clientHandler{c: c})
	if err != nil {
		c.client.Close()
		return nil, err
	}
	if err := c.conn.Send(&Join{Name: cfg.Name}); err != nil {
		c.client.Close()
		return nil, err
	}
	for c.ticks == nil {
		if c.err == nil && ctx.Err() == nil {
			if err := c.client.Update(50 * time.Millisecond); err != nil {
				c.err = err
			}
			continue
		}
		c.client.Close()
		if c.err != nil {
			return nil, c.err
		}
		return nil, ctx.Err()
	}
	return c, nil
}

// Close leaves the game, saying "quit", within ctx.
func (c *Client) Close(ctx context.Context) error {
	return c.client.Shutdown(ctx, "quit")
}

// ErrGone is wrapped by Frame's error once the connection has ended.
var ErrGone = errors.New("arena: disconnected")

// Frame runs one frame: the network (handlers: snapshots reach the
// Interpolator, acknowledgements the Predictor), then one Input per tick
// due (keys, or the Bot's choice), predicted at once, then the others at
// the render time. It never blocks. It returns why once the connection
// ended.
func (c *Client) Frame(now time.Time, keys Keys) error {
	if err := c.client.Update(0); err != nil {
		return fmt.Errorf("%w: %w", ErrGone, err)
	}
	if c.err != nil {
		return fmt.Errorf("%w: %w", ErrGone, c.err)
	}
	for t, ok := c.ticks.Due(now); ok; t, ok = c.ticks.Due(now) {
		c.before, c.tickAt = c.pred.State(), t.At
		k := keys
		if c.cfg.Bot != nil {
			k = c.cfg.Bot.Decide(c.id, c.pred.State(), c.seen(), c.rng)
		}
		seq, s := c.pred.Apply(k)
		if err := c.conn.Send(&Input{Seq: seq, Keys: k}); err != nil {
			return fmt.Errorf("%w: %w", ErrGone, err)
		}
		if c.cfg.Applied != nil {
			c.cfg.Applied(seq, s)
		}
	}
	st := c.conn.ServerTime()
	c.others = c.others[:0]
	if all, ok := c.interp.At(st); ok {
		for _, p := range all {
			if p.ID != c.id {
				c.others = append(c.others, p)
			}
		}
	}
	if c.cfg.Rendered != nil {
		c.cfg.Rendered(c.interp.Rendered(), c.others)
	}
	c.graph.sample(now, c.conn.Stats().RTT, c.interp.Stats().Jitter)
	return nil
}

// seen is what the Bot sees: the others as rendered.
func (c *Client) seen() []Seen {
	c.seenBuf = c.seenBuf[:0]
	for _, p := range c.others {
		c.seenBuf = append(c.seenBuf, Seen{p.ID, State{X: float64(p.X), Y: float64(p.Y), It: p.It}})
	}
	return c.seenBuf
}

// ID is our player's id.
func (c *Client) ID() uint32 { return c.id }

// Me is our player as predicted, and its score.
func (c *Client) Me() (State, uint32) { return c.pred.State(), c.score }

// Smooth is our player where a window draws it at now: between the
// predicted states before and after the last tick's input, by how far
// now is into the tick. Frames come at 60 Hz and ticks at 30, so without
// it the player would move every other frame. It trails the prediction
// by at most a tick; a correction from the server shows at once.
func (c *Client) Smooth(now time.Time) State {
	s := c.pred.State()
	f := float64(now.Sub(c.tickAt)) / float64(c.ticks.Interval())
	if f >= 1 || f < 0 {
		return s
	}
	d := c.before
	d.X += f * (s.X - c.before.X)
	d.Y += f * (s.Y - c.before.Y)
	if math.Abs(s.X-d.X) > 2*ItSpeed || math.Abs(s.Y-d.Y) > 2*ItSpeed {
		return s // a correction moved us further than a tick: no slide
	}
	d.It = s.It
	return d
}

// Others are the other players this client sees, as rendered by the last
// Frame; the slice is reused by the next.
func (c *Client) Others() []Player { return c.others }

// Name is the name of the player id ("?" before the roster has it).
func (c *Client) Name(id uint32) string {
	if e, ok := c.roster[id]; ok {
		return e.Name
	}
	return "?"
}

// Players is the number of players in the arena, bots included.
func (c *Client) Players() int { return len(c.roster) }

// Conn is the connection to the server.
func (c *Client) Conn() *gnet.Conn { return c.conn }

// HUD is what the window's heads-up display shows.
type HUD struct {
	RTT      time.Duration // gonetic's ping round trip
	Clock    gnet.Clock    // the server clock estimate (Conn.Clock)
	SnapRate int           // snapshots received in the last second
	Delay    time.Duration // the interpolation delay
	Jitter   time.Duration // of the snapshots' arrival
	Pending  int           // inputs not yet acknowledged
	Snaps    int           // snapshots received
}

// HUD returns the figures of the moment.
func (c *Client) HUD(now time.Time) HUD {
	rate := 0
	for _, t := range c.arrive {
		if !t.IsZero() && now.Sub(t) <= time.Second {
			rate++
		}
	}
	return HUD{
		RTT:      c.conn.Stats().RTT,
		Clock:    c.conn.Clock(),
		SnapRate: rate,
		Delay:    c.interp.Delay(),
		Jitter:   c.interp.Stats().Jitter,
		Pending:  c.pred.Pending(),
		Snaps:    c.nsnap,
	}
}

// Graph returns the latency and jitter history, oldest first.
func (c *Client) Graph() *Graph { return &c.graph }

// lerp is the Interpolator's Lerp: players in both snapshots move
// between them. One in b only (it just came into view) is rendered from
// b on, where it is; one in a only has left the view. Both are sorted by
// ID (NetSnapshot sorts them).
func (c *Client) lerp(a, b []Player, f float64) []Player {
	out := c.lerped[:0]
	i := 0
	for _, q := range b {
		for i < len(a) && a[i].ID < q.ID {
			i++
		}
		switch {
		case i < len(a) && a[i].ID == q.ID:
			p := a[i]
			q.X = p.X + float32(f)*(q.X-p.X)
			q.Y = p.Y + float32(f)*(q.Y-p.Y)
		case f < 1:
			continue
		}
		out = append(out, q)
	}
	c.lerped = out
	return out
}

// clientHandler is the client's handler: one method per message the
// server sends, run inside Client.Update.
type clientHandler struct {
	gnet.Handler
	c *Client
}

func (h *clientHandler) NetWelcome(m Welcome) {
	c := h.c
	if c.ticks != nil {
		return
	}
	c.id = m.ID
	c.pred, c.err = game.NewPredictor(State{X: m.X, Y: m.Y, It: m.It}, Step, 0)
	c.ticks, _ = game.NewSchedule(time.Now(), time.Second/time.Duration(max(1, m.TickRate)))
}

func (h *clientHandler) NetRoster(m Roster) {
	clear(h.c.roster)
	for _, e := range m.Players {
		h.c.roster[e.ID] = e
	}
}

// NetYou takes the server's word for our player: the Predictor replays the
// inputs the server has not applied yet on top of it.
func (h *clientHandler) NetYou(m You) {
	if h.c.pred == nil {
		return
	}
	h.c.pred.Reconcile(m.Ack, State{X: m.X, Y: m.Y, It: m.It})
	h.c.score = m.Score
}

func (h *clientHandler) NetSnapshot(m Snapshot) {
	c := h.c
	slices.SortFunc(m.Players, func(a, b Player) int { return cmpU32(a.ID, b.ID) })
	now := time.Now()
	c.arrive[c.nsnap%len(c.arrive)] = now
	c.nsnap++
	c.interp.Add(time.Unix(0, m.At), c.conn.ServerTime(), m.Players)
}

func (h *clientHandler) OnDisconnect(reason error) {
	h.c.err = reason
}

// Graph keeps a sample of the round trip and the snapshots' jitter every
// GraphStep over the last GraphSpan, for the HUD's live graph.
type Graph struct {
	RTT, Jitter [GraphSpan / GraphStep]time.Duration // a ring
	n           int                                  // samples taken
	next        time.Time
}

// The graph's span and resolution.
const (
	GraphSpan = 10 * time.Second
	GraphStep = 100 * time.Millisecond
)

func (g *Graph) sample(now time.Time, rtt, jitter time.Duration) {
	if now.Before(g.next) {
		return
	}
	g.next = now.Add(GraphStep)
	i := g.n % len(g.RTT)
	g.RTT[i], g.Jitter[i] = rtt, jitter
	g.n++
}

// Len is the number of samples kept.
func (g *Graph) Len() int { return min(g.n, len(g.RTT)) }

// At returns sample i, 0 the oldest kept.
func (g *Graph) At(i int) (rtt, jitter time.Duration) {
	j := (g.n - g.Len() + i) % len(g.RTT)
	return g.RTT[j], g.Jitter[j]
}

// StatusLine is the HUD as one line of text, for a terminal: "ann: at
// (1200,640) score 12, bot3 is it; rtt 0.31 ms, offset +0.02 ms ±0.15 ms,
// 30 snapshots/s, delay 48 ms, 7 in view".
func StatusLine(c *Client, name string, now time.Time) string {
	me, score := c.Me()
	h := c.HUD(now)
	it := "nobody"
	if me.It {
		it = "you are"
	} else {
		for _, p := range c.Others() {
			if p.It {
				it = c.Name(p.ID) + " is"
			}
		}
		if it == "nobody" {
			it = "someone out of view is"
		}
	}
	return fmt.Sprintf("%s: at (%.0f,%.0f) score %d, %s it; rtt %s, offset %s ±%s, %d snapshots/s, delay %s, %d in view",
		name, me.X, me.Y, score, it, ms(h.RTT), signedMS(h.Clock.Offset), ms(h.Clock.Uncertainty), h.SnapRate, ms(h.Delay), len(c.Others()))
}

// ms formats a duration in milliseconds, two decimals.
func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }

func signedMS(d time.Duration) string { return fmt.Sprintf("%+.2f ms", float64(d)/1e6) }

// Bot reports whether player id is a server-side bot.
func (c *Client) Bot(id uint32) bool { return c.roster[id].Bot }
