package node_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/flow"
	"github.com/gonetic/gonetic/internal/natstest"
	"github.com/gonetic/gonetic/message"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/node"
	natsgo "github.com/nats-io/nats.go"
)

type Chat struct{ Text string }
type Ping struct{ N int }
type Pong struct{ N int }

func registry() *message.Factory {
	f := gnet.NewFactory()
	message.MustRegister[Chat](f)
	message.MustRegister[Ping](f)
	message.MustRegister[Pong](f)
	if err := node.Register(f); err != nil {
		panic(err)
	}
	return f
}

// wait is the deadline of every wait on an event: generous, the machine
// is shared.
const wait = 20 * time.Second

type chatHandler struct {
	node.Handler
	got chan string
}

func (h *chatHandler) NetChat(m Chat) { h.got <- h.Peer().Name + ":" + m.Text }

// member is a node under test, with its game loop on a goroutine.
type member struct {
	*node.Node
	got     chan string // "peer:text" of every Chat received
	events  chan string // "+name" joined, "-name reason" gone
	backlog []string    // events expect read but did not want yet; the test goroutine only
	stop    chan struct{}
	done    chan struct{}
}

type option func(*node.Config)

func withURL(url string) option { return func(c *node.Config) { c.URLs = []string{url} } }

// fast makes liveness quick, for tests of nodes that go.
func fast(c *node.Config) { c.Heartbeat, c.DeadAfter = 50*time.Millisecond, 400*time.Millisecond }

func join(t *testing.T, name string, opts ...option) *member {
	t.Helper()
	m := &member{got: make(chan string, 100), events: make(chan string, 100), stop: make(chan struct{}), done: make(chan struct{})}
	cfg := node.Config{
		Name: name, Kind: "zone", Factory: registry(),
		NewHandler: func() any { return &chatHandler{got: m.got} },
		OnPeer: func(p node.Peer, joined bool, reason string) {
			if joined {
				m.events <- "+" + p.Name
			} else {
				m.events <- "-" + p.Name + " " + reason
			}
		},
	}
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	n, err := node.Join(ctx, cfg)
	if err != nil {
		t.Fatalf("Join %s: %v", name, err)
	}
	m.Node = n
	go func() {
		defer close(m.done)
		for {
			select {
			case <-m.stop:
				return
			default:
			}
			if err := n.Update(5 * time.Millisecond); err != nil {
				return
			}
		}
	}()
	t.Cleanup(m.close)
	return m
}

var closeMu sync.Mutex

func (m *member) close() {
	closeMu.Lock()
	defer closeMu.Unlock()
	select {
	case <-m.stop:
	default:
		close(m.stop)
	}
	<-m.done
	m.Node.Close()
}

// expect waits for an event that starts with prefix, and takes it.
func (m *member) expect(t *testing.T, prefix string) string {
	t.Helper()
	for i, ev := range m.backlog {
		if strings.HasPrefix(ev, prefix) {
			m.backlog = append(m.backlog[:i], m.backlog[i+1:]...)
			return ev
		}
	}
	deadline := time.After(wait)
	for {
		select {
		case ev := <-m.events:
			if strings.HasPrefix(ev, prefix) {
				return ev
			}
			m.backlog = append(m.backlog, ev) // another test step's
		case <-deadline:
			t.Fatalf("%s: no event %q within %v", m.Name(), prefix, wait)
		}
	}
}

func (m *member) receive(t *testing.T) string {
	t.Helper()
	select {
	case s := <-m.got:
		return s
	case <-time.After(wait):
		t.Fatalf("%s: nothing received within %v", m.Name(), wait)
	}
	return ""
}

func noLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(wait)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<20)
			t.Errorf("%d goroutines left behind:\n%s", n-before, buf[:runtime.Stack(buf, true)])
		}
	})
}

func TestEmbeddedPairSendsBothWays(t *testing.T) {
	noLeak(t)
	a := join(t, "a") // no URLs: an embedded nats-server
	if a.ClientURL() == "" {
		t.Fatal("a node without URLs has no embedded server")
	}
	b := join(t, "b", withURL(a.ClientURL()))
	a.expect(t, "+b")
	b.expect(t, "+a")
	if err := a.Send("b", &Chat{"hello b"}); err != nil {
		t.Fatal(err)
	}
	if err := b.Send("a", &Chat{"hello a"}); err != nil {
		t.Fatal(err)
	}
	if got := b.receive(t); got != "a:hello b" {
		t.Errorf("b got %q", got)
	}
	if got := a.receive(t); got != "b:hello a" {
		t.Errorf("a got %q", got)
	}
	var names []string
	for p := range a.Peers("zone") {
		names = append(names, p.Name+"/"+p.Kind)
	}
	if fmt.Sprint(names) != "[b/zone]" {
		t.Errorf("a's peers: %v", names)
	}
	if a.Server().NumConns() != 1 || b.Server().NumConns() != 1 {
		t.Errorf("links: a has %d, b has %d; want one link per pair", a.Server().NumConns(), b.Server().NumConns())
	}
}

func TestSendKindAndNoNode(t *testing.T) {
	s := natstest.Server(t)
	a := join(t, "a", withURL(s.ClientURL()))
	b := join(t, "b", withURL(s.ClientURL()))
	c := join(t, "c", withURL(s.ClientURL()), func(c *node.Config) { c.Kind = "lobby" })
	a.expect(t, "+b")
	a.expect(t, "+c")
	sent, err := a.SendKind("zone", &Chat{"zones only"})
	if err != nil || sent != 1 {
		t.Fatalf("SendKind(zone) = %d, %v; want 1 (b)", sent, err)
	}
	if got := b.receive(t); got != "a:zones only" {
		t.Errorf("b got %q", got)
	}
	sent, err = a.SendKind("", &Chat{"all"})
	if err != nil || sent != 2 {
		t.Fatalf("SendKind(\"\") = %d, %v; want 2", sent, err)
	}
	if got := c.receive(t); got != "a:all" {
		t.Errorf("c got %q (a message for zones reached a lobby?)", got)
	}
	err = a.Send("nobody", &Chat{"x"})
	if !errors.Is(err, node.ErrNoNode) {
		t.Errorf("Send to an unknown node: %v, want ErrNoNode", err)
	}
	err = a.Send("a", &Chat{"x"})
	if !errors.Is(err, node.ErrNoNode) || !strings.Contains(err.Error(), "own name") {
		t.Errorf("Send to itself: %v, want ErrNoNode saying it is its own name", err)
	}
}

func TestRequestAnswerAsk(t *testing.T) {
	s := natstest.Server(t)
	a := join(t, "a", withURL(s.ClientURL()))
	b := join(t, "b", withURL(s.ClientURL()))
	if err := node.Answer(b.Node, func(from node.Peer, p Ping) (Pong, error) {
		if p.N < 0 {
			return Pong{}, errors.New("negative ping from " + from.Name)
		}
		return Pong{p.N * 2}, nil
	}); err != nil {
		t.Fatal(err)
	}
	a.expect(t, "+b")
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	rep, err := node.Request[Pong](ctx, a.Node, "b", &Ping{21})
	if err != nil || rep.N != 42 {
		t.Fatalf("Request = %+v, %v; want {42}", rep, err)
	}
	_, err = node.Request[Pong](ctx, a.Node, "b", &Ping{-1})
	var re *node.RemoteError
	if !errors.As(err, &re) || re.Node != "b" || !strings.Contains(re.Text, "negative ping from a") {
		t.Fatalf("Request with an error: %v, want a RemoteError from b", err)
	}
	_, err = node.Request[Pong](ctx, b.Node, "a", &Ping{1})
	if !errors.As(err, &re) || !strings.Contains(re.Text, "no answer") {
		t.Fatalf("Request of a type without Answer: %v", err)
	}
	got := make(chan string, 1)
	if err := node.Ask(a.Node, "b", &Ping{5}, wait, func(p Pong, err error) { got <- fmt.Sprint(p.N, err) }); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-got:
		if s != "10 <nil>" {
			t.Errorf("Ask got %s", s)
		}
	case <-time.After(wait):
		t.Fatal("Ask's callback never ran")
	}
}

func TestRequestTimesOut(t *testing.T) {
	s := natstest.Server(t)
	a := join(t, "a", withURL(s.ClientURL()))
	b := join(t, "b", withURL(s.ClientURL()))
	a.expect(t, "+b")
	b.expect(t, "+a")
	// b's game loop stops: nothing answers.
	close(b.stop)
	<-b.done
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := node.Request[Pong](ctx, a.Node, "b", &Ping{1})
	if !errors.Is(err, node.ErrTimeout) || !strings.Contains(err.Error(), "Update") {
		t.Fatalf("Request to a node that does not Update: %v, want ErrTimeout asking whether it calls Update", err)
	}
}

func TestCloseIsReportedAtOnce(t *testing.T) {
	s := natstest.Server(t)
	a := join(t, "a", withURL(s.ClientURL()))
	// b is slow to call anyone gone: a bye must be what tells a.
	b := join(t, "b", withURL(s.ClientURL()), func(c *node.Config) { c.DeadAfter = time.Minute })
	a.expect(t, "+b")
	b.expect(t, "+a")
	start := time.Now()
	a.close()
	ev := b.expect(t, "-a")
	if !strings.Contains(ev, "left") {
		t.Errorf("b was told %q, want that a left", ev)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("took %v", d)
	}
	if err := b.Send("a", &Chat{"x"}); !errors.Is(err, node.ErrNoNode) {
		t.Errorf("Send to a node that left: %v, want ErrNoNode", err)
	}
}

func TestSilentNodeIsGone(t *testing.T) {
	s := natstest.Server(t)
	a := join(t, "a", withURL(s.ClientURL()), fast)
	b := join(t, "b", withURL(s.ClientURL()), fast)
	a.expect(t, "+b")
	b.expect(t, "+a")
	close(b.stop) // b's loop stops: the request below stays unanswered
	<-b.done
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	req := make(chan error, 1)
	go func() {
		_, err := node.Request[Pong](ctx, a.Node, "b", &Ping{1})
		req <- err
	}()
	node.Kill(b.Node) // no bye: as a crash
	ev := a.expect(t, "-b")
	if !strings.Contains(ev, "stopped answering") {
		t.Errorf("a was told %q", ev)
	}
	if err := <-req; !errors.Is(err, node.ErrNodeGone) {
		t.Errorf("a pending Request to a node that died: %v, want ErrNodeGone", err)
	}
	if err := a.Send("b", &Chat{"x"}); !errors.Is(err, node.ErrNoNode) {
		t.Errorf("Send to a dead node: %v, want ErrNoNode", err)
	}
}

func TestNameTaken(t *testing.T) {
	s := natstest.Server(t)
	join(t, "a", withURL(s.ClientURL()))
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, err := node.Join(ctx, node.Config{Name: "a", Factory: registry(), URLs: []string{s.ClientURL()}})
	if !errors.Is(err, node.ErrNameTaken) {
		t.Fatalf("a second a: %v, want ErrNameTaken", err)
	}
}

func TestConfigErrors(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		cfg  node.Config
		want string
	}{
		{node.Config{Factory: registry()}, "Name is empty"},
		{node.Config{Name: "a.b", Factory: registry()}, "subject token"},
		{node.Config{Name: "a"}, "Factory is nil"},
		{node.Config{Name: "a", Factory: gnet.NewFactory()}, "node.Register"},
		{node.Config{Name: "a", Factory: registry(), Heartbeat: time.Second, DeadAfter: time.Second}, "longer than Heartbeat"},
	} {
		_, err := node.Join(ctx, c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Join(%+v) = %v, want an error saying %q", c.cfg.Name, err, c.want)
		}
	}
}

func TestOtherRegistryIsNotLinked(t *testing.T) {
	s := natstest.Server(t)
	a := join(t, "a", withURL(s.ClientURL()))
	other := gnet.NewFactory()
	message.MustRegister[Pong](other)
	node.Register(other)
	b := join(t, "b", withURL(s.ClientURL()), func(c *node.Config) { c.Factory = other; c.NewHandler = nil })
	join(t, "c", withURL(s.ClientURL()))
	a.expect(t, "+c") // a links to c, whose registry is a's, after hearing b
	for p := range a.Peers("") {
		if p.Name == "b" {
			t.Error("a linked to b, whose registry differs")
		}
	}
	_ = b
	// Sending to b says why it cannot, once b's heartbeat was heard.
	deadline := time.Now().Add(wait)
	for {
		err := a.Send("b", &Chat{"x"})
		if !errors.Is(err, node.ErrNoNode) {
			t.Fatalf("Send to b: %v, want ErrNoNode", err)
		}
		if strings.Contains(err.Error(), "registers other messages") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Send to b: %v, want it to say the registries differ", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestFlowBetweenNodes(t *testing.T) {
	noLeak(t)
	s := natstest.Server(t)
	a := join(t, "a", withURL(s.ClientURL()))
	b := join(t, "b", withURL(s.ClientURL()))
	if err := b.Flows().HandleFunc("sum", func(f *flow.Flow, r *flow.Reply) (any, error) {
		sum := 0
		for p, err := range flow.Decode[Ping](f.Packets()) {
			if err != nil {
				return nil, err
			}
			sum += p.N
		}
		return Pong{sum}, nil
	}); err != nil {
		t.Fatal(err)
	}
	a.expect(t, "+b")
	ctx, fc := flowTo(t, a, "b")
	pings := func(yield func(Ping) bool) {
		for i := 1; i <= 100000; i++ {
			if !yield(Ping{i}) {
				return
			}
		}
	}
	var final Pong
	for p, err := range flow.Call(ctx, fc, flow.Request{Name: "sum"}, pings) {
		if err != nil {
			t.Fatal(err)
		}
		if p.Final() {
			if err := p.Decode(&final); err != nil {
				t.Fatal(err)
			}
		}
	}
	if want := 100000 * 100001 / 2; final.N != want {
		t.Errorf("sum = %d, want %d", final.N, want)
	}
	if _, err := a.FlowTo(ctx, "nobody"); !errors.Is(err, node.ErrNoNode) {
		t.Errorf("FlowTo an unknown node: %v", err)
	}
}

func TestShutdownFinishesFlows(t *testing.T) {
	noLeak(t)
	s := natstest.Server(t)
	a := join(t, "a", withURL(s.ClientURL()))
	b := join(t, "b", withURL(s.ClientURL()))
	started, release := make(chan struct{}), make(chan struct{})
	if err := b.Flows().HandleFunc("slow", func(f *flow.Flow, r *flow.Reply) (any, error) {
		close(started)
		<-release
		n := 0
		for _, err := range f.Packets() {
			if err != nil {
				return nil, err
			}
			n++
		}
		return Pong{n}, nil
	}); err != nil {
		t.Fatal(err)
	}
	a.expect(t, "+b")
	ctx, fc := flowTo(t, a, "b")
	result := make(chan string, 1)
	go func() {
		var final Pong
		for p, err := range flow.Call(ctx, fc, flow.Request{Name: "slow"}, func(yield func(Ping) bool) {
			for i := range 1000 {
				if !yield(Ping{i}) {
					return
				}
			}
		}) {
			if err != nil {
				result <- err.Error()
				return
			}
			if p.Final() {
				_ = p.Decode(&final)
			}
		}
		result <- fmt.Sprint(final.N)
	}()
	<-started
	shut := make(chan error, 1)
	go func() { shut <- b.Shutdown(ctx) }()
	close(release)
	if got := <-result; got != "1000" {
		t.Errorf("the flow running at Shutdown ended with %q, want all 1000 packets", got)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if ev := a.expect(t, "-b"); !strings.Contains(ev, "left") && !strings.Contains(ev, "shutting down") {
		t.Errorf("a was told %q", ev)
	}
}

// TestShutdownDeliversFlowResults: a node that shuts down right after its
// flow handler returned still delivers the replies and the result: its
// bye, on another NATS connection than the flow's, must not end the
// caller's flow before they arrive.
func TestShutdownDeliversFlowResults(t *testing.T) {
	noLeak(t)
	s := natstest.Server(t)
	a := join(t, "a", withURL(s.ClientURL()))
	b := join(t, "b", withURL(s.ClientURL()))
	const replies = 64
	returned := make(chan struct{})
	if err := b.Flows().HandleFunc("dump", func(f *flow.Flow, r *flow.Reply) (any, error) {
		defer close(returned)
		for range f.Packets() {
		}
		for i := range replies {
			if err := r.Send(Chat{strings.Repeat("x", 32<<10) + fmt.Sprint(i)}); err != nil {
				return nil, err
			}
		}
		return Pong{replies}, nil
	}); err != nil {
		t.Fatal(err)
	}
	a.expect(t, "+b")
	ctx, fc := flowTo(t, a, "b")
	shut := make(chan error, 1)
	go func() {
		<-returned
		shut <- b.Shutdown(ctx)
	}()
	got := 0
	var final Pong
	for p, err := range flow.Call(ctx, fc, flow.Request{Name: "dump"}, func(func(Ping) bool) {}) {
		if err != nil {
			t.Fatalf("after %d replies: %v", got, err)
		}
		if p.Final() {
			if err := p.Decode(&final); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got++
	}
	if got != replies || final.N != replies {
		t.Errorf("got %d replies and %+v, want %d and the result", got, final, replies)
	}
	if err := <-shut; err != nil {
		t.Errorf("b.Shutdown: %v", err)
	}
}

// TestCloseLogsNoDisconnect: a node's own Close is no NATS trouble; it
// logs no warning about its connections.
func TestCloseLogsNoDisconnect(t *testing.T) {
	s := natstest.Server(t)
	var log syncBuffer
	closed := make(chan struct{}, 2)
	a := join(t, "a", withURL(s.ClientURL()), func(c *node.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelWarn}))
		// nats.go calls its handlers in order, on one goroutine: the
		// disconnect one, if any, before this one.
		c.NATSOptions = []natsgo.Option{natsgo.ClosedHandler(func(*natsgo.Conn) { closed <- struct{}{} })}
	})
	a.close()
	for range 2 { // ctl and bulk
		select {
		case <-closed:
		case <-time.After(wait):
			t.Fatal("a NATS connection of a closed node is not closed")
		}
	}
	if got := log.String(); got != "" {
		t.Errorf("Close logged:\n%s", got)
	}
}

// syncBuffer is a bytes.Buffer for a logger's several goroutines.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestForgedHeartbeatsAreForgotten: heartbeats under made-up names, with
// another registry, leave nothing behind once their DeadAfter passed:
// what a node keeps of the names it hears is bounded by the heartbeats
// of one DeadAfter.
func TestForgedHeartbeatsAreForgotten(t *testing.T) {
	s := natstest.Server(t)
	a := join(t, "a", withURL(s.ClientURL()), fast)
	nc, err := natsgo.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	for i := range 200 {
		// [epoch, seq, flags, hash], a msgpack array, with a hash of
		// nobody's registry.
		beat := []byte{0x94, 0xcd, 0x12, byte(i), 0x01, 0x00, 0xc4, 0x02, 0xde, 0xad}
		if err := nc.Publish(fmt.Sprintf("gonetic.default.hb.zone.forged-%d", i), beat); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(wait)
	for node.Heard(a.Node) < 400 { // seen and warned of, each
		if time.Now().After(deadline) {
			t.Fatalf("a kept %d entries of 200 forged heartbeats; want them heard first", node.Heard(a.Node))
		}
		time.Sleep(5 * time.Millisecond)
	}
	for node.Heard(a.Node) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("a still keeps %d entries of forged nodes long after DeadAfter", node.Heard(a.Node))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// flowTo is a's flow client to the node named to, and a context that
// bounds the test's flows.
func flowTo(t *testing.T, a *member, to string) (context.Context, *flow.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	fc, err := a.FlowTo(ctx, to)
	if err != nil {
		t.Fatal(err)
	}
	return ctx, fc
}
