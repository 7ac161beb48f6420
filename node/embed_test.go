package node_test

import (
	"context"
	"errors"
	stdnet "net"
	"strings"
	"testing"
	"time"

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

// freeAddr is a loopback address nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := stdnet.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Nodes of several processes meet through EmbedConfig.Seed: a second node
// is linked to the first, and a second node under a taken name is
// refused, however soon after the first it starts (its server must be
// routed to the seed before it claims the name, and be named apart from
// the first: nats-server refuses a route from a server of its own name).
func TestSeedJoinsProcesses(t *testing.T) {
	noLeak(t)
	seed := node.EmbedConfig{Seed: freeAddr(t)}
	a := join(t, "a", func(c *node.Config) { c.Embed = seed })
	b := join(t, "b", func(c *node.Config) { c.Embed = seed })
	a.expect(t, "+b")
	if a.ClientURL() == b.ClientURL() {
		t.Fatal("a and b share one embedded server; want one each")
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, err := node.Join(ctx, node.Config{Name: "a", Factory: registry(), Embed: seed})
	if !errors.Is(err, node.ErrNameTaken) {
		t.Fatalf("a second a on the seed: %v, want ErrNameTaken", err)
	}
}

func TestSeedErrors(t *testing.T) {
	noLeak(t)
	ctx := context.Background()
	_, err := node.Join(ctx, node.Config{Name: "a", Factory: registry(), Embed: node.EmbedConfig{Seed: "nonsense"}})
	if err == nil || !strings.Contains(err.Error(), "EmbedConfig.Seed") {
		t.Errorf("Join with Seed \"nonsense\": %v, want an error naming EmbedConfig.Seed", err)
	}
	// A seed another program holds: no cluster forms there.
	l, err := stdnet.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	defer node.SetRouteTimeout(2 * time.Second)()
	_, err = node.Join(ctx, node.Config{Name: "a", Factory: registry(), Embed: node.EmbedConfig{Seed: l.Addr().String()}})
	if err == nil || !strings.Contains(err.Error(), "another program holds that port") {
		t.Errorf("Join with a seed another program holds: %v, want an error that says so", err)
	}
}
