package net_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/enet"
	"github.com/gonetic/gonetic/adapters/mem"
	"github.com/gonetic/gonetic/adapters/tcp"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/nettest"
	"github.com/gonetic/gonetic/net/transport"
	"github.com/gonetic/gonetic/token"
)

// attackEnd keeps the reason a client's connection ended.
type attackEnd struct{ reason error }

func (h *attackEnd) OnDisconnect(err error) { h.reason = err }

// attackSink records what a raw peer receives.
type attackSink struct{ got, closed chan []byte }

func newAttackSink() *attackSink {
	return &attackSink{got: make(chan []byte, 64), closed: make(chan []byte, 1)}
}
func (s *attackSink) Receive(_ uint8, p []byte) { s.got <- append([]byte(nil), p...) }
func (s *attackSink) Closed(error)              { s.closed <- nil }

// TestAttackByeBeforeHelloAmplifies: on a lossy link (ENet), where a
// datagram's source can be forged, a peer that has shown nothing may get
// no more bytes than it sent (docs/PROTOCOL.md, "Replies before the peer
// has shown it receives"). A protocol error before the hello is answered
// with a bye whose reason is not cut to that budget.
func TestAttackByeBeforeHelloAmplifies(t *testing.T) {
	for _, in := range [][]byte{
		{0x91},       // a message before the handshake
		{0x00, 0xc1}, // a malformed control message
	} {
		h := &hook{Transport: new(mem.Network), lossy: true}
		s, err := gnet.Listen(gnet.ServerConfig{Config: gnet.Config{Factory: suiteFactory(), Transport: h}, Addr: "server:0"})
		if err != nil {
			t.Fatal(err)
		}
		sink := newAttackSink()
		ctx, cancel := context.WithTimeout(context.Background(), nettest.Deadline)
		link, err := h.Dial(ctx, s.Addr(), transport.Config{Channels: 4}, sink)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if err := link.Send(0, transport.Reliable, in); err != nil {
			t.Fatal(err)
		}
		done := func() bool { return len(sink.closed) > 0 }
		nettest.Pump(t, done, s)
		h.mu.Lock()
		sent, got := h.out[0], h.out[1]
		h.mu.Unlock()
		if sent > got {
			var bye []byte
			if len(sink.got) > 0 {
				bye = <-sink.got
			}
			t.Errorf("% x before the hello: the server sent %d bytes for %d: %q", in, sent, got, bye)
		}
		link.Abort()
		s.Close()
	}
}

// TestAttackReconnectSameToken: token.Guard admits a token again from the
// address it was first used from, "so a client may resend its connect
// request or reconnect"; the guard keys on the peer's host:port, and a
// client that reconnects over TCP or ENet does so from a new port.
func TestAttackReconnectSameToken(t *testing.T) {
	tcpT := func() transport.Transport { return tcp.New(tcp.Options{}) }
	enetT := func() transport.Transport {
		tr, err := enet.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	for name, mk := range map[string]func() transport.Transport{"tcp": tcpT, "enet": enetT} {
		t.Run(name, func(t *testing.T) {
			key := token.NewKey()
			tok := nettest.Token(t, key, 1)
			s, err := gnet.Listen(gnet.ServerConfig{Config: gnet.Config{Factory: suiteFactory(), Transport: mk()},
				Addr: "127.0.0.1:0", Tokens: &gnet.Tokens{Key: key, Server: nettest.TokenServer}})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var reasons []string
			for i := range 2 {
				c, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: suiteFactory(), Transport: mk()}})
				if err != nil {
					t.Fatal(err)
				}
				h := &attackEnd{}
				conn, err := c.Connect(s.Addr(), h, gnet.WithToken(tok))
				if err != nil {
					t.Fatal(err)
				}
				nettest.Pump(t, func() bool { return conn.Connected() || conn.State() == gnet.Closed }, s, c)
				if !conn.Connected() {
					reasons = append(reasons, fmt.Sprintf("connection %d: %v", i+1, h.reason))
				}
				conn.Disconnect("bye")
				nettest.Pump(t, func() bool { return conn.State() == gnet.Closed && s.NumConns() == 0 }, s, c)
				c.Close()
			}
			if len(reasons) > 0 {
				t.Errorf("the same client reconnecting with its token: %v", reasons)
			}
		})
	}
}

// bin is b as a msgpack bin.
func bin(b []byte) []byte {
	switch {
	case len(b) < 256:
		return append([]byte{0xc4, byte(len(b))}, b...)
	default:
		return append([]byte{0xc5, byte(len(b) >> 8), byte(len(b))}, b...)
	}
}

// tokenHello is the hello of suiteFactory with elements after the five
// first: the array's size says how many.
func tokenHello(extra ...[]byte) []byte {
	h := nettest.Hello(suiteFactory())
	h[1] = 0x95 + byte(len(extra))
	for _, e := range extra {
		h = append(h, e...)
	}
	return h
}

// TestAttackTokenHandshake: a raw peer that breaks the token handshake
// in one way or another is ended with a bye or a refusal and never
// reaches a handler; the server is left with no connection.
func TestAttackTokenHandshake(t *testing.T) {
	key := token.NewKey()
	pub, err := token.Parse(nettest.Token(t, key, 1))
	if err != nil {
		t.Fatal(err)
	}
	tick := bin(pub.Ticket)
	rnd := bin(make([]byte, 32))
	session := append([]byte{0x00, 0x92, 0xa7}, "session"...)
	session = append(session, bin(make([]byte, 32))...)
	nw := new(mem.Network)
	sh := &nettest.ChatHandler{}
	s, err := gnet.Listen(gnet.ServerConfig{Config: gnet.Config{Factory: suiteFactory(), Transport: nw, HandshakeTimeout: 2 * time.Second},
		Addr: "server:0", Tokens: &gnet.Tokens{Key: key, Server: nettest.TokenServer}, NewHandler: func() any { return sh }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cases := map[string][][]byte{
		"a session to the server":       {session},
		"7 elements":                    {tokenHello(bin(nil), tick)},
		"9 elements":                    {tokenHello(bin(nil), tick, rnd, rnd)},
		"a random of 31 bytes":          {tokenHello(bin(nil), tick, bin(make([]byte, 31)))},
		"a random of 33 bytes":          {tokenHello(bin(nil), tick, bin(make([]byte, 33)))},
		"a ticket of 1025 bytes":        {tokenHello(bin(nil), bin(make([]byte, 1025)), rnd)},
		"the ticket one byte short":     {tokenHello(bin(nil), bin(pub.Ticket[:len(pub.Ticket)-1]), rnd)},
		"the ticket as data, no ticket": {tokenHello(tick)},
	}
	for name, in := range cases {
		sink := newAttackSink()
		ctx, cancel := context.WithTimeout(context.Background(), nettest.Deadline)
		link, err := nw.Dial(ctx, s.Addr(), transport.Config{Channels: 4}, sink)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range in {
			_ = link.Send(0, transport.Reliable, p)
		}
		nettest.Pump(t, func() bool { return len(sink.closed) > 0 }, s)
		var last []byte
		for len(sink.got) > 0 {
			last = <-sink.got
		}
		if len(last) < 2 || last[0] != 0x00 || last[1] != 0x92 {
			t.Errorf("%s: the server ended it with %q, want a clear bye or refuse", name, last)
		}
		link.Abort()
	}
	nettest.Pump(t, func() bool { return s.NumConns() == 0 }, s)
	if sh.Connects > 0 {
		t.Errorf("%d raw peers reached OnConnect", sh.Connects)
	}
}

// TestAttackTicketAloneOpens: the ticket travels in clear, in the hello;
// whoever replays it (from another address before its owner uses it, or
// at another server the token lists: each has its own Guard) without the
// token's keys must not be taken for its player. Over ENet the server
// opens a sealed connection only after the client's first sealed
// payload; over TCP it ran OnConnect, with the token's identity, for a
// peer that sent the hello alone and could seal nothing.
func TestAttackTicketAloneOpens(t *testing.T) {
	key := token.NewKey()
	pub, err := token.Parse(nettest.Token(t, key, 1))
	if err != nil {
		t.Fatal(err)
	}
	hello := tokenHello(bin(nil), bin(pub.Ticket), bin(make([]byte, 32)))
	tr := tcp.New(tcp.Options{})
	sh := &nettest.ChatHandler{}
	s, err := gnet.Listen(gnet.ServerConfig{Config: gnet.Config{Factory: suiteFactory(), Transport: tr, HandshakeTimeout: time.Second},
		Addr: "127.0.0.1:0", Tokens: &gnet.Tokens{Key: key, Server: nettest.TokenServer}, NewHandler: func() any { return sh }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sink := newAttackSink()
	ctx, cancel := context.WithTimeout(context.Background(), nettest.Deadline)
	link, err := tr.Dial(ctx, s.Addr(), transport.Config{Channels: 4, MaxPayload: transport.DefaultMaxPayload}, sink)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	defer link.Abort()
	if err := link.Send(0, transport.Reliable, hello); err != nil {
		t.Fatal(err)
	}
	// The silent replayer is ended by the handshake timeout, or, once
	// open, by the server's ping timeout.
	nettest.Pump(t, func() bool { return len(sink.closed) > 0 || sh.Connects > 0 }, s)
	if sh.Connects > 0 {
		t.Errorf("OnConnect ran for a peer that sent a replayed hello and nothing sealed")
	}
}
