package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gonetic/gonetic/adapters/enet"
	"github.com/gonetic/gonetic/adapters/sim"
	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/message"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/transport"
)

// The churn's messages. Every one is reliable and ordered on channel 0 (the
// registry's default), so every relay a member was sent must arrive, once,
// in the order the server numbered them.
type (
	// Hello names the player, so that the server can tell a silent
	// player when its connection ended.
	Hello struct{ Player uint64 }
	// Chat is a player's line, relayed to every other member.
	Chat struct {
		Seq  uint32
		Text string
	}
	// Relay is a Chat as the server sends it on, numbered: G grows by one
	// per chat the server relays, to all members at once.
	Relay struct {
		G      uint64
		Player uint64
		Seq    uint32
		Text   string
	}
	// Leave asks the server to stop relaying to the player.
	Leave struct{}
	// Left answers Leave, after every relay the player was sent: Sent is
	// how many there were.
	Left struct{ Sent uint64 }
)

func churnFactory() *message.Factory {
	f := gnet.NewFactory()
	message.MustRegister[Hello](f, message.Name("hello"), message.SentBy(message.ClientToServer))
	message.MustRegister[Chat](f, message.Name("chat_msg"), message.SentBy(message.ClientToServer))
	message.MustRegister[Relay](f, message.Name("chat_relay"), message.SentBy(message.ServerToClient))
	message.MustRegister[Leave](f, message.Name("leave"), message.SentBy(message.ClientToServer))
	message.MustRegister[Left](f, message.Name("left"), message.SentBy(message.ServerToClient))
	return f
}

// How a player ends.
const (
	endBye    = iota // Leave, Left, then Disconnect with a reason
	endClose         // Client.Close: no bye, the link just ends
	endSilent        // the network goes dark and the client stops calling Update
)

// churnConfig is one churn phase.
type churnConfig struct {
	adapter  string        // "enet" or "tcp"
	cond     string        // the sim spec each client's link goes through
	clients  int           // most players at once
	life     time.Duration // a player's mean time connected
	chats    int           // chats a player sends in its life
	rampRate int           // new players a second at most
	d        time.Duration // how long new players keep coming
	timeout  time.Duration // gnet Config.Timeout on both ends (silent players)
	every    time.Duration // sampling interval
	// memProfile, when set, is where the heap profile goes at the end of
	// the phase, with every player still in.
	memProfile string
}

// churnResult is what a phase counted.
type churnResult struct {
	cfg                              churnConfig
	started, connected, connectFails int64
	ends                             [3]int64 // players by how they ended
	chatsSent, relays                int64    // chats sent by players; relays sent by the server
	relaysReceived, missed, dups     int64    // at the players that left with a bye
	disorder                         int64    // relays out of the server's order
	foreign                          int64    // relays from before the player joined: another connection's
	details                          []string // the first disorders
	leaveUnanswered                  int64    // Leave without Left in time
	sendRefused                      int64    // server Sends that failed (a silent player's full queue)
	serverReasons                    map[string]int
	clientReasons                    map[string]int
	noReason                         int64 // disconnects without a reason, either side
	failures                         []string
	samples                          []sample
	base, after                      sample // before the server started; after everything closed
	simStats                         sim.Stats
	rcvbufErrors                     int64 // UDP datagrams the kernel dropped, machine-wide, during the phase
}

// server is the churn's chat server: its state is the game loop's only.
type server struct {
	srv     *gnet.Server
	members map[*gnet.Conn]*member
	g       uint64
	res     *churnResult
	mu      sync.Mutex // guards gone and reasons, written by the loop, read by players
	gone    map[uint64]chan struct{}
	reasons map[string]int
	relayed atomic.Int64
	refused atomic.Int64
	noWhy   atomic.Int64
}

type member struct {
	player uint64
	sent   uint64
	hello  bool
}

type serverConn struct {
	gnet.Handler
	s *server
}

func (h *serverConn) OnConnect() {
	h.s.members[h.Conn()] = &member{}
}

func (h *serverConn) NetHello(m Hello) {
	if mb := h.s.members[h.Conn()]; mb != nil {
		mb.player, mb.hello = m.Player, true
	}
}

func (h *serverConn) NetChatMsg(m Chat) {
	s := h.s
	mb := s.members[h.Conn()]
	if mb == nil {
		return
	}
	s.g++
	r := Relay{G: s.g, Player: mb.player, Seq: m.Seq, Text: m.Text}
	for c, to := range s.members {
		if c == h.Conn() {
			continue
		}
		if err := c.Send(&r); err != nil {
			s.refused.Add(1)
			continue
		}
		to.sent++
		s.relayed.Add(1)
	}
}

func (h *serverConn) NetLeave(Leave) {
	mb := h.s.members[h.Conn()]
	if mb == nil {
		return
	}
	delete(h.s.members, h.Conn())
	if err := h.Conn().Send(&Left{Sent: mb.sent}); err != nil {
		h.s.refused.Add(1)
	}
}

func (h *serverConn) OnDisconnect(reason error) {
	s := h.s
	mb := s.members[h.Conn()]
	delete(s.members, h.Conn())
	why := reasonKey(reason)
	if why == "" {
		s.noWhy.Add(1)
	}
	s.mu.Lock()
	s.reasons[why]++
	if mb != nil && mb.hello {
		if ch := s.gone[mb.player]; ch != nil {
			close(ch)
			delete(s.gone, mb.player)
		}
	}
	s.mu.Unlock()
}

var (
	reAddr   = regexp.MustCompile(`\d+\.\d+\.\d+\.\d+:\d+`)
	reNumber = regexp.MustCompile(`\d+(\.\d+)?(ms|s|µs)?`)
)

// reasonKey is a disconnect reason with its addresses and numbers taken
// out, so that reasons can be counted; "" when there is none: neither a
// reason text nor an error.
func reasonKey(reason error) string {
	var de *gnet.DisconnectError
	if reason == nil || (errors.As(reason, &de) && de.Reason == "" && de.Err == nil) {
		return ""
	}
	k := reason.Error()
	k = reAddr.ReplaceAllString(k, "ADDR")
	k = reNumber.ReplaceAllString(k, "N")
	if len(k) > 100 {
		k = k[:100] + "…"
	}
	return k
}

// transportFor returns the adapter a phase uses, under cond when cond is
// not empty, with the Sim it goes through.
func transportFor(adapter, cond string, server bool) (transport.Transport, *sim.Sim, error) {
	var t transport.Transport
	switch adapter {
	case "enet":
		var opts *enet.Options
		if server {
			opts = &enet.Options{PeerLimit: enet.MaxPeerLimit}
		}
		e, err := enet.New(opts)
		if err != nil {
			return nil, nil, err
		}
		t = e
	case "tcp":
		t = tcp.New(tcp.Options{})
	default:
		return nil, nil, fmt.Errorf("unknown adapter %q: enet or tcp", adapter)
	}
	if cond == "" {
		return t, nil, nil
	}
	cfg, err := sim.Parse(cond)
	if err != nil {
		return nil, nil, err
	}
	s, err := sim.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	w, err := s.Wrap(t)
	if err != nil {
		return nil, nil, err
	}
	return w, s, nil
}

// silence is what a silent player's Sim turns to: nothing gets through,
// for a while longer than any timeout.
func silence(adapter string) sim.Config {
	if adapter == "enet" {
		return sim.Both(sim.Conditions{Loss: 1})
	}
	return sim.Both(sim.Conditions{Lag: time.Hour}) // a stream loses nothing; it can be late
}

// churn runs one phase: a server, and players that come, chat and go.
func churn(ctx context.Context, cfg churnConfig, log func(string)) *churnResult {
	res := &churnResult{cfg: cfg, serverReasons: map[string]int{}, clientReasons: map[string]int{}}
	fail := func(format string, args ...any) {
		res.failures = append(res.failures, fmt.Sprintf(format, args...))
	}
	res.base = settle(sampleNow(0), 0, 0)
	rcvbuf0 := udpRcvbufErrors()

	tr, _, err := transportFor(cfg.adapter, "", true)
	if err != nil {
		fail("%s server: %v", cfg.adapter, err)
		return res
	}
	s := &server{members: map[*gnet.Conn]*member{}, res: res, gone: map[uint64]chan struct{}{}, reasons: map[string]int{}}
	srv, err := gnet.Listen(gnet.ServerConfig{
		Config: gnet.Config{
			Factory: churnFactory(), Transport: tr,
			HandshakeTimeout: 30 * time.Second, Timeout: cfg.timeout,
		},
		MaxConns:   cfg.clients + 64,
		NewHandler: func() any { return &serverConn{s: s} },
	})
	if err != nil {
		fail("%s server: %v", cfg.adapter, err)
		return res
	}
	s.srv = srv
	loopDone := make(chan struct{})
	var conns atomic.Int64
	go func() {
		defer close(loopDone)
		for srv.Update(5*time.Millisecond) == nil {
			conns.Store(int64(srv.NumConns()))
		}
	}()

	var (
		stats playerStats
		next  atomic.Uint64
	)
	stats.reasons = map[string]int{}

	// The sampler.
	stopSampling := make(chan struct{})
	samplerDone := make(chan struct{})
	t0 := time.Now()
	var playing atomic.Int64
	go func() {
		defer close(samplerDone)
		tick := time.NewTicker(cfg.every)
		defer tick.Stop()
		for {
			select {
			case <-stopSampling:
				return
			case <-tick.C:
				sm := sampleNow(time.Since(t0))
				sm.conns = int(conns.Load())
				sm.players = int(playing.Load())
				sm.relays = s.relayed.Load()
				sm.arrived = stats.arrived.Load()
				res.samples = append(res.samples, sm)
				log(sm.row())
			}
		}
	}()

	// The players.
	var wg sync.WaitGroup
	slots := make(chan struct{}, cfg.clients)
	stopping := make(chan struct{}) // players leave (with a bye) now
	spawnCtx, cancel := context.WithTimeout(ctx, cfg.d)
	ramp := time.NewTicker(time.Second / time.Duration(max(cfg.rampRate, 1)))
spawn:
	for {
		select {
		case <-spawnCtx.Done():
			break spawn
		case slots <- struct{}{}:
		}
		select {
		case <-spawnCtx.Done():
			<-slots
			break spawn
		case <-ramp.C:
		}
		id := next.Add(1)
		p := &player{id: id, cfg: cfg, srvAddr: srv.Addr(), s: s, stats: &stats, stopping: stopping,
			rnd: rand.New(rand.NewPCG(id, 17))}
		wg.Add(1)
		playing.Add(1)
		go func() {
			defer func() { <-slots; playing.Add(-1); wg.Done() }()
			p.run()
		}()
	}
	ramp.Stop()
	cancel()
	if cfg.memProfile != "" {
		writeHeapProfile(cfg.memProfile, log)
	}
	log(fmt.Sprintf("# %s: no new players; %d playing leave now", cfg.adapter, playing.Load()))
	close(stopping)
	waited := make(chan struct{})
	go func() { wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(cfg.timeout + 2*time.Minute):
		fail("%d players did not end within %v of being told to leave", playing.Load(), cfg.timeout+2*time.Minute)
	}
	sctx, scancel := context.WithTimeout(context.Background(), 90*time.Second)
	if err := srv.Shutdown(sctx, "soak over"); err != nil {
		fail("server Shutdown: %v", err)
	}
	scancel()
	<-loopDone
	close(stopSampling)
	<-samplerDone
	res.rcvbufErrors = udpRcvbufErrors() - rcvbuf0
	res.after = settle(sampleNow(time.Since(t0)), res.base.goroutines, res.base.fds)

	// Counts.
	res.started = int64(next.Load())
	res.connected = stats.connected.Load()
	res.connectFails = stats.connectFails.Load()
	for i := range res.ends {
		res.ends[i] = stats.ends[i].Load()
	}
	res.chatsSent = stats.chats.Load()
	res.relays = s.relayed.Load()
	res.relaysReceived = stats.received.Load()
	res.missed = stats.missed.Load()
	res.dups = stats.dups.Load()
	res.disorder = stats.disorder.Load()
	res.foreign = stats.foreign.Load()
	res.details = stats.details
	res.leaveUnanswered = stats.leaveUnanswered.Load()
	res.sendRefused = s.refused.Load()
	res.noReason = s.noWhy.Load() + stats.noReason.Load()
	res.serverReasons = s.reasons
	res.clientReasons = stats.reasons
	res.simStats = stats.sim
	for _, f := range stats.failures {
		fail("%s", f)
	}
	if res.connectFails > 0 {
		fail("%d handshakes did not complete", res.connectFails)
	}
	if res.noReason > 0 {
		fail("%d disconnects without a reason", res.noReason)
	}
	if res.missed > 0 || res.dups > 0 || res.disorder > 0 || res.foreign > 0 {
		fail("reliable chat: %d missed, %d duplicated, %d out of order, %d from another connection", res.missed, res.dups, res.disorder, res.foreign)
	}
	if res.leaveUnanswered > 0 {
		fail("%d Leaves unanswered", res.leaveUnanswered)
	}
	return res
}

// playerStats are the players' counts, shared.
type playerStats struct {
	connected, connectFails                 atomic.Int64
	ends                                    [3]atomic.Int64
	chats, received, missed, dups, disorder atomic.Int64
	leaveUnanswered, noReason               atomic.Int64
	arrived                                 atomic.Int64 // relays received by any player, as they arrive
	foreign                                 atomic.Int64 // relays numbered before the player's first: another connection's
	details                                 []string     // the first disorders, in detail; guarded by mu
	mu                                      sync.Mutex   // guards reasons, failures and sim
	reasons                                 map[string]int
	failures                                []string
	sim                                     sim.Stats // every player's paths, summed as they end
}

func (ps *playerStats) fail(format string, args ...any) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if len(ps.failures) < 20 {
		ps.failures = append(ps.failures, fmt.Sprintf(format, args...))
	}
}

func (ps *playerStats) detail(format string, args ...any) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if len(ps.details) < 20 {
		ps.details = append(ps.details, fmt.Sprintf(format, args...))
	}
}

func (ps *playerStats) addSim(s *sim.Sim) {
	st := s.Stats()
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for _, d := range []struct{ to, from *sim.PathStats }{{&ps.sim.Up, &st.Up}, {&ps.sim.Down, &st.Down}} {
		d.to.Packets += d.from.Packets
		d.to.Bytes += d.from.Bytes
		d.to.Lost += d.from.Lost
		d.to.Overflow += d.from.Overflow
		d.to.TooLarge += d.from.TooLarge
		d.to.Duplicated += d.from.Duplicated
		d.to.Reordered += d.from.Reordered
		d.to.Delivered += d.from.Delivered
	}
}

// player is one client: its own gonetic Client, transport and Sim.
type player struct {
	id       uint64
	cfg      churnConfig
	srvAddr  string
	s        *server
	stats    *playerStats
	stopping <-chan struct{}
	rnd      *rand.Rand

	// The connection's handler state, the player goroutine's.
	open     bool
	ended    error
	received uint64
	lastG    uint64
	firstG   uint64    // the first relay received
	joined   time.Time // when the handshake completed
	left     *Left
}

func (p *player) OnConnect() { p.open = true }

func (p *player) OnDisconnect(reason error) {
	p.ended = reason
	if reason == nil {
		p.ended = errors.New("") // still ended
	}
}

func (p *player) NetChatRelay(r Relay) {
	p.received++
	p.stats.arrived.Add(1)
	if p.firstG == 0 {
		p.firstG = r.G
	}
	switch {
	case r.G == p.lastG:
		p.stats.dups.Add(1)
	case r.G < p.firstG:
		// Relayed before this connection was a member: sent to another
		// connection.
		p.stats.foreign.Add(1)
		p.stats.detail("player %d: relay %d from before its first, %d (last %d, %d received, %v in)",
			p.id, r.G, p.firstG, p.lastG, p.received, time.Since(p.joined).Round(time.Millisecond))
	case r.G < p.lastG:
		p.stats.disorder.Add(1)
		p.stats.detail("player %d: relay %d after %d (first %d, %d received, %v in)",
			p.id, r.G, p.lastG, p.firstG, p.received, time.Since(p.joined).Round(time.Millisecond))
	}
	p.lastG = max(p.lastG, r.G)
}

func (p *player) NetLeft(l Left) { p.left = &l }

func (p *player) run() {
	tr, sm, err := transportFor(p.cfg.adapter, p.cfg.cond, false)
	if err != nil {
		p.stats.fail("player %d: %v", p.id, err)
		p.stats.connectFails.Add(1)
		return
	}
	cli, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{
		Factory: churnFactory(), Transport: tr,
		HandshakeTimeout: 30 * time.Second, Timeout: p.cfg.timeout,
	}})
	if err != nil {
		p.stats.fail("player %d: %v", p.id, err)
		p.stats.connectFails.Add(1)
		return
	}
	defer cli.Close()
	if sm != nil {
		defer p.stats.addSim(sm)
	}
	// Until the handshake ends, or fails.
	conn, err := cli.Connect(p.srvAddr, p)
	if err != nil {
		p.stats.fail("player %d: connect: %v", p.id, err)
		p.stats.connectFails.Add(1)
		return
	}
	for !p.open && p.ended == nil {
		if err := cli.Update(10 * time.Millisecond); err != nil {
			p.stats.fail("player %d: Update: %v", p.id, err)
			return
		}
	}
	if !p.open {
		p.stats.fail("player %d: handshake: %v", p.id, p.ended)
		p.stats.connectFails.Add(1)
		return
	}
	p.stats.connected.Add(1)
	p.joined = time.Now()
	_ = conn.Send(&Hello{Player: p.id})

	// The life: chats at random times, then an end of the chosen kind.
	life := time.Duration(float64(p.cfg.life) * (0.5 + p.rnd.Float64()))
	end := endBye
	switch x := p.rnd.IntN(100); {
	case x < 10:
		end = endClose
	case x < 20:
		end = endSilent
	}
	start := time.Now()
	chatAt := make([]time.Duration, p.cfg.chats)
	for i := range chatAt {
		chatAt[i] = time.Duration(p.rnd.Int64N(int64(life)))
	}
	sort.Slice(chatAt, func(i, j int) bool { return chatAt[i] < chatAt[j] })
	var seq uint32
	stopped := false
	for time.Since(start) < life && p.ended == nil && !stopped {
		select {
		case <-p.stopping:
			stopped, end = true, endBye
		default:
		}
		for len(chatAt) > 0 && time.Since(start) >= chatAt[0] {
			chatAt = chatAt[1:]
			seq++
			if err := conn.Send(&Chat{Seq: seq, Text: fmt.Sprintf("player %d says hello, line %d", p.id, seq)}); err == nil {
				p.stats.chats.Add(1)
			}
		}
		if err := cli.Update(20 * time.Millisecond); err != nil {
			p.stats.fail("player %d: Update: %v", p.id, err)
			return
		}
	}
	if p.ended != nil { // the server ended it: counted, not expected
		p.reason(p.ended)
		st := conn.Stats()
		p.stats.fail("player %d: disconnected by the server after %v: %v (rtt %v, link rtt %v, link loss %.0f %%, %d messages in, %d out)",
			p.id, time.Since(start).Round(time.Second), p.ended, st.RTT.Round(time.Millisecond), st.LinkRTT, 100*st.PacketLoss, st.MessagesReceived, st.MessagesSent)
		return
	}
	p.stats.ends[end].Add(1)
	switch end {
	case endClose:
		return // the deferred Close
	case endSilent:
		p.s.mu.Lock()
		gone := make(chan struct{})
		p.s.gone[p.id] = gone
		p.s.mu.Unlock()
		if sm != nil {
			_ = sm.Set(silence(p.cfg.adapter))
		}
		// No Update from now on; the server's timeout ends it.
		select {
		case <-gone:
		case <-time.After(p.cfg.timeout + time.Minute):
			p.stats.fail("player %d went silent and the server did not end it within %v", p.id, p.cfg.timeout+time.Minute)
		}
		return
	}
	// A bye: everything relayed to us first, then Disconnect with a reason.
	if err := conn.Send(&Leave{}); err != nil {
		p.stats.fail("player %d: send Leave: %v", p.id, err)
		return
	}
	deadline := time.Now().Add(p.cfg.timeout + 30*time.Second)
	for p.left == nil && p.ended == nil && time.Now().Before(deadline) {
		if err := cli.Update(20 * time.Millisecond); err != nil {
			p.stats.fail("player %d: Update: %v", p.id, err)
			return
		}
	}
	switch {
	case p.left == nil:
		p.stats.leaveUnanswered.Add(1)
		st := conn.Stats()
		p.stats.fail("player %d: no answer to Leave (received %d relays): %v (rtt %v, link rtt %v, link loss %.0f %%)",
			p.id, p.received, p.ended, st.RTT.Round(time.Millisecond), st.LinkRTT, 100*st.PacketLoss)
	case p.received < p.left.Sent:
		p.stats.missed.Add(int64(p.left.Sent - p.received))
	}
	p.stats.received.Add(int64(p.received))
	conn.Disconnect("leaving: the soak's churn")
	for p.ended == nil && time.Now().Before(deadline) {
		if err := cli.Update(20 * time.Millisecond); err != nil {
			p.stats.fail("player %d: Update: %v", p.id, err)
			return
		}
	}
	if p.ended == nil {
		p.stats.fail("player %d: Disconnect did not end the connection in time", p.id)
		return
	}
	p.reason(p.ended)
}

func (p *player) reason(err error) {
	k := reasonKey(err)
	if k == "" {
		p.stats.noReason.Add(1)
	}
	p.stats.mu.Lock()
	p.stats.reasons[k]++
	p.stats.mu.Unlock()
}

// reasonTable lists counted reasons, most frequent first.
func reasonTable(m map[string]int) string {
	type kv struct {
		k string
		n int
	}
	var rows []kv
	for k, n := range m {
		rows = append(rows, kv{k, n})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].n > rows[j].n || rows[i].n == rows[j].n && rows[i].k < rows[j].k })
	var b strings.Builder
	for _, r := range rows {
		k := r.k
		if k == "" {
			k = "(no reason)"
		}
		fmt.Fprintf(&b, "    %6d  %s\n", r.n, k)
	}
	return b.String()
}

func writeHeapProfile(path string, log func(string)) {
	f, err := os.Create(path)
	if err != nil {
		log("# heap profile: " + err.Error())
		return
	}
	defer f.Close()
	runtime.GC() // the profile's in-use figures are as of the last GC
	if err := pprof.WriteHeapProfile(f); err != nil {
		log("# heap profile: " + err.Error())
		return
	}
	log("# heap profile written to " + path)
}
