package arena

import (
	"fmt"

	"github.com/gonetic/gonetic/adapters/sim"
	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/net/transport"
)

// Transports are the network adapters the arena programs offer, by name.
var Transports = []string{"tcp", "enet"}

// NewTransport returns the network adapter called name: "tcp" (the default
// when empty) or "enet". Both ends must use the same one.
func NewTransport(name string) (transport.Transport, error) {
	switch name {
	case "", "tcp":
		return tcp.New(tcp.Options{}), nil
	case "enet":
		return newENet()
	}
	return nil, fmt.Errorf("unknown transport %q: use tcp or enet", name)
}

// SimUsage is the help of the programs' -sim flag.
const SimUsage = "play over a simulated network: conditions such as lag=75ms,jitter=10ms,loss=5% " +
	"(loss, dup, reorder and mtu need -transport enet; keys in adapters/sim.Parse). " +
	"They apply both ways, so one side is enough"

// Simulate puts t under the network conditions of spec, in the syntax of
// sim.Parse ("lag=75ms,loss=5%"), and returns the transport to use and
// the Sim, whose conditions SimStarted and SimTotals report. An empty spec
// returns t itself and a nil Sim.
func Simulate(t transport.Transport, spec string) (transport.Transport, *sim.Sim, error) {
	w, s, err := sim.Simulate(t, spec)
	if err != nil {
		return nil, nil, fmt.Errorf("-sim: %w", err)
	}
	return w, s, nil
}

// SimStarted says which conditions s plays under, with the seed that
// replays them: "network simulator: lag=75ms,loss=5% (seed 123)".
func SimStarted(s *sim.Sim) string { return "network simulator: " + s.String() }

// SimTotals says what s did so far: "network simulator: up 1200 packets,
// 61 lost; down 1180 packets, 58 lost". A TCP stream's packets are its
// reads.
func SimTotals(s *sim.Sim) string {
	st := s.Stats()
	dir := func(p sim.PathStats) string {
		lost := p.Lost + p.Overflow + p.TooLarge
		return fmt.Sprintf("%d packets, %d lost", p.Packets, lost)
	}
	return fmt.Sprintf("network simulator: up %s; down %s", dir(st.Up), dir(st.Down))
}
