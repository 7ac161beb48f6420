package net_test

import (
	"context"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/mem"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/nettest"
	"github.com/gonetic/gonetic/net/transport"
)

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
	_ = time.Second
}
