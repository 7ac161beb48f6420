package net_test

import (
	"context"
	"fmt"
	"testing"

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
