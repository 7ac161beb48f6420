package node_test

import (
	"testing"

	"github.com/gonetic/gonetic/node"
)

// A node reaches its embedded server in memory (natsgo.InProcessServer),
// which BenchmarkNodeThroughput and BenchmarkNodeRequest show to be
// faster than loopback TCP; other nodes still reach it over TCP.
func TestEmbeddedServerInProcess(t *testing.T) {
	noLeak(t)
	a := join(t, "a")
	if got := a.NATS().ConnectedAddr(); got != "pipe" {
		t.Errorf("a's connection to its embedded server is to %q, want an in-process pipe", got)
	}
	b := join(t, "b", withURL(a.ClientURL()))
	a.expect(t, "+b")
	if got := b.NATS().ConnectedAddr(); got == "pipe" || got == "" {
		t.Errorf("b's connection to a's server is to %q, want a TCP address", got)
	}
	if err := b.Send("a", &Chat{"over TCP and memory"}); err != nil {
		t.Fatal(err)
	}
	if got := a.receive(t); got != "b:over TCP and memory" {
		t.Errorf("a got %q", got)
	}
}

// Node flows default to a larger window than a flow listener's: credits
// come back through NATS (BenchmarkNodeThroughput: +30 % at 64 KiB).
func TestFlowWindowDefault(t *testing.T) {
	a := join(t, "a")
	if got := node.FlowWindow(a.Node); got != node.DefaultFlowWindow {
		t.Errorf("a's flow window is %d, want DefaultFlowWindow (%d)", got, node.DefaultFlowWindow)
	}
	b := join(t, "b", withURL(a.ClientURL()), func(c *node.Config) { c.Flow.Window = 1 << 20 })
	if got := node.FlowWindow(b.Node); got != 1<<20 {
		t.Errorf("b's flow window is %d, want the 1 MiB it was given", got)
	}
}
