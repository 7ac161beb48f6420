package natstest_test

import (
	"testing"
	"time"

	"github.com/gonetic/gonetic/internal/natstest"
	natsgo "github.com/nats-io/nats.go"
)

func connect(t *testing.T, url string) *natsgo.Conn {
	t.Helper()
	nc, err := natsgo.Connect(url)
	if err != nil {
		t.Fatalf("connect to %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// TestServer: a standalone server on loopback, not on nats-server's
// default port, with the max_payload asked for.
func TestServer(t *testing.T) {
	s := natstest.Server(t, natstest.MaxPayload(64<<10))
	if addr := s.Addr().String(); addr == "127.0.0.1:4222" || s.Addr() == nil {
		t.Fatalf("server at %v, want a free loopback port", s.Addr())
	}
	nc := connect(t, s.ClientURL())
	if got := nc.MaxPayload(); got != 64<<10 {
		t.Fatalf("max_payload %d, want 65536", got)
	}
	if natstest.Server(t).ClientURL() == s.ClientURL() {
		t.Fatal("two servers share a client URL")
	}
}

// TestCluster: three routed servers carry a message from a client of the
// first to a client of the third.
func TestCluster(t *testing.T) {
	servers := natstest.Cluster(t, 3)
	if len(servers) != 3 {
		t.Fatalf("%d servers, want 3", len(servers))
	}
	for _, s := range servers {
		if n := s.NumRemotes(); n != 2 {
			t.Fatalf("%s has %d remotes, want 2", s.Name(), n)
		}
	}
	pub, sub := connect(t, servers[0].ClientURL()), connect(t, servers[2].ClientURL())
	got := make(chan *natsgo.Msg, 1)
	if _, err := sub.ChanSubscribe("hello", got); err != nil {
		t.Fatal(err)
	}
	if err := sub.Flush(); err != nil {
		t.Fatal(err)
	}
	// The subscription's interest crosses the routes on its own time:
	// publish until it is there.
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if err := pub.Publish("hello", []byte("across")); err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-got:
			if string(m.Data) != "across" {
				t.Fatalf("got %q", m.Data)
			}
			return
		case <-tick.C:
		case <-deadline:
			t.Fatal("no message across the cluster within 10s")
		}
	}
}
