//go:build !js

package websocket_test

import (
	"testing"

	"github.com/gonetic/gonetic/adapters/internal/transporttest"
	"github.com/gonetic/gonetic/adapters/websocket"
	"github.com/gonetic/gonetic/net/nettest"
	"github.com/gonetic/gonetic/net/transport"
)

// The suite's Backpressure queues 16 MiB on one link.
func newForSuite(testing.TB) transport.Transport {
	return websocket.New(websocket.Options{MaxQueued: 32 << 20})
}

func TestConformance(t *testing.T) {
	transporttest.Run(t, func(t *testing.T) transport.Transport { return newForSuite(t) },
		"127.0.0.1:0", transporttest.Options{KeepsChannel: true})
}

func TestConformanceChannels(t *testing.T) {
	transporttest.Run(t, func(t *testing.T) transport.Transport { return newForSuite(t) },
		"127.0.0.1:0", transporttest.Options{Channels: 4, KeepsChannel: true})
}

func TestNetConformance(t *testing.T) {
	nettest.Run(t, nettest.Adapter{
		New:  func(testing.TB) transport.Transport { return websocket.New(websocket.Options{}) },
		Addr: "127.0.0.1:0",
	})
}
