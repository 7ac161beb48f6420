package node_test

import "testing"

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
