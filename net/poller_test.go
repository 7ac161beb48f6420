package net

import (
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gonetic/gonetic/handler"
	"github.com/gonetic/gonetic/message"
	"github.com/gonetic/gonetic/net/transport"
)

// testDeadline bounds waits for what must happen; generous for a busy CI
// machine.
const testDeadline = 20 * time.Second

// polledClient is a client with one open connection over l, which is
// also its one poller, and handle as the handler of seqMsg; deliver queues
// a seqMsg for Update as an adapter would.
func polledClient(t *testing.T, l transport.Link, handle func(*Conn, seqMsg)) (cli *Client, deliver func(int)) {
	t.Helper()
	f := NewFactory()
	message.MustRegister[seqMsg](f)
	cli, err := NewClient(ClientConfig{Config: Config{Factory: f, PingInterval: -1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	if err := On(cli, handle); err != nil {
		t.Fatal(err)
	}
	c := cli.e.newConn("null:0", Open)
	c.link = l
	if c.table, err = handler.Bind(nil, f); err != nil {
		t.Fatal(err)
	}
	cli.e.addPoller(l.(transport.Poller))
	return cli, func(n int) {
		b, err := f.Pack(seqMsg{n})
		if err != nil {
			t.Fatal(err)
		}
		cli.e.inbox.push(c, itemPayload, 0, b)
	}
}

// holdLink is a link that is also a transport.Holder, and records the
// order of the calls Update makes on it.
type holdLink struct {
	nullLink
	log []string
}

func (l *holdLink) Send(uint8, transport.Delivery, []byte) error {
	l.log = append(l.log, "send")
	return nil
}
func (l *holdLink) Poll() { l.log = append(l.log, "poll") }
func (l *holdLink) Hold() { l.log = append(l.log, "hold") }

var _ transport.Holder = (*holdLink)(nil)

// Update holds its pollers while its handlers run and polls them after,
// so that replies leave in one batch without waking the adapter's
// goroutine; after a handler's panic too.
func TestUpdateHoldsPollersWhileHandlersRun(t *testing.T) {
	l := &holdLink{}
	cli, deliver := polledClient(t, l, func(c *Conn, m seqMsg) {
		if m.N < 0 {
			panic("handler failed")
		}
		for range m.N {
			if err := c.Send(&m); err != nil {
				t.Error(err)
			}
		}
	})

	deliver(2)
	if err := cli.Update(0); err != nil {
		t.Fatal(err)
	}
	if want := []string{"poll", "hold", "send", "send", "poll"}; !slices.Equal(l.log, want) {
		t.Fatalf("Update with one message called %v, want %v", l.log, want)
	}

	l.log = nil
	if err := cli.Update(0); err != nil {
		t.Fatal(err)
	}
	if want := []string{"poll"}; !slices.Equal(l.log, want) {
		t.Fatalf("Update with nothing to dispatch called %v, want %v (no hold without a closing poll)", l.log, want)
	}

	l.log = nil
	deliver(-1)
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the handler's panic did not reach Update's caller")
			}
		}()
		_ = cli.Update(0)
	}()
	if want := []string{"poll", "hold", "poll"}; !slices.Equal(l.log, want) {
		t.Fatalf("Update whose handler panicked called %v, want %v (a hold is always followed by a poll)", l.log, want)
	}
}

// waitLink is a link that is also a transport.Waiter: Wait blocks until
// Interrupt, or declines when decline is set.
type waitLink struct {
	nullLink
	decline   bool
	waits     atomic.Int64  // Waits with a time
	handBacks atomic.Int64  // Wait(0): the caller waits elsewhere
	inWait    chan struct{} // a Wait started
	interrupt chan struct{}
}

func (l *waitLink) Poll() {}
func (l *waitLink) Wait(d time.Duration) bool {
	if d <= 0 {
		l.handBacks.Add(1)
		return false
	}
	l.waits.Add(1)
	if l.decline {
		return false
	}
	l.inWait <- struct{}{}
	<-l.interrupt
	return true
}
func (l *waitLink) Interrupt() {
	select {
	case l.interrupt <- struct{}{}:
	default:
	}
}

var _ transport.Waiter = (*waitLink)(nil)

// Update(timeout) with nothing to dispatch waits in the endpoint's one
// poller when it is a transport.Waiter; what another goroutine queues for
// Update interrupts that wait; a Waiter that declines leaves Update waiting
// as it would without one; with two pollers Update waits on its own,
// after a Wait(0) to each.
func TestUpdateWaitsInSoleWaiter(t *testing.T) {
	got := make(chan int, 4)
	l := &waitLink{inWait: make(chan struct{}, 1), interrupt: make(chan struct{}, 1)}
	cli, deliver := polledClient(t, l, func(_ *Conn, m seqMsg) { got <- m.N })
	e := cli.e
	update := func() chan error {
		res := make(chan error, 1)
		go func() { res <- cli.Update(time.Hour) }()
		return res
	}
	finish := func(res chan error, want int) {
		t.Helper()
		select {
		case err := <-res:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(testDeadline):
			t.Fatal("Update(time.Hour) did not return after a message was queued")
		}
		if n := <-got; n != want {
			t.Fatalf("dispatched %d, want %d", n, want)
		}
		// deliver's wake-up token may have come after Update took its
		// item: it would end the next Update before it waits.
		select {
		case <-e.inbox.wake:
		default:
		}
	}

	res := update()
	select {
	case <-l.inWait:
	case <-time.After(testDeadline):
		t.Fatal("Update(time.Hour) did not wait in its sole transport.Waiter")
	}
	deliver(1) // interrupts the Wait
	finish(res, 1)

	l.decline = true
	before := l.waits.Load()
	res = update()
	for l.waits.Load() == before {
		runtime.Gosched()
	}
	deliver(2) // wakes Update's own wait
	finish(res, 2)

	l.decline = false
	before = l.waits.Load()
	other := &waitLink{decline: true}
	e.addPoller(other)
	res = update()
	deliver(3)
	finish(res, 3)
	if n := other.waits.Load() + l.waits.Load() - before; n != 0 {
		t.Errorf("Update waited in one of two pollers (%d times)", n)
	}
	if l.handBacks.Load() == 0 || other.handBacks.Load() == 0 {
		t.Errorf("Update waited in its inbox without Wait(0) to both Waiters (%d, %d)", l.handBacks.Load(), other.handBacks.Load())
	}
}
