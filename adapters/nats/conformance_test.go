package nats_test

import (
	"context"
	"testing"

	"github.com/gonetic/gonetic/adapters/internal/transporttest"
	"github.com/gonetic/gonetic/adapters/nats"
	"github.com/gonetic/gonetic/internal/natstest"
	"github.com/gonetic/gonetic/net/nettest"
	"github.com/gonetic/gonetic/net/transport"
	"github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"
)

// connect opens a NATS connection to s, closed when the test ends.
func connect(t testing.TB, s *server.Server, opts ...natsgo.Option) *natsgo.Conn {
	t.Helper()
	nc, err := natsgo.Connect(s.ClientURL(), opts...)
	if err != nil {
		t.Fatalf("connect to %s: %v", s.ClientURL(), err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// newTransport returns an adapter over a connection of its own to s.
func newTransport(t testing.TB, s *server.Server, o nats.Options) *nats.Transport {
	t.Helper()
	if o.Conn == nil {
		o.Conn = connect(t, s)
	}
	tr, err := nats.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// split listens through one Transport and dials through another, each on
// its own NATS connection, as two nodes do.
type split struct{ ln, dial *nats.Transport }

func (s split) Name() string { return s.ln.Name() }
func (s split) Listen(addr string, cfg transport.Config, accept transport.Accept) (transport.Listener, error) {
	return s.ln.Listen(addr, cfg, accept)
}
func (s split) Dial(ctx context.Context, addr string, cfg transport.Config, sink transport.Sink) (transport.Link, error) {
	return s.dial.Dial(ctx, addr, cfg, sink)
}

func newSplit(s *server.Server) func(t *testing.T) transport.Transport {
	return func(t *testing.T) transport.Transport {
		return split{newTransport(t, s, nats.Options{ID: "server"}), newTransport(t, s, nats.Options{})}
	}
}

func TestConformance(t *testing.T) {
	transporttest.Run(t, newSplit(natstest.Server(t)), "server/net", transporttest.Options{KeepsChannel: true})
}

func TestConformanceChannels(t *testing.T) {
	transporttest.Run(t, newSplit(natstest.Server(t)), "server/net", transporttest.Options{Channels: 4, KeepsChannel: true})
}

// Every endpoint gets a connection and an id of its own, and listens on
// "net" under that id, so the suite's servers never share an address.
func TestNetConformance(t *testing.T) {
	s := natstest.Server(t)
	nettest.Run(t, nettest.Adapter{
		New:  func(t testing.TB) transport.Transport { return newTransport(t, s, nats.Options{}) },
		Addr: "net",
	})
}
