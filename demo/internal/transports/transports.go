// Package transports gives the demos' programs their -transport and -sim
// flags: the network adapters they offer, by name, and the network
// simulator in front of them. Every demo offers the same adapters, so a
// client of one demo and the server of another agree on the names.
package transports

import (
	"fmt"
	"strings"

	"github.com/gonetic/gonetic/adapters/sim"
	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/adapters/websocket"
	"github.com/gonetic/gonetic/net/transport"
)

// adapters are the offered network adapters, the default first; a new
// adapter is one more line here.
var adapters = []struct {
	name string
	new  func() (transport.Transport, error)
}{
	{"tcp", func() (transport.Transport, error) { return tcp.New(tcp.Options{}), nil }},
	{"enet", newENet}, // enet.go, or noenet.go when built with -tags noenet
	// -addr is then host:port or a ws:// URL (the chat server's -http
	// endpoint, the browser's way in).
	{"websocket", func() (transport.Transport, error) { return websocket.New(websocket.Options{}), nil }},
}

// Names are the network adapters the demos offer, the default first.
var Names = func() []string {
	names := make([]string, len(adapters))
	for i, a := range adapters {
		names[i] = a.name
	}
	return names
}()

// New returns the network adapter called name, one of Names; "" is the
// first, TCP. Both ends must use the same one.
func New(name string) (transport.Transport, error) {
	if name == "" {
		name = Names[0]
	}
	for _, a := range adapters {
		if a.name == name {
			return a.new()
		}
	}
	return nil, fmt.Errorf("unknown transport %q: use %s", name, orList(Names))
}

// Usage is the help of the programs' -transport flag: "network adapter:
// tcp, enet or websocket".
var Usage = "network adapter: " + orList(Names)

// orList is "tcp or enet", "a, b or c".
func orList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// SimUsage is the help of the programs' -sim flag.
const SimUsage = "play over a simulated network: conditions such as lag=75ms,jitter=10ms,loss=5% " +
	"(loss, dup, reorder and mtu need -transport enet; keys in adapters/sim.Parse). " +
	"They apply both ways, so one side is enough"

// Open returns the network adapter called name (as New) under the network
// conditions of spec, in the syntax of sim.Parse ("lag=75ms,loss=5%"),
// with the Sim, whose conditions SimStarted and SimTotals report. An empty
// spec returns the adapter itself and a nil Sim.
func Open(name, spec string) (transport.Transport, *sim.Sim, error) {
	t, err := New(name)
	if err != nil {
		return nil, nil, err
	}
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
