package net_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/mem"
	"github.com/gonetic/gonetic/adapters/sim"
	"github.com/gonetic/gonetic/adapters/tcp"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/nettest"
	"github.com/gonetic/gonetic/net/transport"
)

// clockShift is how far off the server's machine clock is in these tests.
const clockShift = 3*time.Hour + 17*time.Minute

// trueOffset is what the client must add to its clock to get the
// server's, read on both ends back to back (a microsecond apart).
func trueOffset(srv *gnet.Server, cli *gnet.Client) time.Duration {
	return time.Duration(gnet.LocalClock(srv) - gnet.LocalClock(cli))
}

// clockHandler keeps what a client's connection knew of the server's
// clock when OnConnect ran.
type clockHandler struct {
	gnet.Handler
	srv      *gnet.Server
	cli      *gnet.Client
	atOpen   gnet.Clock
	rttOpen  time.Duration
	truth    time.Duration
	returned bool
}

func (h *clockHandler) OnConnect() {
	h.atOpen, h.truth, h.returned = h.Conn().Clock(), trueOffset(h.srv, h.cli), true
	h.rttOpen = h.Conn().Stats().RTT
}

// clockPair is a server whose clock is clockShift ahead, with its Update
// on a goroutine until the test ends, and a client with cfg over tr that
// connected to it through the server's transport srvTr.
func clockPair(t *testing.T, srvTr, cliTr transport.Transport, cfg gnet.Config) (*gnet.Server, *gnet.Client, *gnet.Conn, *clockHandler) {
	t.Helper()
	f := nettest.NewFactory(nil)
	srv, err := gnet.Listen(gnet.ServerConfig{Config: gnet.Config{Factory: f, Transport: srvTr}, Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	gnet.ShiftClock(srv, clockShift)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if srv.Update(time.Millisecond) != nil {
				return
			}
		}
	}()
	cfg.Factory, cfg.Transport = nettest.NewFactory(nil), cliTr
	cli, err := gnet.NewClient(gnet.ClientConfig{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cli.Close()
		close(stop)
		<-done
		srv.Close()
	})
	h := &clockHandler{srv: srv, cli: cli}
	conn, err := cli.Connect(srv.Addr(), h)
	if err != nil {
		t.Fatal(err)
	}
	nettest.Pump(t, conn.Connected, cli)
	return srv, cli, conn, h
}

// TestServerTimeFromOnConnect: over TCP on loopback, with the default
// pings (one a second), the ping sent with the handshake gives the client
// the server's clock by OnConnect, within Uncertainty of the truth, and
// Uncertainty is small, and Stats().RTT is known too. The server's connection tells its own clock.
func TestServerTimeFromOnConnect(t *testing.T) {
	srv, cli, conn, h := clockPair(t, tcp.New(tcp.Options{}), tcp.New(tcp.Options{}), gnet.Config{})
	if !h.returned || h.atOpen.Samples < 1 {
		t.Fatalf("OnConnect saw %+v: no sample of the server's clock yet", h.atOpen)
	}
	if err := h.atOpen.Offset - h.truth; err.Abs() > h.atOpen.Uncertainty {
		t.Fatalf("at OnConnect the offset is %v, the truth %v: off by %v, more than the uncertainty %v", h.atOpen.Offset, h.truth, err, h.atOpen.Uncertainty)
	}
	if h.rttOpen == 0 {
		t.Fatal("at OnConnect Stats().RTT is 0: the handshake's ping measures it too")
	}
	if h.atOpen.Uncertainty > 10*time.Millisecond || h.atOpen.Uncertainty != h.atOpen.RTT/2 {
		t.Fatalf("on loopback: %+v, want an uncertainty of half the RTT and under 10 ms", h.atOpen)
	}

	nettest.Pump(t, func() bool { return srv.NumConns() == 1 }, cli) // its Update is on a goroutine
	var sconn *gnet.Conn
	for c := range srv.Connections(nil) {
		sconn = c
	}
	if sconn == nil {
		t.Fatal("the server lists no connection")
	}
	if c := sconn.Clock(); c != (gnet.Clock{}) {
		t.Fatalf("a server's connection's Clock is %+v, want the zero Clock", c)
	}
	u := conn.Clock().Uncertainty
	before := conn.ServerTime()
	server := sconn.ServerTime()
	now := srv.Now()
	after := conn.ServerTime()
	if server.Before(before.Add(-u)) || server.After(after.Add(u)) {
		t.Fatalf("the server's clock %v is not within %v of the client's estimate, read before (%v) and after (%v)", server, u, before, after)
	}
	if now.Before(server) || now.After(after.Add(u)) {
		t.Fatalf("Server.Now() = %v, not the clock of its connections (%v, then the client's estimate %v ± %v)", now, server, after, u)
	}
	if d := time.Until(server) - clockShift; d.Abs() > time.Minute {
		t.Fatalf("the server's ServerTime is %v, %v from the shifted clock", server, d)
	}
	_ = cli
}

// TestServerTimeOneWayLag: with 50 ms added from client to server only,
// the estimate is off by about half of it, 25 ms (what NTP's assumption of
// equal ways costs), and still within Uncertainty; meanwhile ServerTime,
// read from another goroutine, never goes backwards.
func TestServerTimeOneWayLag(t *testing.T) {
	s, err := sim.New(sim.Config{Up: sim.Conditions{Lag: 50 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	wrapped, err := s.Wrap(tcp.New(tcp.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	cfg := gnet.Config{PingInterval: 10 * time.Millisecond, Timeout: 10 * time.Second}
	srv, cli, conn, _ := clockPair(t, tcp.New(tcp.Options{}), wrapped, cfg)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var back error
	wg.Go(func() {
		last := conn.ServerTime()
		for {
			select {
			case <-stop:
				return
			default:
			}
			now := conn.ServerTime()
			if now.Before(last) {
				back = &backwards{last, now}
				return
			}
			last = now
		}
	})
	// Twice the samples the estimate picks from: the first ones, taken
	// while the connection started, have left the window.
	nettest.Pump(t, func() bool { return conn.Clock().Samples >= 16 }, cli)
	close(stop)
	wg.Wait()
	if back != nil {
		t.Fatal(back)
	}
	c, truth := conn.Clock(), trueOffset(srv, cli)
	e := c.Offset - truth
	if e.Abs() > c.Uncertainty {
		t.Fatalf("offset %v, truth %v: off by %v, more than the uncertainty %v", c.Offset, truth, e, c.Uncertainty)
	}
	if e < 20*time.Millisecond || e > 30*time.Millisecond {
		t.Fatalf("offset off by %v with 50 ms added one way, want about 25 ms (%+v)", e, c)
	}
	if c.RTT < 50*time.Millisecond {
		t.Fatalf("RTT %v through 50 ms of lag", c.RTT)
	}
}

type backwards struct{ last, now time.Time }

func (b *backwards) Error() string {
	return "ServerTime went backwards: " + b.last.String() + " then " + b.now.String()
}

// TestPongWithoutClock: a server written from the protocol's first text
// answers pings with ["pong", stamp] alone; the client takes the RTT from
// it, keeps the connection, and ServerTime stays the local clock.
func TestPongWithoutClock(t *testing.T) {
	nw := new(mem.Network)
	f := nettest.NewFactory(nil)
	l, err := nw.Listen("foreign:0", transport.Config{Channels: f.Channels()}, func(link transport.Link) transport.Sink {
		return &foreignServer{link: link}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cli, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: f, Transport: nw, PingInterval: 10 * time.Millisecond, Timeout: 10 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	conn, err := cli.Connect(l.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	nettest.Pump(t, func() bool { return conn.Connected() && conn.Stats().RTT > 0 }, cli)
	for range 5 { // a few more pongs
		_ = cli.Update(10 * time.Millisecond)
	}
	if !conn.Connected() {
		t.Fatal("the connection ended on a pong of two elements")
	}
	if c := conn.Clock(); c != (gnet.Clock{}) {
		t.Fatalf("Clock is %+v from pongs without a clock, want the zero Clock", c)
	}
	local := gnet.LocalClock(cli)
	if d := conn.ServerTime().UnixNano() - local; d < 0 || d > int64(time.Second) {
		t.Fatalf("ServerTime is %v from the local clock, want the local clock", time.Duration(d))
	}
}

// foreignServer answers a hello with welcome and pings with a pong of two
// elements, as interop.py does.
type foreignServer struct{ link transport.Link }

func (s *foreignServer) Receive(_ uint8, p []byte) {
	switch {
	case len(p) > 8 && string(p[3:8]) == "hello":
		_ = s.link.Send(0, transport.Reliable, []byte("\x00\x92\xa7welcome\x01"))
	case len(p) > 7 && string(p[:7]) == "\x00\x92\xa4ping":
		_ = s.link.Send(0, transport.Reliable, append([]byte("\x00\x92\xa4pong"), p[7:]...))
	}
}
func (s *foreignServer) Closed(error) {}

// TestMalformedPongClock: a pong whose third element is not an unsigned
// integer, or that has four elements, ends the connection with a protocol
// error that says so, as any malformed control message does.
func TestMalformedPongClock(t *testing.T) {
	f := nettest.NewFactory(nil)
	nw, srv := memServer(t, gnet.ServerConfig{Config: gnet.Config{Factory: f}})
	for _, c := range []struct {
		name, pong, want string
	}{
		{"string clock", "\x00\x93\xa4pong\x01\xa1x", "pong clock"},
		{"negative clock", "\x00\x93\xa4pong\x01\xff", "pong clock"},
		{"float clock", "\x00\x93\xa4pong\x01\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00", "pong clock"},
		{"four elements", "\x00\x94\xa4pong\x01\x02\x03", "pong has 4 elements"},
		{"one element", "\x00\x91\xa4pong", "pong has 1 elements"},
	} {
		t.Run(c.name, func(t *testing.T) {
			sink := &byeSink{bye: make(chan string, 1)}
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
			if err := link.Send(0, transport.Reliable, []byte(c.pong)); err != nil {
				t.Fatal(err)
			}
			bye := sink.wait(t, srv)
			if !strings.Contains(bye, "protocol error") || !strings.Contains(bye, c.want) {
				t.Fatalf("the peer was told %q, want a protocol error about %q", bye, c.want)
			}
		})
	}
}
