package net

import (
	"errors"
	"strings"
	"testing"

	"github.com/gonetic/gonetic/adapters/mem"
	"github.com/gonetic/gonetic/handler"
	"github.com/gonetic/gonetic/message"
	"github.com/gonetic/gonetic/net/transport"
)

// nullLink is a link that goes nowhere, for driving an endpoint by hand.
type nullLink struct{}

func (nullLink) Send(uint8, transport.Delivery, []byte) error { return nil }
func (nullLink) Flush()                                       {}
func (nullLink) Close()                                       {}
func (nullLink) Abort()                                       {}
func (nullLink) RemoteAddr() string                           { return "null:0" }
func (nullLink) Stats() transport.Stats                       { return transport.Stats{} }

type seqMsg struct{ N int }

// ENet orders each channel apart: a message on channel 1 can overtake the
// welcome on channel 0, or arrive after the peer's bye. Neither may be lost.
func TestMessagesAcrossChannelsAroundHandshakeAndBye(t *testing.T) {
	f := NewFactory()
	message.MustRegister[seqMsg](f, message.Channel(1))
	cli, err := NewClient(ClientConfig{Config: Config{Factory: f, PingInterval: -1}})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	var got []int
	if err := On(cli, func(_ *Conn, m seqMsg) { got = append(got, m.N) }); err != nil {
		t.Fatal(err)
	}
	e := cli.e
	c := e.newConn("null:0", Handshaking, true)
	c.link = nullLink{}
	if c.table, err = handler.Bind(nil, f); err != nil {
		t.Fatal(err)
	}
	pack := func(n int) []byte {
		b, err := f.Pack(seqMsg{n})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	w := ctlCodec.NewWriter()
	e.receive(c, 1, pack(1)) // overtook the welcome
	if len(got) != 0 || c.State() != Handshaking {
		t.Fatalf("before the welcome: got %v, state %v", got, c.State())
	}
	e.receive(c, 0, appendControl(w, nil, control{kind: ctlWelcome, version: ProtocolVersion}))
	e.receive(c, 1, pack(2))
	e.receive(c, 0, appendControl(w, nil, control{kind: ctlBye, reason: "leaving"}))
	e.receive(c, 1, pack(3)) // sent before the bye, on another channel
	if c.State() != Closing || len(got) != 3 || got[0] != 1 || got[1] != 2 || got[2] != 3 {
		t.Fatalf("got %v, state %v; want [1 2 3], closing", got, c.State())
	}
}

// A server that sends from OnConnect on, over a network that loses the
// welcome, gets thousands of messages ahead of its resent welcome (issue
// 17): a client keeps them all, within Config.InboxBytes, and delivers
// them in order once the welcome comes.
func TestManyMessagesBeforeTheWelcome(t *testing.T) {
	f := NewFactory()
	message.MustRegister[seqMsg](f, message.Channel(1))
	cli, err := NewClient(ClientConfig{Config: Config{Factory: f, PingInterval: -1}})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	var got []int
	if err := On(cli, func(_ *Conn, m seqMsg) { got = append(got, m.N) }); err != nil {
		t.Fatal(err)
	}
	e := cli.e
	c := e.newConn("null:0", Handshaking, true)
	c.link = nullLink{}
	if c.table, err = handler.Bind(nil, f); err != nil {
		t.Fatal(err)
	}
	const n = 10000
	for i := range n {
		b, err := f.Pack(seqMsg{i})
		if err != nil {
			t.Fatal(err)
		}
		e.receive(c, 1, b)
	}
	w := ctlCodec.NewWriter()
	e.receive(c, 0, appendControl(w, nil, control{kind: ctlWelcome, version: ProtocolVersion}))
	if c.State() != Open || len(got) != n {
		t.Fatalf("state %v, %d of %d early messages delivered (failure: %v)", c.State(), len(got), n, c.failure)
	}
	for i, m := range got {
		if m != i {
			t.Fatalf("early message %d delivered as the %dth", m, i)
		}
	}
}

// A client keeps what overtook the welcome up to Config.InboxBytes; one
// more message ends the connection, saying why, and none of them is
// dispatched.
func TestEarlyMessagesBounded(t *testing.T) {
	f := NewFactory()
	message.MustRegister[seqMsg](f, message.Channel(1))
	const inbox = 64 << 10
	cli, err := NewClient(ClientConfig{Config: Config{Factory: f, PingInterval: -1, InboxBytes: inbox, MaxMessageSize: 1024}})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	got := 0
	if err := On(cli, func(*Conn, seqMsg) { got++ }); err != nil {
		t.Fatal(err)
	}
	e := cli.e
	c := e.newConn("null:0", Handshaking, true)
	c.link = nullLink{}
	if c.table, err = handler.Bind(nil, f); err != nil {
		t.Fatal(err)
	}
	b, err := f.Pack(seqMsg{1})
	if err != nil {
		t.Fatal(err)
	}
	fits := inbox / (len(b) + earlyOverhead)
	for range fits {
		e.receive(c, 1, b)
	}
	if c.State() != Handshaking || len(c.early) != fits {
		t.Fatalf("after %d early messages: state %v, %d kept", fits, c.State(), len(c.early))
	}
	e.receive(c, 1, b)
	if c.State() != Closing || c.failure == nil || !strings.Contains(c.failure.Error(), "before the server's welcome (Config.InboxBytes)") {
		t.Fatalf("after %d early messages: state %v, failure %v; want closing, saying why", fits+1, c.State(), c.failure)
	}
	if got != 0 {
		t.Fatalf("%d early messages dispatched without a welcome", got)
	}
}

// closingLink is a link the peer is closing: the adapter refuses sends
// before Update has seen the end.
type closingLink struct{ nullLink }

func (closingLink) Send(uint8, transport.Delivery, []byte) error { return transport.ErrClosed }

// Send on a connection whose link is closing, before Update saw the end,
// fails with ErrClosed, as it does once Update saw it: a game checks one
// error whatever the adapter and the moment (issue 17, Shutdown with
// players chatting over TCP).
func TestSendWhileTheLinkCloses(t *testing.T) {
	f := NewFactory()
	message.MustRegister[seqMsg](f)
	srv, err := Listen(ServerConfig{Config: Config{Factory: f, PingInterval: -1, Transport: new(mem.Network)}, Addr: "server:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c := srv.e.newConn("null:0", Open, false)
	c.link = closingLink{}
	srv.e.open = append(srv.e.open, c)
	if err := c.Send(&seqMsg{1}); !errors.Is(err, ErrClosed) || !errors.Is(err, transport.ErrClosed) {
		t.Errorf("Send: %v, want ErrClosed (and transport.ErrClosed)", err)
	}
	if err := c.SendArgs("seq_msg", 1); !errors.Is(err, ErrClosed) {
		t.Errorf("SendArgs: %v, want ErrClosed", err)
	}
	if err := srv.Broadcast(&seqMsg{1}, nil); err != nil {
		t.Errorf("Broadcast: %v, want nil: a connection that is closing is skipped", err)
	}
}
