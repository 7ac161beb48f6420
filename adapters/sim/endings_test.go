package sim_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/sim"
	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/message"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/nettest"
	"github.com/gonetic/gonetic/net/transport"
)

// Graceful endings lose nothing (issue 17): what one side sent before it
// said goodbye arrives, exactly once and in order, before the goodbye
// does, over each adapter, on a clean network and through a Sim.

var endingsN = flag.Int("endings.n", 100_000,
	"messages TestDisconnectLosesNothing sends before it disconnects (issue 17's figure: 1000000)")

// Num is a numbered message: num(n).
type Num struct{ N int }

// Line is a chat line, numbered by the player who says it: line(from, n).
type Line struct{ From, N int }

func endingsFactory() *message.Factory {
	f := gnet.NewFactory()
	message.MustRegister[Num](f)
	message.MustRegister[Line](f)
	return f
}

// ending is one network an ending is tested on.
type ending struct {
	name string
	new  func(testing.TB) transport.Transport // an endpoint's adapter
	sim  string                               // the server's conditions (sim.Parse), "" for none
}

var endings = []ending{
	{"tcp", newTCP, ""},
	{"tcp+lag", newTCP, "lag=10ms"},
	{"enet", newENet, ""},
	{"enet+loss", newENet, "lag=5ms,jitter=2ms,loss=5%"},
}

func newTCP(testing.TB) transport.Transport { return tcp.New(tcp.Options{}) }

// serverTransport is the server's adapter, under e's conditions: clients
// reach it through its relay.
func (e ending) serverTransport(tb testing.TB) transport.Transport {
	t := e.new(tb)
	if e.sim == "" {
		return t
	}
	cfg, err := sim.Parse(e.sim)
	if err != nil {
		tb.Fatal(err)
	}
	return wrap(tb, t, cfg)
}

// endingDeadline bounds the wait for n messages and the reason after
// them; it only turns a hang into a failure.
func endingDeadline(n int) time.Duration {
	return 2*time.Minute + time.Duration(n)*100*time.Microsecond
}

// counter is the handler of the side that receives Nums: it checks that
// they come exactly once and in order, and that the reason comes last.
// Only the goroutine in its endpoint's Update touches it, until ended is
// closed.
type counter struct {
	gnet.Handler
	opened bool
	next   int   // the N due next
	bad    error // the first Num out of turn
	late   int   // Nums after the reason
	reason error
	atEnd  int // next, when the reason came
	ended  chan struct{}
}

func newCounter() *counter { return &counter{ended: make(chan struct{})} }

func (h *counter) OnConnect() { h.opened = true }

func (h *counter) NetNum(m Num) {
	if h.reason != nil {
		h.late++
		return
	}
	if m.N != h.next && h.bad == nil {
		h.bad = fmt.Errorf("num %d arrived when %d was due", m.N, h.next)
	}
	h.next = m.N + 1
}

func (h *counter) OnDisconnect(reason error) {
	h.reason, h.atEnd = reason, h.next
	close(h.ended)
}

// loop runs u's game loop on a goroutine of its own until stop is called,
// which waits for it.
func loop(u nettest.Updater) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			default:
			}
			if u.Update(10*time.Millisecond) != nil {
				return // closed
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(quit); <-done }) }
}

// wantEnding fails t unless err is the ending a peer's Disconnect(reason)
// gives.
func wantEnding(t testing.TB, who string, err error, reason string) {
	t.Helper()
	var de *gnet.DisconnectError
	if !errors.As(err, &de) || !de.Remote || de.Reason != reason || de.Err != nil {
		t.Fatalf("%s ended with %v, want the peer's reason %q", who, err, reason)
	}
}

// One side sends N reliable messages as fast as its queue lets it, calls
// Disconnect right after the last Send, and the other side gets all N,
// in order, then the reason.
func TestDisconnectLosesNothing(t *testing.T) {
	for _, e := range endings {
		t.Run(e.name, func(t *testing.T) {
			t.Run("client", func(t *testing.T) { disconnectAfter(t, e, *endingsN, false) })
			t.Run("server", func(t *testing.T) { disconnectAfter(t, e, *endingsN, true) })
		})
	}
}

// disconnectAfter has the client (or the server, when fromServer is set)
// send n Nums and disconnect at once.
func disconnectAfter(t *testing.T, e ending, n int, fromServer bool) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() { nettest.CheckGoroutines(t, before) }) // after the Closes below

	srvH, cliH := newCounter(), newCounter()
	var handlers atomic.Int32 // NewHandler runs once, at Listen, for the one connection
	s, err := gnet.Listen(gnet.ServerConfig{
		Config: gnet.Config{Factory: endingsFactory(), Transport: e.serverTransport(t)},
		NewHandler: func() any {
			if handlers.Add(1) > 1 {
				return newCounter() // a second connection would fail the test below
			}
			return srvH
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: endingsFactory(), Transport: e.new(t)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })

	// The receiver's game loop runs beside the sender's, which is this
	// goroutine's.
	var (
		sender         nettest.Updater
		conn           *gnet.Conn
		sendH, receive *counter
		stop           func() // the receiver's loop
	)
	ctx, cancel := context.WithTimeout(context.Background(), nettest.Deadline)
	defer cancel()
	if fromServer {
		sender, sendH, receive = s, srvH, cliH
		stop = loop(c)
		t.Cleanup(stop)
		if _, err := c.Connect(s.Addr(), cliH); err != nil {
			t.Fatal(err)
		}
		nettest.Pump(t, func() bool { return srvH.opened }, s)
		conn = srvH.Conn()
	} else {
		sender, sendH, receive = c, cliH, srvH
		stop = loop(s)
		t.Cleanup(stop)
		if conn, err = c.Dial(ctx, s.Addr(), cliH); err != nil {
			t.Fatal(err)
		}
	}

	start := time.Now()
	full := 0
	for i := 0; i < n; {
		err := conn.Send(&Num{N: i})
		switch {
		case err == nil:
			i++
		case errors.Is(err, transport.ErrQueueFull):
			full++
			if err := sender.Update(time.Millisecond); err != nil {
				t.Fatalf("Update: %v", err)
			}
		default:
			t.Fatalf("send %d: %v", i, err)
		}
	}
	conn.Disconnect("done")
	sent := time.Since(start)

	end := time.Now().Add(endingDeadline(n))
	for sendH.reason == nil || !isClosed(receive.ended) {
		if time.Now().After(end) {
			t.Fatalf("after %v: the receiver got %d of %d messages and no reason yet",
				time.Since(start), conn.Stats().MessagesSent, n)
		}
		if err := sender.Update(10 * time.Millisecond); err != nil {
			t.Fatalf("Update: %v", err)
		}
	}
	t.Logf("%d messages sent in %v (%d times the queue was full), all received with the reason in %v",
		n, sent.Round(time.Millisecond), full, time.Since(start).Round(time.Millisecond))
	stop()

	if receive.bad != nil {
		t.Error(receive.bad)
	}
	if receive.atEnd != n || receive.late != 0 {
		t.Errorf("the reason came after %d of %d messages; %d came after it", receive.atEnd, n, receive.late)
	}
	wantEnding(t, "the receiver", receive.reason, "done")
	var de *gnet.DisconnectError
	if !errors.As(sendH.reason, &de) || de.Remote || de.Reason != "done" {
		t.Errorf("the sender ended with %v, want its own reason", sendH.reason)
	}
	if n := handlers.Load(); n != 1 {
		t.Errorf("the server made %d handlers for one connection", n)
	}
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
