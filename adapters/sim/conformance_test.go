package sim_test

import (
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/enet"
	"github.com/gonetic/gonetic/adapters/internal/transporttest"
	"github.com/gonetic/gonetic/adapters/sim"
	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/net/nettest"
	"github.com/gonetic/gonetic/net/transport"
)

// wrap returns t through a Sim with cfg, failing tb when it cannot.
func wrap(tb testing.TB, t transport.Transport, cfg sim.Config) transport.Transport {
	tb.Helper()
	s, err := sim.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	w, err := s.Wrap(t)
	if err != nil {
		tb.Fatal(err)
	}
	return w
}

func newENet(tb testing.TB) transport.Transport {
	t, err := enet.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// A wrapped transport keeps the adapter's contract: the suite every
// adapter passes, through relays with no impairment.
func TestConformance(t *testing.T) {
	t.Run("tcp", func(t *testing.T) {
		transporttest.Run(t, func(t *testing.T) transport.Transport {
			return wrap(t, tcp.New(tcp.Options{MaxQueued: 32 << 20}), sim.Config{})
		}, "127.0.0.1:0", transporttest.Options{})
	})
	t.Run("enet", func(t *testing.T) {
		transporttest.Run(t, func(t *testing.T) transport.Transport {
			return wrap(t, newENet(t), sim.Config{})
		}, "127.0.0.1:0", transporttest.Options{Channels: 4, KeepsChannel: true})
	})
}

// And so does package net above it.
func TestNetConformance(t *testing.T) {
	t.Run("tcp", func(t *testing.T) {
		nettest.Run(t, nettest.Adapter{
			New:  func(t testing.TB) transport.Transport { return wrap(t, tcp.New(tcp.Options{}), sim.Config{}) },
			Addr: "127.0.0.1:0",
		})
	})
	t.Run("enet", func(t *testing.T) {
		nettest.Run(t, nettest.Adapter{
			New:  func(t testing.TB) transport.Transport { return wrap(t, newENet(t), sim.Config{}) },
			Addr: "127.0.0.1:0",
		})
	})
}

// The contract holds with the relays delaying every packet too: what a
// link says last (ENet's disconnect, a stream's end) still arrives.
func TestConformanceUnderLag(t *testing.T) {
	lag := sim.Both(sim.Conditions{Lag: time.Millisecond})
	t.Run("tcp", func(t *testing.T) {
		transporttest.Run(t, func(t *testing.T) transport.Transport {
			return wrap(t, tcp.New(tcp.Options{MaxQueued: 32 << 20}), lag)
		}, "127.0.0.1:0", transporttest.Options{})
	})
	t.Run("enet", func(t *testing.T) {
		transporttest.Run(t, func(t *testing.T) transport.Transport {
			return wrap(t, newENet(t), lag)
		}, "127.0.0.1:0", transporttest.Options{Channels: 4, KeepsChannel: true, SlowBulk: true})
	})
}
