package node_test

// Failure behaviour of nodes on a three-server NATS cluster (issue 21):
// a server that stops, a flow cut by it, a node that dies, a small
// max_payload, a node that restarts.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/flow"
	"github.com/gonetic/gonetic/internal/natstest"
	"github.com/gonetic/gonetic/node"
	"github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"
)

// peerEvent is one OnPeer call.
type peerEvent struct {
	at, peer string // the node told, the node it was told of
	epoch    uint64
	joined   bool
	reason   string
	when     time.Time
}

func (e peerEvent) String() string {
	if e.joined {
		return e.at + ": +" + e.peer
	}
	return e.at + ": -" + e.peer + " (" + e.reason + ")"
}

// eventLog records the OnPeer calls of every node of a cluster, so that a
// test can wait for a state of all of them, and check the whole history.
type eventLog struct {
	mu      sync.Mutex
	evs     []peerEvent
	changed chan struct{} // closed, and replaced, at each event
}

func newEventLog() *eventLog { return &eventLog{changed: make(chan struct{})} }

func (l *eventLog) add(e peerEvent) {
	l.mu.Lock()
	l.evs = append(l.evs, e)
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
}

// snapshot is the events so far and a channel closed at the next.
func (l *eventLog) snapshot() ([]peerEvent, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.evs, l.changed
}

// waitFor waits until ok holds for the events, and returns them.
func (l *eventLog) waitFor(t *testing.T, what string, ok func([]peerEvent) bool) []peerEvent {
	t.Helper()
	deadline := time.After(wait)
	for {
		evs, changed := l.snapshot()
		if ok(evs) {
			return evs
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("no %s within %v; events:\n%s", what, wait, eventList(evs))
		}
	}
}

func evsNow(l *eventLog) []peerEvent {
	evs, _ := l.snapshot()
	return evs
}

func eventList(evs []peerEvent) string {
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "  %s\n", e)
	}
	return b.String()
}

// linked reports whether, in evs, at has peer joined now (its last event
// of peer is a join).
func linked(evs []peerEvent, at, peer string) bool {
	up := false
	for _, e := range evs {
		if e.at == at && e.peer == peer {
			up = e.joined
		}
	}
	return up
}

// allLinked reports whether every node of names has every other joined.
func allLinked(names ...string) func([]peerEvent) bool {
	return func(evs []peerEvent) bool {
		for _, a := range names {
			for _, b := range names {
				if a != b && !linked(evs, a, b) {
					return false
				}
			}
		}
		return true
	}
}

// cluster is three nats-servers routed on loopback and three nodes,
// n1, n2 and n3; node i connects first to server i (DontRandomize), then
// to the next ones in turn.
type cluster struct {
	servers []*server.Server
	nodes   []*member
	log     *eventLog
	// reconnected[i] gets the server name each time node i's heartbeat
	// and link connection (Node.NATS) reconnects.
	reconnected []chan string
	// base[i] is node i's configuration, for a restart.
	base []option
}

func newCluster(t *testing.T, sopts []natstest.Option, opts ...option) *cluster {
	t.Helper()
	c := &cluster{servers: natstest.Cluster(t, 3, sopts...), log: newEventLog()}
	for i := range 3 {
		name := fmt.Sprintf("n%d", i+1)
		var urls []string
		for k := range 3 {
			urls = append(urls, c.servers[(i+k)%3].ClientURL())
		}
		rc := make(chan string, 16)
		c.reconnected = append(c.reconnected, rc)
		base := func(cfg *node.Config) {
			cfg.URLs = urls
			cfg.NATSOptions = []natsgo.Option{
				natsgo.DontRandomize(),
				// Replaces node's own handler, which only logs. The
				// connection's name tells the heartbeat one ("… ctl")
				// from the flows' one ("… bulk").
				natsgo.ReconnectHandler(func(nc *natsgo.Conn) {
					if strings.HasSuffix(nc.Opts.Name, " ctl") {
						select {
						case rc <- nc.ConnectedServerName():
						default:
						}
					}
				}),
			}
			cfg.OnPeer = func(p node.Peer, joined bool, reason string) {
				c.log.add(peerEvent{at: name, peer: p.Name, epoch: p.Epoch, joined: joined, reason: reason, when: time.Now()})
			}
		}
		all := append([]option{base}, opts...)
		c.base = append(c.base, func(cfg *node.Config) {
			for _, o := range all {
				o(cfg)
			}
		})
		c.nodes = append(c.nodes, join(t, name, all...))
	}
	c.log.waitFor(t, "full mesh of links", allLinked("n1", "n2", "n3"))
	for i, m := range c.nodes {
		if got, want := m.NATS().ConnectedServerName(), c.servers[i].Name(); got != want {
			t.Fatalf("%s is on %s, want %s (its first URL)", m.Name(), got, want)
		}
	}
	return c
}

// deliver sends Chats from a to b until one arrives, and returns when it
// did. A Chat lost with its link (frames lost in a NATS failover break
// the link at both ends, which OnPeer tells) is sent again once the link
// is back; so is one refused with ErrNoNode meanwhile. It returns how
// many sends it took.
func (c *cluster) deliver(t *testing.T, a, b *member) int {
	t.Helper()
	deadline := time.After(wait)
	for k := 1; ; k++ {
		evs, _ := c.log.snapshot()
		mark := len(evs)
		text := fmt.Sprintf("%s-to-%s-%d", a.Name(), b.Name(), k)
		if err := a.Send(b.Name(), &Chat{text}); err != nil {
			if !errors.Is(err, node.ErrNoNode) {
				t.Logf("%s: Send to %s: %v (sent again once linked)", a.Name(), b.Name(), err)
			}
		} else {
			for arrived, broke := false, false; !arrived && !broke; {
				evs, changed := c.log.snapshot()
				for _, e := range evs[mark:] {
					if !e.joined && (e.at == a.Name() && e.peer == b.Name() || e.at == b.Name() && e.peer == a.Name()) {
						broke = true
					}
				}
				select {
				case got := <-b.got:
					arrived = got == a.Name()+":"+text // else an earlier one's
				case <-changed:
				case <-deadline:
					t.Fatalf("%s never got a Chat from %s within %v; events:\n%s", b.Name(), a.Name(), wait, eventList(evs))
				}
				if arrived {
					return k
				}
			}
		}
		// Lost or refused: wait until the link is back at both ends.
		// A loss is always reported (the break is found by the next
		// frame, or by the adapter's PeerTimeout); a refusal came after
		// a report, and the join follows it.
		c.log.waitFor(t, fmt.Sprintf("link %s-%s again", a.Name(), b.Name()), func(evs []peerEvent) bool {
			news := false
			for _, e := range evs[mark:] {
				news = news || e.at == a.Name() && e.peer == b.Name() || e.at == b.Name() && e.peer == a.Name()
			}
			return news && linked(evs, a.Name(), b.Name()) && linked(evs, b.Name(), a.Name()) && a.Conn(b.Name()) != nil
		})
		select {
		case <-deadline:
			t.Fatalf("no Chat from %s reached %s within %v", a.Name(), b.Name(), wait)
		default:
		}
	}
}

// TestClusterServerStops stops the nats-server n1 is connected to. What
// the code guarantees (adapters/nats, node's heartbeats): n1's NATS
// connections reconnect to another server of the cluster at once, well
// within DeadAfter, so no node is ever reported gone for want of
// heartbeats ("stopped answering"). A link that lost frames in the
// failover breaks at both ends (OnPeer reports it gone, with the link's
// reason) and the dialing node links again at the next heartbeat it
// hears: every peer that was reported gone is joined again within a
// bound, and messages then go both ways, requests included. A link that
// lost nothing just carries on.
//
// Idle, the links carry only pings and usually lose nothing; busy (n2
// sends n1 a Chat every 500 µs across the stop), the link n1-n2 usually
// loses frames and breaks. Both must end linked.
func TestClusterServerStops(t *testing.T) {
	t.Run("idle", func(t *testing.T) { testServerStops(t, false) })
	t.Run("busy", func(t *testing.T) { testServerStops(t, true) })
}

func testServerStops(t *testing.T, busy bool) {
	noLeak(t)
	c := newCluster(t, nil)
	n1, n2, n3 := c.nodes[0], c.nodes[1], c.nodes[2]
	if err := node.Answer(n2.Node, func(_ node.Peer, p Ping) (Pong, error) { return Pong{p.N + 1}, nil }); err != nil {
		t.Fatal(err)
	}
	before, _ := c.log.snapshot()
	mark := len(before)

	var load sync.WaitGroup
	stopLoad := make(chan struct{})
	if busy {
		load.Add(2)
		go func() { // n2 sends
			defer load.Done()
			tick := time.NewTicker(500 * time.Microsecond)
			defer tick.Stop()
			for {
				select {
				case <-stopLoad:
					return
				case <-tick.C:
					_ = n2.Send("n1", &Chat{"load"})
				}
			}
		}()
		go func() { // n1's handler must not block
			defer load.Done()
			for {
				select {
				case <-stopLoad:
					return
				case <-n1.got:
				}
			}
		}()
		// The load runs before the stop.
		for range 2 {
			select {
			case <-n1.got:
			case <-time.After(wait):
				t.Fatal("the load does not reach n1")
			}
		}
	}

	stopped := time.Now()
	c.servers[0].Shutdown()
	select {
	case name := <-c.reconnected[0]:
		if name == c.servers[0].Name() {
			t.Fatalf("n1 reconnected to %s, the server that stopped", name)
		}
		t.Logf("n1 reconnected to %s %v after its server stopped", name, time.Since(stopped))
	case <-time.After(wait):
		t.Fatalf("n1 did not reconnect to another server within %v", wait)
	}
	if busy {
		close(stopLoad)
		load.Wait()
	}

	sends := c.deliver(t, n1, n2)
	failover := time.Since(stopped)
	sends += c.deliver(t, n2, n1)
	sends += c.deliver(t, n1, n3)
	sends += c.deliver(t, n3, n1)
	t.Logf("failover: %v from the server's stop to the first Chat n1→n2 delivered; %d sends for 4 deliveries", failover, sends)

	// Both directions of every link of n1 carried a frame after the
	// failover: nothing more can be lost, so what follows must work the
	// first time.
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if rep, err := node.Request[Pong](ctx, n1.Node, "n2", &Ping{41}); err != nil || rep.N != 42 {
		t.Fatalf("Request n1→n2 after the failover: %+v, %v", rep, err)
	}
	if err := n1.Send("n2", &Chat{"last"}); err != nil {
		t.Fatal(err)
	}
	if err := n2.Send("n1", &Chat{"last"}); err != nil {
		t.Fatal(err)
	}
	for _, m := range []*member{n2, n1} {
		for got := ""; !strings.HasSuffix(got, ":last"); {
			got = m.receive(t)
		}
	}

	evs, _ := c.log.snapshot()
	evs = evs[mark:]
	breaks := 0
	for i, e := range evs {
		if e.joined {
			continue
		}
		breaks++
		if strings.Contains(e.reason, "stopped answering") {
			t.Errorf("%s reported %s gone for want of heartbeats across a failover: %s", e.at, e.peer, e)
		}
		// It must be joined again: a later join of the same pair.
		rejoined := false
		for _, f := range evs[i+1:] {
			if f.joined && f.at == e.at && f.peer == e.peer {
				rejoined = true
				t.Logf("%s: %s rejoined %v after it was reported gone", e.at, e.peer, f.when.Sub(e.when))
				if d := f.when.Sub(e.when); d > rejoinBound {
					t.Errorf("%s: %s rejoined %v after it was reported gone, want within %v", e.at, e.peer, d, rejoinBound)
				}
				break
			}
		}
		if !rejoined {
			t.Errorf("%s reported %s gone and it never rejoined: %s", e.at, e.peer, e)
		}
	}
	if !allLinked("n1", "n2", "n3")(append(before, evs...)) {
		t.Errorf("not every node has every other joined after the failover; events since the stop:\n%s", eventList(evs))
	}
	t.Logf("links reported broken by the failover: %d; events since the stop:\n%s", breaks, eventList(evs))
}

// rejoinBound bounds the time from a link's break to its rejoin: the
// break is seen at once (a GapError) or within the adapter's PeerTimeout
// (2.5 s), and the link is dialed again at the next heartbeat (250 ms).
// Generous: the machine is shared.
const rejoinBound = 10 * time.Second

// flowBound bounds how long a flow takes to end at either end once one of
// its ends lost its server: the break is found at the next frame (a
// GapError) or within the adapter's PeerTimeout (2.5 s).
const flowBound = 10 * time.Second

// flowEnd is how one end of a flow ended.
type flowEnd struct {
	sum  []byte // the checksum of the bytes, when it succeeded
	n    int64  // bytes received (handler)
	err  error
	when time.Time
}

// sinkFlow makes m answer the flow "sink": it reads every packet and
// returns the SHA-256 of their bytes. Each end of a flow goes to ends;
// received counts the bytes as they come.
func sinkFlow(t *testing.T, m *member, received *atomic.Int64) <-chan flowEnd {
	t.Helper()
	ends := make(chan flowEnd, 4)
	if err := m.Flows().HandleFunc("sink", func(f *flow.Flow, _ *flow.Reply) (any, error) {
		h := sha256.New()
		var n int64
		for p, err := range f.Packets() {
			if err != nil {
				ends <- flowEnd{n: n, err: err, when: time.Now()}
				return nil, err
			}
			h.Write(p.Bytes())
			n += int64(p.Len())
			received.Store(n)
		}
		sum := h.Sum(nil)
		ends <- flowEnd{sum: sum, n: n, when: time.Now()}
		return sum, nil
	}); err != nil {
		t.Fatal(err)
	}
	return ends
}

// bulk yields size bytes (size/packet packets, each a new pattern) into h,
// and calls at once when at bytes were yielded; size 0 is endless.
func bulk(h interface{ Write([]byte) (int, error) }, packet, size, at int64, onAt func()) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		buf := make([]byte, packet)
		for i := range buf {
			buf[i] = byte(i * 7)
		}
		for sent, k := int64(0), uint64(0); size == 0 || sent < size; k++ {
			binary.LittleEndian.PutUint64(buf, k) // no two packets alike
			if h != nil {
				h.Write(buf)
			}
			if !yield(buf) {
				return
			}
			sent += packet
			if sent >= at && sent-packet < at && onAt != nil {
				onAt()
			}
		}
	}
}

// callFlow runs flow.Call on its own goroutine and sends how it ended.
func callFlow(ctx context.Context, fc *flow.Client, name string, packets iter.Seq[[]byte]) <-chan flowEnd {
	end := make(chan flowEnd, 1)
	go func() {
		var e flowEnd
		for p, err := range flow.Call(ctx, fc, flow.Request{Name: name}, packets) {
			if err != nil {
				e.err = err
				break
			}
			if p.Final() {
				if err := p.Decode(&e.sum); err != nil {
					e.err = fmt.Errorf("decoding the checksum: %w", err)
				}
			}
		}
		e.when = time.Now()
		end <- e
	}()
	return end
}

// TestClusterFlowAcrossServerStop streams 200 MB from n1 to n2 (on
// servers 1 and 2) and stops the server of one end after a share of the
// bytes was sent. The flow either completes with the right checksum at
// both ends or fails with an error at both ends, within flowBound of the
// stop; it never hangs. Which one happened is logged.
func TestClusterFlowAcrossServerStop(t *testing.T) {
	for _, c := range []struct {
		server int // 0: the sender's (n1's), 1: the receiver's (n2's)
		at     int // per cent of the bytes sent
	}{{0, 10}, {1, 10}, {0, 50}, {1, 50}} {
		t.Run(fmt.Sprintf("server%d-at-%d%%", c.server+1, c.at), func(t *testing.T) {
			testFlowAcrossServerStop(t, c.server, int64(c.at))
		})
	}
}

func testFlowAcrossServerStop(t *testing.T, stopServer int, atPercent int64) {
	noLeak(t)
	const size, packet = 200 << 20, 64 << 10
	c := newCluster(t, nil)
	n1 := c.nodes[0]
	var received atomic.Int64
	handlerEnd := sinkFlow(t, c.nodes[1], &received)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	fc, err := n1.FlowTo(ctx, "n2")
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	reached := make(chan struct{})
	start := time.Now()
	callerEnd := callFlow(ctx, fc, "sink", bulk(h, packet, size, size*atPercent/100, func() { close(reached) }))
	var stopped time.Time
	select {
	case <-reached:
		stopped = time.Now()
		t.Logf("%d%% sent in %v (%.0f MB/s); %d bytes received; stopping server %d", atPercent, stopped.Sub(start),
			float64(size*atPercent/100)/stopped.Sub(start).Seconds()/1e6, received.Load(), stopServer+1)
		c.servers[stopServer].Shutdown()
	case e := <-callerEnd:
		t.Fatalf("the flow ended before the stop: %+v", e)
	}

	var caller, handler flowEnd
	for got := 0; got < 2; got++ {
		select {
		case caller = <-callerEnd:
		case handler = <-handlerEnd:
		case <-time.After(flowBound):
			t.Fatalf("the flow did not end at both ends within %v of the stop: caller ended: %v, handler ended: %v (%d bytes received)",
				flowBound, !caller.when.IsZero(), !handler.when.IsZero(), received.Load())
		}
	}
	want := h.Sum(nil)
	switch {
	case caller.err == nil:
		if !bytes.Equal(caller.sum, want) {
			t.Errorf("the flow succeeded with checksum %x, want %x", caller.sum, want)
		}
		if handler.err != nil || !bytes.Equal(handler.sum, want) {
			t.Errorf("the caller succeeded but the handler ended with %v, checksum %x", handler.err, handler.sum)
		}
		t.Logf("COMPLETED %v after the stop, checksum right", caller.when.Sub(stopped))
	case handler.err == nil:
		// The handler read every byte and returned; its value was lost.
		if !bytes.Equal(handler.sum, want) {
			t.Errorf("the handler read checksum %x, want %x", handler.sum, want)
		}
		t.Logf("FAILED at the caller only (%v after the stop: %v); the handler had read all %d bytes, checksum right",
			caller.when.Sub(stopped), caller.err, handler.n)
	default:
		if !errors.Is(handler.err, flow.ErrAborted) {
			t.Errorf("the handler's packets ended with %v, want an error matching flow.ErrAborted", handler.err)
		}
		t.Logf("FAILED at both ends: caller %v after the stop (%v); handler %v after it (%v), %d of %d bytes received",
			caller.when.Sub(stopped), caller.err, handler.when.Sub(stopped), handler.err, handler.n, size)
	}
}

// TestClusterDeadNode kills n3 (no bye, as a crash) while a flow runs
// from n1 to n3 and another from n3 to n2, and requests to it are
// pending: n1 and n2 report it gone for want of heartbeats within
// DeadAfter + Heartbeat (plus a margin for the machine), Send to it fails
// with ErrNoNode, the pending requests with ErrNodeGone, and both flows
// end with an error at the surviving end within flowBound.
func TestClusterDeadNode(t *testing.T) {
	noLeak(t)
	const heartbeat, deadAfter = node.DefaultHeartbeat, node.DefaultDeadAfter
	const margin = 2 * time.Second
	// Default liveness, and throttled flows: with fast's (50 ms, 400 ms),
	// or with flows at full speed, heartbeats come later than DeadAfter
	// under -race on two cores and live nodes are reported gone: the
	// routes between the in-process nats-servers carry heartbeats behind
	// flow data.
	throttle := func(c *node.Config) { c.Flow.Rate = 2 << 20 }
	c := newCluster(t, nil, throttle)
	n1, n2, n3 := c.nodes[0], c.nodes[1], c.nodes[2]
	var got3, got2 atomic.Int64
	sinkFlow(t, n3, &got3)
	ends2 := sinkFlow(t, n2, &got2)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	fc13, err := n1.FlowTo(ctx, "n3")
	if err != nil {
		t.Fatal(err)
	}
	fc32, err := n3.FlowTo(ctx, "n2")
	if err != nil {
		t.Fatal(err)
	}
	going := make(chan struct{}, 2)
	running := func() { going <- struct{}{} }
	// Endless flows; past 1 MiB sent, each is under way.
	call13 := callFlow(ctx, fc13, "sink", bulk(nil, 64<<10, 0, 1<<20, running))
	call32 := callFlow(ctx, fc32, "sink", bulk(nil, 64<<10, 0, 1<<20, running))
	for range 2 {
		select {
		case <-going:
		case e := <-call13:
			t.Fatalf("the flow n1→n3 ended before n3 died: %v; events:\n%s", e.err, eventList(evsNow(c.log)))
		case e := <-call32:
			t.Fatalf("the flow n3→n2 ended before n3 died: %v; events:\n%s", e.err, eventList(evsNow(c.log)))
		case <-time.After(wait):
			t.Fatalf("the flows did not get going: n3 got %d bytes, n2 %d", got3.Load(), got2.Load())
		}
	}
	// n3's game loop stops: the requests below stay unanswered.
	close(n3.stop)
	<-n3.done
	asked := make(chan error, 2)
	for _, m := range []*member{n1, n2} {
		if err := node.Ask(m.Node, "n3", &Ping{1}, wait, func(_ Pong, err error) { asked <- err }); err != nil {
			t.Fatalf("%s: Ask n3: %v", m.Name(), err)
		}
	}
	before, _ := c.log.snapshot()
	killed := time.Now()
	node.Kill(n3.Node)

	evs := c.log.waitFor(t, "n3 reported gone by n1 and n2", func(evs []peerEvent) bool {
		return !linked(evs, "n1", "n3") && !linked(evs, "n2", "n3")
	})
	for _, e := range evs[len(before):] {
		if e.joined || e.peer != "n3" {
			continue
		}
		d := e.when.Sub(killed)
		t.Logf("%s reported n3 gone %v after it died: %s", e.at, d, e.reason)
		if !strings.Contains(e.reason, "stopped answering") {
			t.Errorf("%s: n3 gone with reason %q, want that it stopped answering", e.at, e.reason)
		}
		if bound := deadAfter + heartbeat + margin; d > bound {
			t.Errorf("%s reported n3 gone %v after it died, want within DeadAfter+Heartbeat+%v = %v", e.at, d, margin, bound)
		}
	}
	for _, m := range []*member{n1, n2} {
		if err := m.Send("n3", &Chat{"x"}); !errors.Is(err, node.ErrNoNode) {
			t.Errorf("%s: Send to a dead node: %v, want ErrNoNode", m.Name(), err)
		}
	}
	for range 2 {
		select {
		case err := <-asked:
			if !errors.Is(err, node.ErrNodeGone) {
				t.Errorf("a pending request to a dead node: %v, want ErrNodeGone", err)
			}
		case <-time.After(wait):
			t.Fatal("a pending request to a dead node never ended")
		}
	}
	select {
	case e := <-call13:
		if e.err == nil {
			t.Error("an endless flow to a dead node succeeded")
		}
		t.Logf("flow n1→n3 ended at n1 %v after n3 died: %v", e.when.Sub(killed), e.err)
	case <-time.After(flowBound):
		t.Errorf("the flow n1→n3 did not end within %v of n3's death", flowBound)
	}
	select {
	case e := <-ends2:
		if e.err == nil {
			t.Error("the handler of an endless flow from a dead node succeeded")
		}
		t.Logf("flow n3→n2 ended at n2 %v after n3 died: %v (%d bytes received)", e.when.Sub(killed), e.err, e.n)
	case <-time.After(flowBound):
		t.Errorf("the flow n3→n2 did not end at n2 within %v of n3's death", flowBound)
	}
}

// TestClusterSmallMaxPayload runs the nodes over servers whose
// max_payload is 64 KiB: a 200 KB node message goes both ways, and a
// flow of 1 MiB packets arrives whole, across servers (the adapter cuts
// what is larger than max_payload into frames that fit).
func TestClusterSmallMaxPayload(t *testing.T) {
	noLeak(t)
	const maxPayload = 64 << 10
	c := newCluster(t, []natstest.Option{natstest.MaxPayload(maxPayload)})
	n1, n2 := c.nodes[0], c.nodes[1]
	if mp := n1.NATS().MaxPayload(); mp != maxPayload {
		t.Fatalf("the servers' max_payload is %d, want %d", mp, maxPayload)
	}
	big := make([]byte, 200_000)
	for i := range big {
		big[i] = 'a' + byte(i*7%26)
	}
	for _, p := range [][2]*member{{n1, n2}, {n2, n1}} {
		from, to := p[0], p[1]
		text := from.Name() + string(big)
		if err := from.Send(to.Name(), &Chat{text}); err != nil {
			t.Fatalf("%s: Send 200 KB to %s: %v", from.Name(), to.Name(), err)
		}
		if got := to.receive(t); got != from.Name()+":"+text {
			t.Fatalf("%s got %d bytes from %s, want the %d sent", to.Name(), len(got), from.Name(), len(from.Name())+1+len(text))
		}
	}

	var received atomic.Int64
	handlerEnd := sinkFlow(t, n2, &received)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	fc, err := n1.FlowTo(ctx, "n2")
	if err != nil {
		t.Fatal(err)
	}
	const packets = 8
	h := sha256.New()
	e := <-callFlow(ctx, fc, "sink", bulk(h, 1<<20, packets<<20, 0, nil))
	if e.err != nil {
		t.Fatalf("a flow of 1 MiB packets over a 64 KiB max_payload: %v", e.err)
	}
	if want := h.Sum(nil); !bytes.Equal(e.sum, want) {
		t.Errorf("the flow's checksum is %x, want %x", e.sum, want)
	}
	if he := <-handlerEnd; he.err != nil || he.n != packets<<20 {
		t.Errorf("the handler read %d bytes and ended with %v, want %d and nil", he.n, he.err, packets<<20)
	}
}

// TestClusterNodeRestarts kills n3 and starts it again under the same
// name at once, before the others could find it dead: the heartbeats of
// the new run (another epoch) make n1 and n2 report the old one gone
// ("restarted") and join the new one, and messages reach the new one.
func TestClusterNodeRestarts(t *testing.T) {
	noLeak(t)
	c := newCluster(t, nil)
	n1, n2, old := c.nodes[0], c.nodes[1], c.nodes[2]
	evs, _ := c.log.snapshot()
	mark := len(evs)
	var oldEpoch uint64
	for _, e := range evs {
		if e.peer == "n3" {
			oldEpoch = e.epoch
		}
	}
	killed := time.Now()
	node.Kill(old.Node)
	n3 := join(t, "n3", c.base[2])
	evs = c.log.waitFor(t, "n1 and n2 linked to the new n3", func(evs []peerEvent) bool {
		fresh := 0
		for _, e := range evs[mark:] {
			if e.joined && e.peer == "n3" && e.epoch != oldEpoch {
				fresh++
			}
		}
		return fresh == 2 && linked(evs, "n1", "n3") && linked(evs, "n2", "n3")
	})
	for _, at := range []string{"n1", "n2"} {
		gone := false
		for _, e := range evs[mark:] {
			if e.at != at || e.peer != "n3" {
				continue
			}
			if !e.joined {
				gone = true
				if e.epoch != oldEpoch || !strings.Contains(e.reason, "restarted") {
					t.Errorf("%s: %s, want the old run (epoch %x) gone because it restarted", at, e, oldEpoch)
				}
			} else {
				if !gone {
					t.Errorf("%s joined the new n3 before the old one was reported gone", at)
				}
				t.Logf("%s joined the new n3 %v after the old one died", at, e.when.Sub(killed))
			}
		}
	}
	for _, m := range []*member{n1, n2} {
		if err := m.Send("n3", &Chat{"to the new n3"}); err != nil {
			t.Fatalf("%s: Send to the new n3: %v", m.Name(), err)
		}
	}
	for range 2 {
		if got := n3.receive(t); !strings.HasSuffix(got, ":to the new n3") {
			t.Errorf("the new n3 got %q", got)
		}
	}
	if err := n3.Send("n1", &Chat{"from the new n3"}); err != nil {
		t.Fatal(err)
	}
	if got := n1.receive(t); got != "n3:from the new n3" {
		t.Errorf("n1 got %q", got)
	}
}

// logSink is a slog.Handler that sends each record's message and
// attributes to a channel, without blocking.
type logSink chan string

func (s logSink) Enabled(context.Context, slog.Level) bool { return true }
func (s logSink) Handle(_ context.Context, r slog.Record) error {
	line := r.Message
	r.Attrs(func(a slog.Attr) bool { line += " " + a.String(); return true })
	select {
	case s <- line:
	default:
	}
	return nil
}
func (s logSink) WithAttrs([]slog.Attr) slog.Handler { return s }
func (s logSink) WithGroup(string) slog.Handler      { return s }

// TestNATSAsyncErrorsAreLogged: what NATS reports asynchronously (here a
// permissions violation; in a failover, a broken pipe or a slow
// consumer) goes to Config.Logger, not to the process's stderr, where
// nats.go writes it when the connection has no ErrorHandler.
func TestNATSAsyncErrorsAreLogged(t *testing.T) {
	deny := func(o *server.Options) {
		o.Users = []*server.User{{Username: "game", Password: "pw", Permissions: &server.Permissions{
			Subscribe: &server.SubjectPermission{Deny: []string{"gonetic.default.who.>"}},
		}}}
	}
	s := natstest.Server(t, deny)
	logs := make(logSink, 100)
	join(t, "a", withURL(s.ClientURL()), func(c *node.Config) {
		c.Logger = slog.New(logs)
		c.NATSOptions = []natsgo.Option{natsgo.UserInfo("game", "pw")}
	})
	deadline := time.After(wait)
	for {
		select {
		case line := <-logs:
			if strings.Contains(strings.ToLower(line), "permissions violation") {
				return
			}
		case <-deadline:
			t.Fatalf("the permissions violation of a's subscription never reached Config.Logger within %v", wait)
		}
	}
}
