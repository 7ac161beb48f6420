package net

import (
	"slices"
	"testing"

	"github.com/gonetic/gonetic/handler"
	"github.com/gonetic/gonetic/message"
	"github.com/gonetic/gonetic/net/transport"
)

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
	f := NewFactory()
	message.MustRegister[seqMsg](f)
	cli, err := NewClient(ClientConfig{Config: Config{Factory: f, PingInterval: -1}})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if err := On(cli, func(c *Conn, m seqMsg) {
		if m.N < 0 {
			panic("handler failed")
		}
		for range m.N {
			if err := c.Send(&m); err != nil {
				t.Error(err)
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	e := cli.e
	l := &holdLink{}
	c := e.newConn("null:0", Open)
	c.link = l
	if c.table, err = handler.Bind(nil, f); err != nil {
		t.Fatal(err)
	}
	e.addPoller(l)
	deliver := func(n int) {
		b, err := f.Pack(seqMsg{n})
		if err != nil {
			t.Fatal(err)
		}
		e.inbox.push(c, itemPayload, 0, b)
	}

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
