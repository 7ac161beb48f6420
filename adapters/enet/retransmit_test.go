//go:build cgo

package enet

import (
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/sim"
	"github.com/gonetic/gonetic/net/transport"
)

// TestRetransmitsKeepPace: while the path is cut, a reliable payload is
// resent at a steady pace instead of ever more rarely, and the link
// outlives ENet's rule that ends it after five doublings of the
// retransmit timeout: once the path is back, the payload arrives within a
// second or so and the link is up (gn_cap_retransmits).
func TestRetransmitsKeepPace(t *testing.T) {
	needInternals(t)
	tr := newTransport(t, nil)
	srv := listen(t, tr, transport.Config{}, nil)
	s, err := sim.New(sim.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	relay, err := s.Relay("udp", "127.0.0.1:0", srv.ln.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	cl, cs := dial(t, tr, relay.Addr(), transport.Config{})
	sv := srv.next(t)
	cl.Send(0, transport.Reliable, []byte("before"))
	sv.s.waitN(1)

	s.Set(sim.Both(sim.Conditions{Loss: 1}))
	lost := s.Stats().Up.Lost
	cl.Send(0, transport.Reliable, []byte("through the cut"))
	// Doubling from a loopback's timeout, ENet would send about eight
	// times in five seconds and then end the link.
	const resends = 25
	end := time.Now().Add(deadline)
	for s.Stats().Up.Lost-lost < resends {
		if time.Now().After(end) {
			t.Fatalf("%d datagrams sent through a cut path within %v, want %d", s.Stats().Up.Lost-lost, deadline, resends)
		}
		select {
		case <-cs.closed:
			t.Fatalf("the link ended after %d resends: %v", s.Stats().Up.Lost-lost, cs.waitClosed())
		case <-time.After(10 * time.Millisecond):
		}
	}
	s.Set(sim.Config{})
	if got := sv.s.waitN(2); string(got[1].p) != "through the cut" {
		t.Fatalf("after the cut: %q", got[1].p)
	}
	if cs.count() != 0 || isClosed(cs) {
		t.Error("the client's link ended")
	}
}

func isClosed(s *sink) bool {
	select {
	case <-s.closed:
		return true
	default:
		return false
	}
}
