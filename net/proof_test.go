package net_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/mem"
	"github.com/gonetic/gonetic/message"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/nettest"
	"github.com/gonetic/gonetic/token"
)

// TestRefusalNoLargerThanHello: on a lossy adapter, where a hello's source
// address may be forged, a server refuses a peer in its handshake with no
// more bytes than the peer sent, the reason cut to fit; over a stream, whose
// own handshake showed that the peer receives there, the reason is whole.
func TestRefusalNoLargerThanHello(t *testing.T) {
	other := func() *message.Factory {
		f := gnet.NewFactory()
		message.MustRegister[nettest.Chat](f, message.Name("chat_msg"))
		return f
	}
	for _, lossy := range []bool{true, false} {
		h := &hook{Transport: new(mem.Network), lossy: lossy}
		s, err := gnet.Listen(gnet.ServerConfig{Config: gnet.Config{Factory: suiteFactory(), Transport: h}, Addr: "server:0"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		c, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: other(), Transport: h, PingInterval: -1}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		done := make(chan error, 1)
		go func() { _, err := c.Dial(ctx, s.Addr(), nil); done <- err }()
		nettest.Pump(t, func() bool { return len(done) > 0 }, s)
		err = <-done
		cancel()
		var de *gnet.DisconnectError
		if !errors.As(err, &de) || !strings.HasPrefix(de.Reason, "message registry differs: ") {
			t.Fatalf("lossy %v: %v, want a registry refusal", lossy, err)
		}
		h.mu.Lock()
		sent, got := h.out[0], h.out[1]
		h.mu.Unlock()
		whole := strings.Contains(de.Reason, "(client hash ")
		switch {
		case lossy && (sent > got || whole):
			t.Errorf("lossy: the server sent %d bytes for the %d of the hello, reason %q", sent, got, de.Reason)
		case !lossy && !whole:
			t.Errorf("stream: reason %q was cut", de.Reason)
		}
	}
}

// TestSealedWelcomeWaitsForProof: a server opens a sealed connection
// (welcome, OnConnect) only once a sealed payload from the client showed
// that it holds the token's keys, not only the ticket, which travels in
// clear (and, over ENet, that it receives at its address): a client that
// sent a hello with a good ticket and nothing after it is approved, never
// welcomed, and refused when the handshake times out, having been sent
// no more than it sent on a lossy link. The same holds over a stream.
func TestSealedWelcomeWaitsForProof(t *testing.T) {
	for _, lossy := range []bool{true, false} {
		h := &hook{Transport: new(mem.Network), lossy: lossy}
		key := token.NewKey()
		var approved atomic.Bool
		var opened atomic.Int32
		s, err := gnet.Listen(gnet.ServerConfig{
			Config: gnet.Config{Factory: suiteFactory(), Transport: h, HandshakeTimeout: time.Second},
			Addr:   "server:0",
			Tokens: &gnet.Tokens{Key: key, Server: nettest.TokenServer},
			Approve: func(context.Context, gnet.Hello) (any, error) {
				approved.Store(true)
				return "player", nil
			},
			NewHandler: func() any { return &proofHandler{} },
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		c, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: suiteFactory(), Transport: h}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		// Everything the client sends after its hello is lost.
		var first atomic.Bool
		h.setHold(func(client bool, _ uint8) bool { return client && !first.CompareAndSwap(false, true) })
		ch := &proofHandler{}
		if _, err := c.Connect(s.Addr(), ch, gnet.WithToken(nettest.Token(t, key, 1))); err != nil {
			t.Fatal(err)
		}
		nettest.Pump(t, func() bool {
			if s.NumConns() > 0 {
				opened.Store(1)
			}
			return ch.gone() != nil || ch.connected()
		}, s, c)
		h.mu.Lock()
		sent, got := h.out[0], h.out[1]
		h.mu.Unlock()
		if !approved.Load() {
			t.Fatalf("lossy %v: Approve never ran", lossy)
		}
		if ch.connected() || opened.Load() != 0 || !errors.Is(ch.gone(), gnet.ErrRefused) || !strings.Contains(ch.gone().Error(), "handshake timed out") {
			t.Fatalf("lossy %v: connected %v, server opened %d, ended with %v; want a handshake timeout and nothing opened", lossy, ch.connected(), opened.Load(), ch.gone())
		}
		if lossy && sent > got {
			t.Fatalf("lossy: the server sent %d bytes to a client that sent %d and never showed it receives", sent, got)
		}
	}
}

// proofHandler records a connection's opening and end.
type proofHandler struct {
	open atomic.Bool
	end  atomic.Pointer[error]
}

func (h *proofHandler) OnConnect()             { h.open.Store(true) }
func (h *proofHandler) OnDisconnect(err error) { h.end.Store(&err) }
func (h *proofHandler) connected() bool        { return h.open.Load() }
func (h *proofHandler) gone() error {
	if p := h.end.Load(); p != nil {
		return *p
	}
	return nil
}
