package mem_test

import (
	"testing"

	"github.com/gonetic/gonetic/adapters/internal/transporttest"
	"github.com/gonetic/gonetic/adapters/mem"
	"github.com/gonetic/gonetic/net/transport"
)

func TestConformance(t *testing.T) {
	transporttest.Run(t, func(*testing.T) transport.Transport { return new(mem.Network) },
		"server:0", transporttest.Options{})
}

func TestConformanceChannels(t *testing.T) {
	transporttest.Run(t, func(*testing.T) transport.Transport { return new(mem.Network) },
		"server:0", transporttest.Options{Channels: 4, KeepsChannel: true})
}
