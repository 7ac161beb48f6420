package reliability

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/gonetic/gonetic/adapters/flow"
	"github.com/gonetic/gonetic/adapters/sim"
	"github.com/gonetic/gonetic/message"
	gnet "github.com/gonetic/gonetic/net"
)

// The suite's messages. Sent is nanoseconds since the game started, in
// the one process that runs both ends.
type (
	// Chat is reliable, both ways, 30 a second per connection each way.
	Chat struct {
		Seq  uint64
		Sent int64
	}
	// Snap is the server's sequenced snapshot, 30 a second per client.
	Snap struct {
		Tick  uint64
		World []byte
	}
	// Input is the client's sequenced input, 60 a second.
	Input struct{ Seq uint64 }
	// Ping is unsequenced, from the client, 60 a second.
	Ping struct{ Seq uint64 }
)

const (
	byeReason  = "done"
	clientHz   = 60
	serverHz   = 30
	worldBytes = 200
	flowPacket = 1024
)

// Bounds of the phases of a run, generous for a noisy machine and for
// 20 % loss at 100 ms of lag.
const (
	connectWithin = 30 * time.Second
	// handshakeWithin is the handshake timeout at both ends, under
	// connectWithin: at 20 % loss each way and a 200 ms round trip (ENet's
	// connect, then hello and welcome, each resent after losses) a
	// handshake past the default 10 s ends the connection for good. One
	// loaded run did not connect within 30 s; its cause was not seen (the
	// error now says each client's state).
	handshakeWithin = 25 * time.Second
	drainWithin     = 60 * time.Second
	endWithin       = 30 * time.Second
)

func newFactory() (*message.Factory, error) {
	f := gnet.NewFactory()
	seq, unseq := message.Deliver(message.Sequenced), message.Deliver(message.Unsequenced)
	return f, errors.Join(
		reg[Chat](f),
		reg[Snap](f, message.Channel(1), seq, message.SentBy(message.ServerToClient)),
		reg[Input](f, message.Channel(1), seq, message.SentBy(message.ClientToServer)),
		reg[Ping](f, message.Channel(2), unseq, message.SentBy(message.ClientToServer)),
		flow.Register(f),
	)
}

// game is one run: a server under the simulator and its clients, polled
// from one loop as in a single-process game, plus a flow.
type game struct {
	start   time.Time
	sim     *sim.Sim
	srv     *gnet.Server
	sst     *flow.Station
	cli     *gnet.Client
	cst     *flow.Station
	clients []*clientConn

	mu      sync.Mutex // guards servers: NewHandler may run on an adapter goroutine
	servers []*serverConn

	handlerEnded chan error // what the server's flow handler saw last
}

// counts are one side's view of one connection.
type counts struct {
	chatSent  uint64 // reliable sent; the last Seq
	chat      seqIn
	seqSent   uint64
	seq       seqIn
	unseqSent uint64
	unseq     int
	latency   []time.Duration
	ended     string // the reason it ended with, once it did
}

// seqIn checks the numbers a receiver sees, from 1 up.
type seqIn struct {
	last                 uint64
	got, dup, disordered int
}

// reliable sees n where exactly last+1 is right.
func (s *seqIn) reliable(n uint64) {
	switch {
	case n == s.last+1:
		s.got, s.last = s.got+1, n
	case n <= s.last:
		s.dup++
	default: // a gap: some were lost, or come later
		s.got, s.last, s.disordered = s.got+1, n, s.disordered+1
	}
}

// sequenced sees n where anything above last is right.
func (s *seqIn) sequenced(n uint64) {
	switch {
	case n > s.last:
		s.got, s.last = s.got+1, n
	case n == s.last:
		s.dup++
	default:
		s.disordered++
	}
}

func (c *counts) hasEnded() bool { return c.ended != "" }

func (c *counts) end(reason error) {
	c.ended = "(nil)"
	if reason != nil {
		c.ended = reason.Error()
	}
}

type serverConn struct {
	gnet.Handler
	g *game
	counts
}

func (h *serverConn) NetChat(m Chat) {
	h.chat.reliable(m.Seq)
	h.latency = append(h.latency, h.g.since(m.Sent))
}
func (h *serverConn) NetInput(m Input)          { h.seq.sequenced(m.Seq) }
func (h *serverConn) NetPing(Ping)              { h.unseq++ }
func (h *serverConn) OnDisconnect(reason error) { h.end(reason) }

type clientConn struct {
	gnet.Handler
	g    *game
	conn *gnet.Conn
	counts
}

func (h *clientConn) NetChat(m Chat) {
	h.chat.reliable(m.Seq)
	h.latency = append(h.latency, h.g.since(m.Sent))
}
func (h *clientConn) NetSnap(m Snap)            { h.seq.sequenced(m.Tick) }
func (h *clientConn) OnDisconnect(reason error) { h.end(reason) }

func (g *game) since(sent int64) time.Duration { return time.Since(g.start) - time.Duration(sent) }
func (g *game) now() int64                     { return int64(time.Since(g.start)) }

func newGame(c Case, o Options) (*game, error) {
	g := &game{start: time.Now(), handlerEnded: make(chan error, 1)}
	fs, err := newFactory()
	if err != nil {
		return nil, err
	}
	fc, _ := newFactory()
	if g.sim, err = sim.New(c.Sim); err != nil {
		return nil, err
	}
	st, err := newTransport(c.Adapter)
	if err != nil {
		return nil, err
	}
	wrapped, err := g.sim.Wrap(st)
	if err != nil {
		return nil, err
	}
	g.srv, err = gnet.Listen(gnet.ServerConfig{
		Config: gnet.Config{Factory: fs, Transport: wrapped, Timeout: o.Timeout, HandshakeTimeout: handshakeWithin},
		NewHandler: func() any {
			h := &serverConn{g: g}
			g.mu.Lock()
			g.servers = append(g.servers, h)
			g.mu.Unlock()
			return h
		},
	})
	if err != nil {
		return nil, err
	}
	if g.sst, err = flow.Attach(g.srv, fs, flow.Config{}); err != nil {
		g.close()
		return nil, err
	}
	g.sst.HandleFunc("blob", func(f *flow.Flow, _ *flow.Reply) (any, error) {
		sum := fnv.New64a()
		for p, err := range f.Packets() {
			if err != nil {
				g.handlerEnded <- err
				return nil, err
			}
			sum.Write(p.Bytes())
		}
		g.handlerEnded <- nil
		return sum.Sum64(), nil
	})
	ct, err := newTransport(c.Adapter)
	if err != nil {
		g.close()
		return nil, err
	}
	if g.cli, err = gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: fc, Transport: ct, Timeout: o.Timeout, HandshakeTimeout: handshakeWithin}}); err != nil {
		g.close()
		return nil, err
	}
	if g.cst, err = flow.Attach(g.cli, fc, flow.Config{}); err != nil {
		g.close()
		return nil, err
	}
	for range o.Clients {
		h := &clientConn{g: g}
		if h.conn, err = g.cli.Connect(g.srv.Addr(), h); err != nil {
			g.close()
			return nil, err
		}
		g.clients = append(g.clients, h)
	}
	return g, nil
}

func (g *game) close() {
	for _, st := range []*flow.Station{g.cst, g.sst} {
		if st != nil {
			st.Close()
		}
	}
	if g.cli != nil {
		g.cli.Close()
	}
	if g.srv != nil {
		g.srv.Close()
	}
}

// update polls both ends once, as one frame of the loop.
func (g *game) update() {
	_ = g.srv.Update(0)
	_ = g.cli.Update(time.Millisecond)
}

// until runs frames until done, or fails after within.
func (g *game) until(ctx context.Context, what string, within time.Duration, done func() bool, frame func()) error {
	end := time.Now().Add(within)
	for !done() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if time.Now().After(end) {
			return fmt.Errorf("reliability: %s: not within %v", what, within)
		}
		g.update()
		if frame != nil {
			frame()
		}
	}
	return nil
}

func (g *game) run(ctx context.Context, o Options, rep *Report) error {
	if err := g.until(ctx, "connecting", connectWithin, func() bool {
		for _, c := range g.clients {
			if !c.conn.Connected() {
				return false
			}
		}
		return g.srv.NumConns() == len(g.clients)
	}, nil); err != nil {
		for i, c := range g.clients {
			if !c.conn.Connected() {
				err = fmt.Errorf("%w; client %d is %v", err, i, c.conn.State())
			}
		}
		return fmt.Errorf("%w; the server has %d of %d", err, g.srv.NumConns(), len(g.clients))
	}

	// Traffic, with a flow beside it.
	flowDone := make(chan flowResult, 1)
	fctx, cancel := context.WithTimeout(ctx, o.Duration+drainWithin)
	defer cancel()
	go func() { flowDone <- g.sendFlow(fctx, o.FlowBytes) }()
	var nextClient, nextServer time.Time
	stop := time.Now().Add(o.Duration)
	g.until(ctx, "traffic", o.Duration+time.Minute, func() bool { return time.Now().After(stop) }, func() {
		now := time.Now()
		if !now.Before(nextClient) {
			g.clientTick()
			nextClient = later(nextClient, now, time.Second/clientHz)
		}
		if !now.Before(nextServer) {
			g.serverTick()
			nextServer = later(nextServer, now, time.Second/serverHz)
		}
	})

	// Drain: every reliable message and the flow arrive.
	var fr flowResult
	flowEnded := false
	drained := func() bool {
		if !flowEnded {
			select {
			case fr = <-flowDone:
				flowEnded = true
			default:
			}
		}
		return flowEnded && g.reliableDelivered()
	}
	if err := g.until(ctx, "draining", drainWithin, drained, nil); err != nil && ctx.Err() != nil {
		return err
	} else if err != nil {
		rep.violate("%v: reliable messages or the flow still missing", err)
		cancel()
		if !flowEnded {
			fr = <-flowDone
		}
	}
	rep.FlowBytes, rep.FlowTook, rep.FlowErr = o.FlowBytes, fr.took, fr.err

	// The end: every client leaves with a reason both sides see.
	for _, c := range g.clients {
		c.conn.Disconnect(byeReason)
	}
	if err := g.until(ctx, "ending", endWithin, g.allEnded, nil); err != nil {
		if ctx.Err() != nil {
			return err
		}
		rep.violate("%v", err)
	}
	g.tally(rep)
	return nil
}

// later is the next tick after prev, period apart, skipping those missed.
func later(prev, now time.Time, period time.Duration) time.Time {
	if next := prev.Add(period); next.After(now) {
		return next
	}
	return now.Add(period)
}

// clientTick sends what a client sends each frame; a full queue only
// skips a message (it is not counted as sent).
func (g *game) clientTick() {
	for _, c := range g.clients {
		if c.conn.Send(&Input{Seq: c.seqSent + 1}) == nil {
			c.seqSent++
		}
		if c.conn.Send(&Ping{Seq: c.unseqSent + 1}) == nil {
			c.unseqSent++
		}
		if c.seqSent%2 == 0 && c.conn.Send(&Chat{Seq: c.chatSent + 1, Sent: g.now()}) == nil {
			c.chatSent++
		}
	}
}

func (g *game) serverTick() {
	world := make([]byte, worldBytes)
	for _, h := range g.serverConns() {
		c := h.Conn()
		if c == nil || !c.Connected() {
			continue
		}
		if c.Send(&Snap{Tick: h.seqSent + 1, World: world}) == nil {
			h.seqSent++
		}
		if c.Send(&Chat{Seq: h.chatSent + 1, Sent: g.now()}) == nil {
			h.chatSent++
		}
	}
}

func (g *game) serverConns() []*serverConn {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.servers)
}

func (g *game) reliableDelivered() bool {
	var sentUp, gotUp, sentDown, gotDown uint64
	for _, c := range g.clients {
		sentUp += c.chatSent
		gotDown += uint64(c.chat.got)
	}
	for _, h := range g.serverConns() {
		sentDown += h.chatSent
		gotUp += uint64(h.chat.got)
	}
	return sentUp == gotUp && sentDown == gotDown
}

func (g *game) allEnded() bool {
	for _, c := range g.clients {
		if !c.hasEnded() {
			return false
		}
	}
	for _, h := range g.serverConns() {
		if !h.hasEnded() {
			return false
		}
	}
	return true
}

// sendFlow sends n pseudo-random bytes to the server's "blob" handler,
// which returns their checksum.
func (g *game) sendFlow(ctx context.Context, n int) flowResult {
	start := time.Now()
	sum := fnv.New64a()
	rng := rand.NewChaCha8([32]byte{7})
	packets := func(yield func([]byte) bool) {
		for left := n; left > 0; left -= flowPacket {
			p := make([]byte, min(left, flowPacket))
			rng.Read(p)
			sum.Write(p)
			if !yield(p) {
				return
			}
		}
	}
	final, err := flow.Wait(flow.Call(ctx, g.cst.Over(g.clients[0].conn), flow.Request{Name: "blob"}, packets))
	if err == nil {
		var got uint64
		if err = final.Decode(&got); err == nil && got != sum.Sum64() {
			err = errFlowChecksum
		}
	}
	return flowResult{took: time.Since(start), err: err}
}

// tally sums both sides into rep.
func (g *game) tally(rep *Report) {
	var lat []time.Duration
	received := func(c *counts) {
		rep.Reliable.Delivered += c.chat.got
		rep.Reliable.Duplicates += c.chat.dup
		rep.Reliable.Disorder += c.chat.disordered
		rep.Sequenced.Delivered += c.seq.got
		rep.Sequenced.Duplicates += c.seq.dup
		rep.Sequenced.Disorder += c.seq.disordered
		rep.Unsequenced.Delivered += c.unseq
		lat = append(lat, c.latency...)
		if c.hasEnded() {
			rep.Reasons = append(rep.Reasons, c.ended)
		}
	}
	sent := func(c *counts) {
		rep.Reliable.Sent += int(c.chatSent)
		rep.Sequenced.Sent += int(c.seqSent)
		rep.Unsequenced.Sent += int(c.unseqSent)
	}
	for _, h := range g.serverConns() {
		received(&h.counts)
		sent(&h.counts)
	}
	for _, c := range g.clients {
		received(&c.counts)
		sent(&c.counts)
	}
	rep.LatencyP50, rep.LatencyP99 = percentile(lat, 0.5), percentile(lat, 0.99)
	rep.Sim = g.sim.Stats()
}

// reg registers T, for errors.Join.
func reg[T any](f *message.Factory, opts ...message.Option) error {
	_, err := message.Register[T](f, opts...)
	return err
}
