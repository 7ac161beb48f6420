package node_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/flow"
	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/internal/natstest"
	"github.com/gonetic/gonetic/message"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/node"
	server "github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"
)

// The benchmarks measure node over one embedded nats-server, beside raw
// nats.go through the same server: sender and receiver on separate NATS
// connections, over loopback TCP ("tcp") or natsgo.InProcessServer
// ("inproc"). Figures and the command: docs/PERF.md, "Nodes over NATS".
// Compare them only with figures of the same run: the machine is noisy.

// carriers are the two ways a client reaches the embedded server.
var carriers = []struct {
	name string
	opts func(s *server.Server) []natsgo.Option
}{
	{"tcp", func(*server.Server) []natsgo.Option { return nil }},
	{"inproc", func(s *server.Server) []natsgo.Option { return []natsgo.Option{natsgo.InProcessServer(s)} }},
}

// benchNode joins a node to s, with its game loop on a goroutine (loop
// nil: Update(5 ms) for ever), and waits until it linked to every name in
// peers. The node closes when the benchmark ends.
func benchNode(b *testing.B, s *server.Server, name string, opts []natsgo.Option, loop func(n *node.Node, stop <-chan struct{}), mod func(*node.Config), peers ...string) *node.Node {
	b.Helper()
	joined := make(chan string, 16)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	cfg := node.Config{
		Name: name, Factory: registry(), URLs: []string{s.ClientURL()}, NATSOptions: opts,
		OnPeer: func(p node.Peer, ok bool, _ string) {
			if ok {
				joined <- p.Name
			}
		},
	}
	if mod != nil {
		mod(&cfg)
	}
	n, err := node.Join(ctx, cfg)
	if err != nil {
		b.Fatalf("Join %s: %v", name, err)
	}
	if loop == nil {
		loop = func(n *node.Node, stop <-chan struct{}) {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if n.Update(5*time.Millisecond) != nil {
					return
				}
			}
		}
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		loop(n, stop)
	}()
	b.Cleanup(func() {
		close(stop)
		<-done
		n.Close()
	})
	for range peers {
		select {
		case <-joined:
		case <-time.After(wait):
			b.Fatalf("%s: no link to %v within %v", name, peers, wait)
		}
	}
	return n
}

// fullSpeed is the setting of flows between servers without players: no rate
// limit, a dedicated listener's chunks.
func fullSpeed(c *node.Config) { c.Flow.Rate, c.Flow.ChunkSize = -1, flow.DefaultChunkSize }

// rawConn connects to s as the node's connections do, without the node.
func rawConn(b *testing.B, s *server.Server, opts []natsgo.Option) *natsgo.Conn {
	b.Helper()
	nc, err := natsgo.Connect(s.ClientURL(), opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(nc.Close)
	return nc
}

// BenchmarkNodeThroughput streams size-byte packets one way: raw is
// nats.go's Publish of the same bytes to an async subscription on
// another connection that never drops (unlimited pending), timed until
// the last one arrived; flow is one flow from node a to node b
// (FlowTo, flow.Call), timed until a got b's final value, sent once b's
// handler counted the last packet.
func BenchmarkNodeThroughput(b *testing.B) {
	for _, cr := range carriers {
		b.Run(cr.name, func(b *testing.B) {
			s := natstest.Server(b)
			opts := cr.opts(s)
			for _, size := range []int{64 << 10, 100} {
				name := fmt.Sprintf("%dB", size)
				if size >= 1<<10 {
					name = fmt.Sprintf("%dKiB", size>>10)
				}
				b.Run(name+"/raw", func(b *testing.B) { benchRawPublish(b, s, opts, size) })
				b.Run(name+"/flow", func(b *testing.B) {
					na := benchNode(b, s, "a", opts, nil, fullSpeed)
					benchFlow(b, na, benchNode(b, s, "b", opts, nil, fullSpeed, "a"), size)
				})
				if size == 64<<10 {
					// The default's rate, for game servers with players.
					b.Run(name+"/flow-defaults", func(b *testing.B) {
						na := benchNode(b, s, "a", opts, nil, nil)
						benchFlow(b, na, benchNode(b, s, "b", opts, nil, nil, "a"), size)
					})
				}
			}
		})
	}
}

func benchRawPublish(b *testing.B, s *server.Server, opts []natsgo.Option, size int) {
	pub, subc := rawConn(b, s, opts), rawConn(b, s, opts)
	var got atomic.Int64
	all := make(chan struct{})
	var want int64
	sub, err := subc.Subscribe("bench.raw", func(*natsgo.Msg) {
		if got.Add(1) == want {
			close(all)
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		b.Fatal(err)
	}
	if err := subc.Flush(); err != nil {
		b.Fatal(err)
	}
	want = int64(b.N)
	p := make([]byte, size)
	b.SetBytes(int64(size))
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if err := pub.Publish("bench.raw", p); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-all:
	case <-time.After(time.Minute):
		dropped, _ := sub.Dropped()
		b.Fatalf("%d of %d messages arrived within a minute (%d dropped)", got.Load(), b.N, dropped)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N*size)/1e6/elapsed.Seconds(), "MB/s")
}

// benchFlow streams b.N packets of size bytes from na to nb.
func benchFlow(b *testing.B, na, nb *node.Node, size int) {
	if err := nb.Flows().HandleFunc("count", func(f *flow.Flow, r *flow.Reply) (any, error) {
		var n int
		for _, err := range f.Packets() {
			if err != nil {
				return nil, err
			}
			n++
		}
		return n, nil
	}); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	fc, err := waitFlowTo(na, "b")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(size))
	b.ResetTimer()
	start := time.Now()
	final, err := flow.Wait(flow.Call(ctx, fc, flow.Request{Name: "count"}, packets(b.N, size, nil)))
	elapsed := time.Since(start)
	b.StopTimer()
	var n int
	if err == nil {
		err = final.Decode(&n)
	}
	if err != nil || n != b.N {
		b.Fatalf("flow: %v, %d of %d packets", err, n, b.N)
	}
	b.ReportMetric(float64(b.N*size)/1e6/elapsed.Seconds(), "MB/s")
}

// waitFlowTo is FlowTo once a has linked to name.
func waitFlowTo(a *node.Node, name string) (*flow.Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for a.Conn(name) == nil {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%s never linked to %s", a.Name(), name)
		case <-time.After(10 * time.Millisecond):
		}
	}
	return a.FlowTo(ctx, name)
}

// packets yields n packets of size bytes (the index first), counting
// what it yielded in sent.
func packets(n, size int, sent *atomic.Int64) func(func([]byte) bool) {
	return func(yield func([]byte) bool) {
		buf := make([]byte, size)
		for i := range n {
			binary.LittleEndian.PutUint64(buf, uint64(i))
			if sent != nil {
				sent.Add(int64(size))
			}
			if !yield(buf) {
				return
			}
		}
	}
}

// BenchmarkNodeRequest is one request and its reply at a time: raw is
// nats.go's Request to a subscription on another connection that
// answers with m.Respond; node is node.Request from a to b, whose game
// loop answers (node.Answer) inside Update, as a's takes the reply.
func BenchmarkNodeRequest(b *testing.B) {
	for _, cr := range carriers {
		b.Run(cr.name, func(b *testing.B) {
			s := natstest.Server(b)
			opts := cr.opts(s)
			b.Run("raw", func(b *testing.B) {
				req, rep := rawConn(b, s, opts), rawConn(b, s, opts)
				sub, err := rep.Subscribe("bench.req", func(m *natsgo.Msg) { _ = m.Respond(m.Data) })
				if err != nil {
					b.Fatal(err)
				}
				defer sub.Unsubscribe()
				if err := rep.Flush(); err != nil {
					b.Fatal(err)
				}
				data := []byte{0x91, 0x2a} // a Ping, as msgpack encodes it
				rtts(b, func() error {
					_, err := req.Request("bench.req", data, wait)
					return err
				})
			})
			b.Run("node", func(b *testing.B) {
				na := benchNode(b, s, "a", opts, nil, nil)
				benchRequest(b, na, benchNode(b, s, "b", opts, nil, nil, "a"))
			})
		})
	}
}

// benchRequest asks nb from na b.N times, one request at a time.
func benchRequest(b *testing.B, na, nb *node.Node) {
	if err := node.Answer(nb, func(_ node.Peer, p Ping) (Pong, error) { return Pong(p), nil }); err != nil {
		b.Fatal(err)
	}
	if _, err := waitFlowTo(na, "b"); err != nil { // a linked to b
		b.Fatal(err)
	}
	ctx := context.Background()
	i := 0
	rtts(b, func() error {
		i++
		rep, err := node.Request[Pong](ctx, na, "b", &Ping{i})
		if err == nil && rep.N != i {
			err = fmt.Errorf("reply %d to request %d", rep.N, i)
		}
		return err
	})
}

// BenchmarkNodeEmbedded is node a with its embedded server (no URLs) and
// node b joined to it over loopback TCP (as a node of another process
// would be): a request from a to b, and flows from a to b at full speed.
func BenchmarkNodeEmbedded(b *testing.B) {
	pair := func(b *testing.B) (*node.Node, *node.Node) {
		s := natstest.Server(b) // unused by a: only benchNode's signature wants one
		na := benchNode(b, s, "a", nil, nil, func(c *node.Config) { c.URLs = nil; fullSpeed(c) })
		nb := benchNode(b, s, "b", nil, nil, func(c *node.Config) { c.URLs = []string{na.ClientURL()}; fullSpeed(c) }, "a")
		return na, nb
	}
	b.Run("request", func(b *testing.B) {
		na, nb := pair(b)
		benchRequest(b, na, nb)
	})
	b.Run("64KiB", func(b *testing.B) {
		na, nb := pair(b)
		benchFlow(b, na, nb, 64<<10)
	})
	b.Run("100B", func(b *testing.B) {
		na, nb := pair(b)
		benchFlow(b, na, nb, 100)
	})
}

// rtts runs op b.N times (after 100 to warm up) and reports the p50 and
// p99 of its durations.
func rtts(b *testing.B, op func() error) {
	for range 100 {
		if err := op(); err != nil {
			b.Fatal(err)
		}
	}
	d := make([]time.Duration, b.N)
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Now()
		if err := op(); err != nil {
			b.Fatal(err)
		}
		d[i] = time.Since(t0)
	}
	b.StopTimer()
	b.ReportMetric(pct(d, 0.5), "p50-µs")
	b.ReportMetric(pct(d, 0.99), "p99-µs")
}

// pct is the q quantile of d, in µs.
func pct(d []time.Duration, q float64) float64 {
	d = slices.Clone(d)
	slices.Sort(d)
	return float64(d[int(q*float64(len(d)-1))].Nanoseconds()) / 1e3
}

// BenchmarkNodeGameRTT is a game connection's round trip (a gnet client
// over TCP pinging a gnet.Server that answers) where the game server's
// loop also updates node a: 20,000 pings idle, then pings for as long as
// a 1 GB flow runs from a to b over NATS (64 KiB packets; measured once
// the flow sent 32 MiB). It runs once whatever b.N: the flow sets its
// length.
func BenchmarkNodeGameRTT(b *testing.B) {
	for _, v := range []struct {
		name        string
		rate, chunk int
		inproc      bool
	}{
		{"defaults", 0, 0, false},                  // node's: 100 MB/s in 16 KiB chunks
		{"defaults-inproc", 0, 0, true},            // natsgo.InProcessServer, as an embedded server's node
		{"bulk", -1, flow.DefaultChunkSize, false}, // no rate limit, 256 KiB chunks
		{"bulk-inproc", -1, flow.DefaultChunkSize, true},
	} {
		b.Run(v.name, func(b *testing.B) { benchGameRTT(b, v.rate, v.chunk, v.inproc) })
	}
}

func benchGameRTT(b *testing.B, rate, chunk int, inproc bool) {
	s := natstest.Server(b)
	mod := func(c *node.Config) {
		c.Flow.Rate, c.Flow.ChunkSize = rate, chunk
		if inproc {
			c.NATSOptions = []natsgo.Option{natsgo.InProcessServer(s)}
		}
	}
	f := gnet.NewFactory()
	message.MustRegister[Ping](f)
	game, err := gnet.Listen(gnet.ServerConfig{Config: gnet.Config{Factory: f, Transport: tcp.New(tcp.Options{})}, Addr: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	if err := gnet.On(game, func(c *gnet.Conn, m Ping) { _ = c.Send(&m) }); err != nil {
		b.Fatal(err)
	}
	// The game server's frame: its players first, then the node.
	na := benchNode(b, s, "a", nil, func(n *node.Node, stop <-chan struct{}) {
		defer game.Close()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if game.Update(time.Millisecond) != nil || n.Update(0) != nil {
				return
			}
		}
	}, mod)
	nb := benchNode(b, s, "b", nil, nil, mod, "a")
	var got atomic.Int64
	if err := nb.Flows().HandleFunc("sink", func(f *flow.Flow, r *flow.Reply) (any, error) {
		for p, err := range f.Packets() {
			if err != nil {
				return nil, err
			}
			got.Add(int64(p.Len()))
		}
		return got.Load(), nil
	}); err != nil {
		b.Fatal(err)
	}
	fc, err := waitFlowTo(na, "b")
	if err != nil {
		b.Fatal(err)
	}

	cf := gnet.NewFactory()
	message.MustRegister[Ping](cf)
	cl, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: cf, Transport: tcp.New(tcp.Options{})}})
	if err != nil {
		b.Fatal(err)
	}
	pongs := make(chan int, 1)
	if err := gnet.On(cl, func(c *gnet.Conn, m Ping) { pongs <- m.N }); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	conn, err := cl.Dial(ctx, game.Addr(), nil)
	if err != nil {
		b.Fatal(err)
	}
	stopClient, clientDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(clientDone)
		for {
			select {
			case <-stopClient:
				return
			default:
			}
			if cl.Update(5*time.Millisecond) != nil {
				return
			}
		}
	}()
	defer func() {
		close(stopClient)
		<-clientDone
		cl.Close()
	}()
	seq := 0
	ping := func() time.Duration {
		seq++
		t0 := time.Now()
		if err := conn.Send(&Ping{seq}); err != nil {
			b.Fatal(err)
		}
		select {
		case n := <-pongs:
			if n != seq {
				b.Fatalf("pong %d for ping %d", n, seq)
			}
		case <-time.After(wait):
			b.Fatalf("no pong within %v", wait)
		}
		return time.Since(t0)
	}
	for range 200 {
		ping() // warm up
	}
	b.ResetTimer()
	idle := make([]time.Duration, 20000)
	for i := range idle {
		idle[i] = ping()
	}

	const total = 1 << 30
	var sent atomic.Int64
	done := make(chan error, 1)
	go func() {
		_, err := flow.Wait(flow.Call(context.Background(), fc, flow.Request{Name: "sink"}, packets(total/(64<<10), 64<<10, &sent)))
		done <- err
	}()
	for sent.Load() < 32<<20 {
		time.Sleep(time.Millisecond)
	}
	start, s0 := time.Now(), sent.Load()
	var loaded []time.Duration
	var ferr error
pinging:
	for {
		select {
		case ferr = <-done:
			break pinging
		default:
		}
		loaded = append(loaded, ping())
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if ferr != nil {
		b.Fatal(ferr)
	}
	if got.Load() != total {
		b.Fatalf("b got %d of %d bytes", got.Load(), total)
	}
	b.ReportMetric(pct(idle, 0.5), "idle-p50-µs")
	b.ReportMetric(pct(idle, 0.99), "idle-p99-µs")
	b.ReportMetric(pct(loaded, 0.5), "flow-p50-µs")
	b.ReportMetric(pct(loaded, 0.99), "flow-p99-µs")
	b.ReportMetric(pct(loaded, 0.99)/pct(idle, 0.99), "p99-ratio")
	b.ReportMetric(float64(len(loaded)), "flow-pings")
	b.ReportMetric(float64(total-s0)/1e6/elapsed.Seconds(), "flow-MB/s")
}
