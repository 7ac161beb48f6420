package sim_test

import (
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/internal/transporttest"
	"github.com/gonetic/gonetic/adapters/sim"
	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/net/transport"
)

func TestLagConformance(t *testing.T) {
	c := sim.Both(sim.Conditions{Lag: 2 * time.Millisecond, Jitter: time.Millisecond})
	t.Run("tcp", func(t *testing.T) {
		transporttest.Run(t, func(t *testing.T) transport.Transport {
			return wrap(t, tcp.New(tcp.Options{MaxQueued: 32 << 20}), c)
		}, "127.0.0.1:0", transporttest.Options{})
	})
	t.Run("enet", func(t *testing.T) {
		transporttest.Run(t, func(t *testing.T) transport.Transport {
			return wrap(t, newENet(t), c)
		}, "127.0.0.1:0", transporttest.Options{Channels: 4, KeepsChannel: true})
	})
}
