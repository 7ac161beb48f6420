package net_test

import (
	"context"
	"encoding/binary"
	"errors"
	stdnet "net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/mem"
	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/message"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/nettest"
	"github.com/gonetic/gonetic/net/transport"
)

// A handler whose methods are on the pointer, returned as a value.
type valueHandler struct{ gnet.Handler }

func (h *valueHandler) NetChatMsg(nettest.Chat) {}

// A handler with a misspelt message method.
type misspeltHandler struct{ gnet.Handler }

func (h *misspeltHandler) NetChatMessage(nettest.Chat) {}

// A handler with a message method of the wrong signature.
type wrongSignatureHandler struct{ gnet.Handler }

func (h *wrongSignatureHandler) NetChatMsg(string) {}

func TestListenChecksTheHandler(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func() any
		want string
	}{
		{"value instead of pointer", func() any { return valueHandler{} }, "use a pointer"},
		{"misspelt method", func() any { return &misspeltHandler{} }, "NetChatMessage matches no registered message type"},
		{"wrong signature", func() any { return &wrongSignatureHandler{} }, "NetChatMsg"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := gnet.Listen(gnet.ServerConfig{
				Config:     gnet.Config{Factory: nettest.NewFactory(nil), Transport: new(mem.Network)},
				Addr:       "server:0",
				NewHandler: tc.make,
			})
			if err == nil {
				srv.Close()
				t.Fatal("Listen accepted a handler that cannot be bound")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "NewHandler") {
				t.Fatalf("Listen's error %q does not say %q and NewHandler", err, tc.want)
			}
		})
	}
}

// TestListenMakesOneHandlerPerConnection: the handler Listen checks is the
// first connection's: NewHandler runs once per connection, no more.
func TestListenMakesOneHandlerPerConnection(t *testing.T) {
	var made int
	srv, cli := memPair(t, gnet.ServerConfig{
		Config:     gnet.Config{Factory: nettest.NewFactory(nil)},
		NewHandler: func() any { made++; return &nettest.ChatHandler{} },
	}, nettest.NewFactory(nil))
	for range 2 {
		if _, err := cli.Connect(srv.Addr(), nil); err != nil {
			t.Fatal(err)
		}
	}
	nettest.Pump(t, func() bool { return srv.NumConns() == 2 }, srv, cli)
	if made != 2 {
		t.Fatalf("NewHandler ran %d times for 2 connections", made)
	}
}

// silentTransport dials nothing: its Dial waits for its context, as a dial
// to a peer that never answers does.
type silentTransport struct{ mem.Network }

func (*silentTransport) Dial(ctx context.Context, _ string, _ transport.Config, _ transport.Sink) (transport.Link, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestCloseCancelsDials: Close does not wait for a connect to a peer that
// never answers, however long the handshake timeout; and Disconnect of a
// connection still connecting ends it at once.
func TestCloseCancelsDials(t *testing.T) {
	for _, how := range []string{"Close", "Disconnect then Close"} {
		t.Run(how, func(t *testing.T) {
			cli, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{
				Factory: nettest.NewFactory(nil), Transport: new(silentTransport), HandshakeTimeout: time.Hour,
			}})
			if err != nil {
				t.Fatal(err)
			}
			conn, err := cli.Connect("nowhere:1", nil)
			if err != nil {
				t.Fatal(err)
			}
			if how != "Close" {
				conn.Disconnect("changed my mind")
				nettest.Pump(t, func() bool { return conn.State() == gnet.Closed }, cli)
			}
			closed := make(chan struct{})
			go func() { cli.Close(); close(closed) }()
			select {
			case <-closed:
			case <-time.After(nettest.Deadline):
				t.Fatal("Close waited for a dial that never ends")
			}
		})
	}
}

// TestUpdateWaitsOutAFullEventQueue: with the event queue full, Update
// delivers nothing and waits its timeout, so that a loop running Update to
// a deadline does not spin.
func TestUpdateWaitsOutAFullEventQueue(t *testing.T) {
	srv, cli := memPair(t, gnet.ServerConfig{Config: gnet.Config{Factory: nettest.NewFactory(nil), EventQueue: 1}}, nettest.NewFactory(nil))
	if _, err := cli.Connect(srv.Addr(), nil); err != nil {
		t.Fatal(err)
	}
	nettest.Pump(t, func() bool { return srv.NumConns() == 1 }, srv, cli) // Accepted fills the queue
	const timeout = 30 * time.Millisecond
	calls := 0
	for start := time.Now(); time.Since(start) < 3*timeout; calls++ {
		if err := srv.Update(timeout); err != nil {
			t.Fatal(err)
		}
	}
	// Each call waits its whole timeout: 3 or 4 calls fill 3 timeouts (a
	// spinning Update makes thousands). A lower bound on a wait, never an
	// upper one: no sleep ends early.
	if calls > 4 {
		t.Fatalf("Update with a full event queue returned at once: %d calls in %v", calls, 3*timeout)
	}
	if _, ok := srv.Poll(); !ok {
		t.Fatal("the queued event was lost")
	}
}

// TestSendTo: SendTo reaches exactly the connections it is given, and
// Broadcast every connection but the excluded one.
func TestSendTo(t *testing.T) {
	srv, cli := memPair(t, gnet.ServerConfig{Config: gnet.Config{Factory: nettest.NewFactory(nil)}}, nettest.NewFactory(nil))
	hs := make([]*nettest.ChatHandler, 4)
	for i := range hs {
		hs[i] = &nettest.ChatHandler{}
		if _, err := cli.Connect(srv.Addr(), hs[i]); err != nil {
			t.Fatal(err)
		}
	}
	nettest.Pump(t, func() bool { return srv.NumConns() == 4 && cli.NumConns() == 4 }, srv, cli)
	conns := slices.Collect(srv.Connections(nil))
	even := func(yield func(*gnet.Conn) bool) {
		for i, c := range conns {
			if i%2 == 0 && !yield(c) {
				return
			}
		}
	}
	if err := srv.SendTo(&nettest.Chat{Player: "gm", Msg: "even"}, even); err != nil {
		t.Fatal(err)
	}
	if err := srv.Broadcast(&nettest.Chat{Player: "gm", Msg: "all but 1"}, conns[1]); err != nil {
		t.Fatal(err)
	}
	// Connection 0 and 2 get both, 3 gets one, 1 none: the handlers run
	// on this goroutine (Pump), so their fields need no lock.
	count := func() []int {
		var n []int
		for _, h := range hs {
			n = append(n, len(h.Chats))
		}
		slices.Sort(n)
		return n
	}
	nettest.Pump(t, func() bool { return slices.Equal(count(), []int{0, 1, 2, 2}) }, srv, cli)
	for range 20 { // nothing more arrives
		_ = cli.Update(time.Millisecond)
	}
	if got := count(); !slices.Equal(got, []int{0, 1, 2, 2}) {
		t.Fatalf("messages per connection %v, want [0 1 2 2]", got)
	}

	// A connection that is not open is skipped without an error, and the
	// ones after it still get the message.
	conns[0].Disconnect("kicked")
	nettest.Pump(t, func() bool { return cli.NumConns() == 3 }, srv, cli)
	before := make([]int, len(hs))
	for i, h := range hs {
		before[i] = len(h.Chats)
	}
	if err := srv.SendTo(&nettest.Chat{Player: "gm", Msg: "to all four"}, slices.Values(conns)); err != nil {
		t.Fatalf("SendTo with a closed connection first: %v, want nil", err)
	}
	total := func() int {
		n := 0
		for _, h := range hs {
			n += len(h.Chats)
		}
		return n
	}
	nettest.Pump(t, func() bool { return total() == 5+3 }, srv, cli)
	for range 20 { // nothing more arrives
		_ = cli.Update(time.Millisecond)
	}
	for i, h := range hs {
		want := before[i] + 1
		if h.Disconnected != nil {
			want = before[i]
		}
		if len(h.Chats) != want {
			t.Fatalf("client connection %d (ended: %v) has %d messages, want %d", i, h.Disconnected, len(h.Chats), want)
		}
	}
}

// TestConnectionsAllocatesNothingPerConnection: ranging over Connections
// and Handlers costs the same for 1 connection as for 50.
func TestConnectionsAllocatesNothingPerConnection(t *testing.T) {
	var set sync.Map
	srv, cli := memPair(t, gnet.ServerConfig{Config: gnet.Config{Factory: nettest.NewFactory(nil)},
		NewHandler: func() any { h := &nettest.ChatHandler{}; set.Store(h, true); return h }}, nettest.NewFactory(nil))
	allocs := func() float64 {
		return testing.AllocsPerRun(100, func() {
			n := 0
			for range srv.Connections(nil) {
				n++
			}
			for range srv.Handlers(nil) {
				n++
			}
		})
	}
	var one float64
	for i := range 50 {
		if _, err := cli.Connect(srv.Addr(), nil); err != nil {
			t.Fatal(err)
		}
		nettest.Pump(t, func() bool { return srv.NumConns() == i+1 }, srv, cli)
		if i == 0 {
			one = allocs()
		}
	}
	if fifty := allocs(); fifty > one {
		t.Fatalf("ranging over 50 connections allocates %v times, over 1 %v", fifty, one)
	}
}

// TestTimeoutReportedWhenItHappens: a silent TCP peer that keeps its
// socket open is reported timed out after Config.Timeout, not after the
// adapter's graceful close gives up on it (here an hour).
func TestTimeoutReportedWhenItHappens(t *testing.T) {
	f := nettest.NewFactory(nil)
	gone := make(chan error, 1)
	srv, err := gnet.Listen(gnet.ServerConfig{
		Config: gnet.Config{Factory: f, Transport: tcp.New(tcp.Options{CloseTimeout: time.Hour}),
			PingInterval: 10 * time.Millisecond, Timeout: 200 * time.Millisecond},
		NewHandler: func() any { return &reportingHandler{gone: gone} },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	raw, err := stdnet.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	hello := nettest.Hello(f)
	if _, err := raw.Write(binary.BigEndian.AppendUint32(nil, uint32(len(hello)))); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Write(hello); err != nil {
		t.Fatal(err)
	}
	var reason error
	nettest.Pump(t, func() bool {
		select {
		case reason = <-gone:
			return true
		default:
			return false
		}
	}, srv)
	if !errors.Is(reason, gnet.ErrTimeout) {
		t.Fatalf("a silent peer ended with %v, want ErrTimeout", reason)
	}
}

// reportingHandler hands its connection's end to a channel.
type reportingHandler struct {
	gnet.Handler
	gone chan error
}

func (h *reportingHandler) OnDisconnect(err error) { h.gone <- err }

// Snapshot is sent by servers only.
type Snapshot struct {
	Tick    uint32
	Players []nettest.Chat
}

// TestDirectionCheckedBeforeDecoding: a type the registry says the server
// sends, arriving from a client, is rejected from its id alone: no handler
// runs, its fields are not decoded, and the peer is told why. A client's
// Send of such a type fails at once.
func TestDirectionCheckedBeforeDecoding(t *testing.T) {
	newFactory := func() *message.Factory {
		f := nettest.NewFactory(nil)
		message.MustRegister[Snapshot](f, message.SentBy(message.ServerToClient))
		return f
	}
	f := newFactory()
	handled := 0
	nw, srv := memServer(t, gnet.ServerConfig{Config: gnet.Config{Factory: f}})
	if err := gnet.On(srv, func(*gnet.Conn, Snapshot) { handled++ }); err != nil {
		t.Fatal(err)
	}

	cli, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: newFactory(), Transport: nw}})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	conn, err := cli.Connect(srv.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	nettest.Pump(t, conn.Connected, srv, cli)
	if err := conn.Send(&Snapshot{Tick: 1}); !errors.Is(err, message.ErrDirection) {
		t.Fatalf("a client's Send of a server-to-client type: %v, want ErrDirection", err)
	}

	// By hand: the id of snapshot, then a field that would take long to
	// decode (a million nils where players go) and would be refused anyway.
	sink := &byeSink{bye: make(chan string, 1)}
	ctx, cancel := context.WithTimeout(context.Background(), nettest.Deadline)
	defer cancel()
	link, err := nw.Dial(ctx, srv.Addr(), transport.Config{Channels: f.Channels(), MaxPayload: 4 << 20}, sink)
	if err != nil {
		t.Fatal(err)
	}
	defer link.Abort()
	if err := link.Send(0, transport.Reliable, nettest.Hello(f)); err != nil {
		t.Fatal(err)
	}
	id := byte(f.TypeOf(Snapshot{}).ID())
	evil := []byte{0x93, id, 0x01, 0xdd, 0x00, 0x0f, 0x42, 0x40} // [id, 1, array32(1,000,000)…
	evil = append(evil, make([]byte, 1_000_000)...)              // …of nils (0xc0 ≠ 0: here zeros, positive fixints)
	if err := link.Send(0, transport.Reliable, evil); err != nil {
		t.Fatal(err)
	}
	bye := sink.wait(t, srv)
	if !strings.Contains(bye, "snapshot") || !strings.Contains(bye, "server") {
		t.Fatalf("the peer was told %q, want the type and its direction", bye)
	}
	if handled != 0 {
		t.Fatal("a message in the wrong direction reached a handler")
	}
}

// byeSink keeps the reason of the bye a bare link receives.
type byeSink struct{ bye chan string }

func (s *byeSink) Receive(_ uint8, p []byte) {
	if len(p) > 0 && p[0] == 0 && strings.Contains(string(p), "bye") {
		select {
		case s.bye <- string(p):
		default:
		}
	}
}
func (s *byeSink) Closed(error) {}

// wait runs srv's Update until the bye arrives and returns its reason.
func (s *byeSink) wait(t *testing.T, srv *gnet.Server) string {
	t.Helper()
	var bye string
	nettest.Pump(t, func() bool {
		select {
		case bye = <-s.bye:
			return true
		default:
			return false
		}
	}, srv)
	return bye
}

// TestPingInAnyEncodingAnswered: a ping written with other msgpack headers
// than gonetic's own (array 16, str 8, a uint 64 stamp), as another
// language's msgpack library may write it, is answered with a pong.
func TestPingInAnyEncodingAnswered(t *testing.T) {
	f := nettest.NewFactory(nil)
	nw, srv := memServer(t, gnet.ServerConfig{Config: gnet.Config{Factory: f}})
	sink := &pongSink{pong: make(chan []byte, 1)}
	ctx, cancel := context.WithTimeout(context.Background(), nettest.Deadline)
	defer cancel()
	link, err := nw.Dial(ctx, srv.Addr(), transport.Config{Channels: f.Channels()}, sink)
	if err != nil {
		t.Fatal(err)
	}
	defer link.Abort()
	if err := link.Send(0, transport.Reliable, nettest.Hello(f)); err != nil {
		t.Fatal(err)
	}
	nettest.Pump(t, func() bool { return srv.NumConns() == 1 }, srv)
	ping := []byte{0x00, 0xdc, 0x00, 0x02, 0xd9, 0x04, 'p', 'i', 'n', 'g', 0xcf, 0, 0, 0, 0, 0, 0, 0x30, 0x39}
	if err := link.Send(0, transport.Reliable, ping); err != nil {
		t.Fatal(err)
	}
	var pong []byte
	nettest.Pump(t, func() bool {
		select {
		case pong = <-sink.pong:
			return true
		default:
			return false
		}
	}, srv)
	// The stamp encoded again in its smallest form, then the server's
	// clock: a uint 64 for any date after 2004.
	if want := "\x00\x93\xa4pong\xcd\x30\x39\xcf"; len(pong) != len(want)+8 || string(pong[:len(want)]) != want {
		t.Fatalf("pong %q, want %q and 8 bytes of clock", pong, want)
	}
	clock := time.Unix(0, int64(binary.BigEndian.Uint64(pong[len(pong)-8:])))
	if d := time.Since(clock); d < 0 || d > time.Minute {
		t.Fatalf("the pong's clock is %v, %v from now", clock, d)
	}
}

// pongSink keeps the first pong a bare link receives.
type pongSink struct{ pong chan []byte }

func (s *pongSink) Receive(_ uint8, p []byte) {
	if len(p) > 4 && string(p[3:7]) == "pong" {
		select {
		case s.pong <- append([]byte(nil), p...):
		default:
		}
	}
}
func (s *pongSink) Closed(error) {}

// memServer starts a server with cfg on a new in-memory network (its
// Transport and Addr are set here); it closes when the test ends.
func memServer(t *testing.T, cfg gnet.ServerConfig) (*mem.Network, *gnet.Server) {
	t.Helper()
	nw := new(mem.Network)
	cfg.Transport, cfg.Addr = nw, "server:0"
	srv, err := gnet.Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return nw, srv
}

// memPair starts a server with cfg as memServer does and a client of
// registry f on the same network; both close when the test ends.
func memPair(t *testing.T, cfg gnet.ServerConfig, f *message.Factory) (*gnet.Server, *gnet.Client) {
	t.Helper()
	nw, srv := memServer(t, cfg)
	cli, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: f, Transport: nw}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return srv, cli
}

// An Update(0) that finds nothing lets other goroutines run: with one P, a
// game spinning on it would otherwise hold the adapters' goroutines (and
// every other one) off until the runtime preempts it, some 10 ms, a
// hundred thousand spins later.
func TestIdleUpdateYields(t *testing.T) {
	srv, _ := memPair(t, gnet.ServerConfig{Config: gnet.Config{Factory: nettest.NewFactory(nil)}}, nettest.NewFactory(nil))
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	ran := make(chan struct{})
	var done atomic.Bool
	go func() {
		<-ran
		done.Store(true)
	}()
	close(ran) // the goroutine is runnable, and waits for the one P
	for i := 0; i < 1000 && !done.Load(); i++ {
		if err := srv.Update(0); err != nil {
			t.Fatal(err)
		}
	}
	if !done.Load() {
		t.Fatal("1000 idle Update(0) calls never let a runnable goroutine run")
	}
}

// TestErrIsTheDisconnectReason: Conn.Err is nil while the connection
// lives, then the reason its handler's OnDisconnect got, at both ends.
func TestErrIsTheDisconnectReason(t *testing.T) {
	srv, cli := memPair(t, gnet.ServerConfig{Config: gnet.Config{Factory: nettest.NewFactory(nil)}}, nettest.NewFactory(nil))
	h := &nettest.ChatHandler{}
	cc, err := cli.Connect(srv.Addr(), h)
	if err != nil {
		t.Fatal(err)
	}
	nettest.Pump(t, func() bool { return srv.NumConns() == 1 && cc.Connected() }, srv, cli)
	sc := slices.Collect(srv.Connections(nil))[0]
	if cc.Err() != nil || sc.Err() != nil {
		t.Fatalf("Err of open connections: %v, %v; want nil", cc.Err(), sc.Err())
	}
	sc.Disconnect("kicked")
	nettest.Pump(t, func() bool { return cc.State() == gnet.Closed && sc.State() == gnet.Closed }, srv, cli)
	var de *gnet.DisconnectError
	if !errors.As(cc.Err(), &de) || !de.Remote || de.Reason != "kicked" {
		t.Errorf("client's Err = %v, want the server's bye, kicked", cc.Err())
	}
	if cc.Err() != h.Disconnected {
		t.Errorf("client's Err = %v, its OnDisconnect got %v", cc.Err(), h.Disconnected)
	}
	if !errors.As(sc.Err(), &de) || de.Remote || de.Reason != "kicked" {
		t.Errorf("server's Err = %v, want its own reason, kicked", sc.Err())
	}
}
