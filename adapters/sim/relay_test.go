package sim_test

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	stdnet "net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/mem"
	"github.com/gonetic/gonetic/adapters/sim"
	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/net/transport"
)

const deadline = 20 * time.Second

func newSim(t *testing.T, spec string) *sim.Sim {
	t.Helper()
	cfg, err := sim.Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// udpEcho answers every datagram with "<its source address> <the datagram>".
func udpEcho(t *testing.T) string {
	t.Helper()
	c, err := stdnet.ListenUDP("udp", &stdnet.UDPAddr{IP: stdnet.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 2048)
		for {
			n, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			c.WriteToUDPAddrPort(append([]byte(from.String()+" "), buf[:n]...), from)
		}
	}()
	t.Cleanup(func() { c.Close(); wg.Wait() })
	return c.LocalAddr().String()
}

// eventually fails t unless cond comes true within the deadline.
func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(deadline); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("condition not met within the deadline")
		}
	}
}

func relay(t *testing.T, s *sim.Sim, network, target string) *sim.Relay {
	t.Helper()
	r, err := s.Relay(network, "127.0.0.1:0", target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func udpClient(t *testing.T, addr string) *stdnet.UDPConn {
	t.Helper()
	to, _ := stdnet.ResolveUDPAddr("udp", addr)
	c, err := stdnet.DialUDP("udp", nil, to)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// ask sends msg and returns the first answer within wait, or "".
func ask(c *stdnet.UDPConn, msg string, wait time.Duration) string {
	c.Write([]byte(msg))
	c.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 2048)
	n, err := c.Read(buf)
	if err != nil {
		return ""
	}
	return string(buf[:n])
}

// Each client of a UDP relay is a peer of its own at the target, and
// gets its own answers.
func TestUDPRelaySessions(t *testing.T) {
	r := relay(t, newSim(t, "off"), "udp", udpEcho(t))
	a, b := udpClient(t, r.Addr()), udpClient(t, r.Addr())
	ra, rb := ask(a, "from a", deadline), ask(b, "from b", deadline)
	fromA, msgA, _ := strings.Cut(ra, " ")
	fromB, msgB, _ := strings.Cut(rb, " ")
	if msgA != "from a" || msgB != "from b" {
		t.Fatalf("answers %q and %q", ra, rb)
	}
	if fromA == fromB {
		t.Errorf("both clients reached the target from %s", fromA)
	}
	if again := ask(a, "again", deadline); !strings.HasPrefix(again, fromA+" ") {
		t.Errorf("a's second datagram came from %q, its first from %s", again, fromA)
	}
}

// Lag delays each direction: a round trip takes at least twice the lag.
func TestUDPRelayLag(t *testing.T) {
	s := newSim(t, "lag=25ms")
	c := udpClient(t, relay(t, s, "udp", udpEcho(t)).Addr())
	start := time.Now()
	if ask(c, "x", deadline) == "" {
		t.Fatal("no answer")
	}
	if rtt := time.Since(start); rtt < 50*time.Millisecond {
		t.Errorf("round trip %v through 25 ms of lag each way", rtt)
	}
	// The relay counts a datagram once written, which may be after it
	// arrived.
	eventually(t, func() bool { st := s.Stats(); return st.Up.Delivered == 1 && st.Down.Delivered == 1 })
	if st := s.Stats(); st.Up.Packets != 1 || st.Down.Packets != 1 {
		t.Errorf("stats %+v, want one datagram each way", st)
	}
}

// Set changes the conditions while traffic flows: a loss of 100 % cuts
// the path, and clearing it restores it.
func TestSetCutsAndRestores(t *testing.T) {
	s := newSim(t, "off")
	c := udpClient(t, relay(t, s, "udp", udpEcho(t)).Addr())
	if ask(c, "before", deadline) == "" {
		t.Fatal("no answer before the cut")
	}
	if err := s.Set(sim.Both(sim.Conditions{Loss: 1})); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if got := ask(c, "cut", 20*time.Millisecond); got != "" {
			t.Fatalf("an answer through a cut path: %q", got)
		}
	}
	if lost := s.Stats().Up.Lost; lost != 5 {
		t.Errorf("%d datagrams lost on the way up, want 5", lost)
	}
	if err := s.Set(sim.Config{}); err != nil {
		t.Fatal(err)
	}
	if ask(c, "after", deadline) == "" {
		t.Error("no answer once the cut was cleared")
	}
	if err := s.Set(sim.Both(sim.Conditions{Loss: 2})); err == nil {
		t.Error("Set took a loss of 200 %")
	}
}

// tcpEcho echoes each connection's bytes and closes its side when the
// client closes its own.
func tcpEcho(t *testing.T) string {
	t.Helper()
	ln, err := stdnet.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				io.Copy(c, c)
				c.Close()
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().String()
}

// A TCP relay delays the stream but delivers every byte in order, and
// passes on the end of the stream.
func TestTCPRelayStream(t *testing.T) {
	r := relay(t, newSim(t, "lag=2ms,jitter=2ms"), "tcp", tcpEcho(t))
	c, err := stdnet.Dial("tcp", r.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(deadline))
	want := make([]byte, 1<<20)
	rand.NewChaCha8([32]byte{1}).Read(want)
	go func() {
		for p := want; len(p) > 0; p = p[min(len(p), 1000):] { // many small writes
			c.Write(p[:min(len(p), 1000)])
		}
		c.(*stdnet.TCPConn).CloseWrite()
	}()
	got, err := io.ReadAll(c) // to the echo's end of stream
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got %d bytes back, want the %d sent, in order", len(got), len(want))
	}
}

// A rate limit holds a stream to its rate.
func TestTCPRelayRate(t *testing.T) {
	r := relay(t, newSim(t, "up.rate=200KB/s"), "tcp", tcpEcho(t))
	c, err := stdnet.Dial("tcp", r.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(deadline))
	start := time.Now()
	go func() {
		c.Write(make([]byte, 100_000))
		c.(*stdnet.TCPConn).CloseWrite()
	}()
	n, err := io.Copy(io.Discard, c)
	if err != nil || n != 100_000 {
		t.Fatalf("%d bytes back, %v", n, err)
	}
	if took := time.Since(start); took < 450*time.Millisecond {
		t.Errorf("100 KB through 200 KB/s in %v", took)
	}
}

// The server side of a wrapped listener sees the client's own address.
func TestWrapRemoteAddr(t *testing.T) {
	w, err := newSim(t, "lag=1ms").Wrap(tcp.New(tcp.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	remote := make(chan string, 1)
	ln, err := w.Listen("127.0.0.1:0", transport.Config{}, func(l transport.Link) transport.Sink {
		remote <- l.RemoteAddr()
		return discard{}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := stdnet.Dial("tcp", ln.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	select {
	case got := <-remote:
		if got != c.LocalAddr().String() {
			t.Errorf("the server sees %s, the client is %s", got, c.LocalAddr())
		}
	case <-time.After(deadline):
		t.Fatal("no link accepted")
	}
	d, err := w.Dial(context.Background(), ln.Addr(), transport.Config{}, discard{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.RemoteAddr() != ln.Addr() {
		t.Errorf("a dialed link's peer is %s, dialed %s", d.RemoteAddr(), ln.Addr())
	}
}

type discard struct{}

func (discard) Receive(uint8, []byte) {}
func (discard) Closed(error)          {}

func TestWrapRefuses(t *testing.T) {
	if _, err := newSim(t, "loss=5%").Wrap(tcp.New(tcp.Options{})); err == nil || !strings.Contains(err.Error(), "byte stream") {
		t.Errorf("Wrap(tcp) with loss: %v", err)
	}
	if _, err := newSim(t, "lag=5ms").Wrap(new(mem.Network)); err == nil || !strings.Contains(err.Error(), "Relay") {
		t.Errorf("Wrap(mem): %v", err)
	}
	if _, err := newSim(t, "off").Relay("sctp", "127.0.0.1:0", "127.0.0.1:1"); err == nil {
		t.Error("a relay for sctp")
	}
}

func TestSimulate(t *testing.T) {
	tr := tcp.New(tcp.Options{})
	if got, s, err := sim.Simulate(tr, ""); got != tr || s != nil || err != nil {
		t.Errorf("Simulate with no spec: %v, %v, %v; want the transport itself", got, s, err)
	}
	got, s, err := sim.Simulate(tr, "lag=5ms,seed=3")
	if err != nil || s == nil || got.Name() != "tcp+sim" || s.String() != "lag=5ms (seed 3)" {
		t.Errorf("Simulate: %v, %v, %v", got, s, err)
	}
	for _, spec := range []string{"lag=fast", "loss=5%"} { // unreadable; not for a stream
		if _, _, err := sim.Simulate(tr, spec); err == nil {
			t.Errorf("Simulate(%q) took it", spec)
		}
	}
}
