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
	// Round trips first, so that ENet's estimate (500 ms before any
	// sample) has come down to what this machine's loopback shows.
	const warm = 20
	for i := 1; i <= warm; i++ {
		cl.Send(0, transport.Reliable, []byte("before"))
		sv.s.waitN(i)
	}

	s.Set(sim.Both(sim.Conditions{Loss: 1}))
	lost := s.Stats().Up.Lost
	cl.Send(0, transport.Reliable, []byte("through the cut"))
	// Doubling from a loopback's timeout, ENet would send about eight
	// times in five seconds and then end the link.
	// The pace is at most GN_RTO_FACTOR times the link's retransmit
	// timeout (round trip plus four variances) and at least GN_RTO_FLOOR;
	// a loaded machine shows longer round trips, so the wait scales with
	// what the link measured.
	const resends = 25
	st := cl.Stats()
	pace := max(200*time.Millisecond, 4*time.Duration(st.RTT+4*st.RTTVariance))
	wait := max(deadline, 2*resends*pace)
	t.Logf("RTT %v, variance %v: a resend at least every %v; waiting up to %v", time.Duration(st.RTT), time.Duration(st.RTTVariance), pace, wait)
	end := time.Now().Add(wait)
	for s.Stats().Up.Lost-lost < resends {
		if time.Now().After(end) {
			t.Fatalf("%d datagrams sent through a cut path within %v, want %d", s.Stats().Up.Lost-lost, wait, resends)
		}
		select {
		case <-cs.closed:
			t.Fatalf("the link ended after %d resends: %v", s.Stats().Up.Lost-lost, cs.waitClosed())
		case <-time.After(10 * time.Millisecond):
		}
	}
	s.Set(sim.Config{})
	if got := sv.s.waitN(warm + 1); string(got[warm].p) != "through the cut" {
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
