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

	"github.com/gonetic/gonetic/adapters/enet"
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

// endingsFactory registers Num and Line on channel ch: 0, with the
// control messages (the goodbye among them), or 1, which ENet orders
// apart from them.
func endingsFactory(ch int) *message.Factory {
	f := gnet.NewFactory()
	message.MustRegister[Num](f, message.Channel(ch))
	message.MustRegister[Line](f, message.Channel(ch))
	return f
}

// ending is one network an ending is tested on.
type ending struct {
	name string
	new  func(testing.TB) transport.Transport // an endpoint's adapter
	sim  string                               // the server's conditions (sim.Parse), "" for none
}

var endings = []ending{
	{"tcp", smallTCP, ""},
	{"tcp+lag", smallTCP, "lag=10ms"},
	{"enet", smallENet, ""},
	{"enet+loss", smallENet, "lag=5ms,jitter=2ms,loss=5%"},
}

// Send queues of 64 KiB (messages are at most endingsMaxMessage bytes),
// so that senders meet ErrQueueFull, and back off, whatever N.
const (
	endingsQueue      = 64 << 10
	endingsMaxMessage = 4 << 10
)

func smallTCP(testing.TB) transport.Transport {
	return tcp.New(tcp.Options{MaxQueued: endingsQueue})
}

func smallENet(tb testing.TB) transport.Transport {
	t, err := enet.New(&enet.Options{QueueLimit: endingsQueue})
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// config is an endpoint's: the server's adapter is under e's conditions,
// and clients reach it through its relay. ch is the channel of the
// messages (endingsFactory).
func (e ending) config(tb testing.TB, ch int, server bool) gnet.Config {
	t := e.new(tb)
	if server && e.sim != "" {
		cfg, err := sim.Parse(e.sim)
		if err != nil {
			tb.Fatal(err)
		}
		t = wrap(tb, t, cfg)
	}
	return gnet.Config{Factory: endingsFactory(ch), Transport: t, MaxMessageSize: endingsMaxMessage}
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
			for ch := range 2 {
				t.Run(fmt.Sprintf("client/channel%d", ch), func(t *testing.T) { disconnectAfter(t, e, *endingsN, false, ch) })
				t.Run(fmt.Sprintf("server/channel%d", ch), func(t *testing.T) { disconnectAfter(t, e, *endingsN, true, ch) })
			}
		})
	}
}

// disconnectAfter has the client (or the server, when fromServer is set)
// send n Nums on channel ch and disconnect at once.
func disconnectAfter(t *testing.T, e ending, n int, fromServer bool, ch int) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() { nettest.CheckGoroutines(t, before) }) // after the Closes below

	srvH, cliH := newCounter(), newCounter()
	var handlers atomic.Int32 // NewHandler runs once, at Listen, for the one connection
	s, err := gnet.Listen(gnet.ServerConfig{
		Config: e.config(t, ch, true),
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
	c, err := gnet.NewClient(gnet.ClientConfig{Config: e.config(t, ch, false)})
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
			t.Fatalf("after %v: %d of %d messages went out, and the reason has not reached both ends",
				time.Since(start), conn.Stats().MessagesSent, n)
		}
		if err := sender.Update(10 * time.Millisecond); err != nil {
			t.Fatalf("Update: %v", err)
		}
	}
	t.Logf("%d messages sent in %v (%d times the queue was full); the reason reached both ends in %v",
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

// tally sums up a stream of Lines in order: two tallies are equal when
// they took the same Lines in the same order.
type tally struct {
	n    int
	hash uint64
}

func (t *tally) add(m Line) {
	t.n++
	t.hash = (t.hash^uint64(m.From)<<40^uint64(m.N))*1099511628211 + 1
}

// chatRelay is the server's handler for one player: it relays each line to
// every other player, and books, per recipient, the lines whose Send
// succeeded.
type chatRelay struct {
	gnet.Handler
	book  *book
	from  int // the player's number, from its first line; -1 before
	heard int
	ready chan<- int // told the player's number once it said enough
}

// book is what the server accepted for each connection. Only the
// goroutine in the server's Update touches it (Shutdown's Updates and the
// game loop's take turns).
type book struct {
	sent map[*gnet.Conn]*tally
	conn [players]*gnet.Conn // each player's connection
}

const (
	players  = 20
	warmUp   = 30 // lines each player says before the server shuts down
	shutdown = "server restarting"
)

func (h *chatRelay) NetLine(m Line) {
	if h.heard++; h.heard == 1 && m.From >= 0 && m.From < players {
		h.from = m.From
		h.book.conn[m.From] = h.Conn()
	}
	if h.heard == warmUp {
		h.ready <- h.from
	}
	for c := range h.Server().Connections(h.Conn()) {
		if c.Send(&m) == nil {
			t := h.book.sent[c]
			if t == nil {
				t = new(tally)
				h.book.sent[c] = t
			}
			t.add(m)
		}
	}
}

// player is a client's handler: it sums up the lines it gets until the
// reason comes.
type player struct {
	gnet.Handler
	got    tally
	late   int
	reason error
	atEnd  tally
}

func (p *player) NetLine(m Line) {
	if p.reason != nil {
		p.late++
		return
	}
	p.got.add(m)
}

func (p *player) OnDisconnect(reason error) { p.reason, p.atEnd = reason, p.got }

// Twenty players chat through the server, which shuts down while they
// do: every line the server accepted for a player reaches it before the
// reason, and every player gets the reason.
func TestShutdownLosesNothing(t *testing.T) {
	for _, e := range endings {
		for ch := range 2 {
			t.Run(fmt.Sprintf("%s/channel%d", e.name, ch), func(t *testing.T) { shutdownWhileChatting(t, e, ch) })
		}
	}
}

func shutdownWhileChatting(t *testing.T, e ending, ch int) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() { nettest.CheckGoroutines(t, before) })

	bk := &book{sent: make(map[*gnet.Conn]*tally)}
	ready := make(chan int, players)
	s, err := gnet.Listen(gnet.ServerConfig{
		Config: e.config(t, ch, true),
		NewHandler: func() any {
			return &chatRelay{book: bk, from: -1, ready: ready}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	stopServer := loop(s)
	t.Cleanup(stopServer)

	// Each player is a game of its own: a client and its loop, which says
	// a line every frame until the server says goodbye.
	ps := make([]*player, players)
	var wg sync.WaitGroup
	quit := make(chan struct{}) // the test ends early
	t.Cleanup(func() { close(quit); wg.Wait() })
	errs := make(chan error, players)
	deadline := time.Now().Add(endingDeadline(0))
	for i := range ps {
		p := &player{}
		ps[i] = p
		c, err := gnet.NewClient(gnet.ClientConfig{Config: e.config(t, ch, false)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), nettest.Deadline)
			defer cancel()
			conn, err := c.Dial(ctx, s.Addr(), p)
			if err != nil {
				errs <- fmt.Errorf("player %d: %w", i, err)
				return
			}
			for n := 0; p.reason == nil; {
				if isClosed(quit) {
					return
				}
				if time.Now().After(deadline) {
					errs <- fmt.Errorf("player %d: no reason after %v", i, endingDeadline(0))
					return
				}
				if err := conn.Send(&Line{From: i, N: n}); err == nil {
					n++
				} else if !errors.Is(err, transport.ErrQueueFull) && !errors.Is(err, gnet.ErrClosed) {
					errs <- fmt.Errorf("player %d: send: %w", i, err)
					return
				}
				if err := c.Update(time.Millisecond); err != nil {
					errs <- fmt.Errorf("player %d: update: %w", i, err)
					return
				}
			}
		}()
	}

	for range players {
		select {
		case <-ready:
		case err := <-errs:
			t.Fatal(err)
		case <-time.After(time.Until(deadline)):
			t.Fatal("the players did not all chat before the deadline")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), endingDeadline(0))
	defer cancel()
	start := time.Now()
	if err := s.Shutdown(ctx, shutdown); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	stopServer()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}

	for i, p := range ps {
		wantEnding(t, fmt.Sprintf("player %d", i), p.reason, shutdown)
		var want tally
		if c := bk.conn[i]; c == nil {
			t.Fatalf("player %d never spoke", i)
		} else if w := bk.sent[c]; w != nil {
			want = *w
		}
		if p.atEnd != want || p.late != 0 {
			t.Errorf("player %d: the reason came after %d lines (sum %x); the server accepted %d for it (sum %x); %d came after the reason",
				i, p.atEnd.n, p.atEnd.hash, want.n, want.hash, p.late)
		}
	}
	t.Logf("Shutdown took %v; the players' reasons came %v after it began; the server accepted %d lines for player 0",
		took.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), bk.sent[bk.conn[0]].n)
}
