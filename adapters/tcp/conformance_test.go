package tcp_test

import (
	"testing"

	"github.com/gonetic/gonetic/adapters/internal/transporttest"
	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/net/transport"
)

func TestConformance(t *testing.T) {
	transporttest.Run(t, func(*testing.T) transport.Transport { return tcp.New(tcp.Options{}) },
		"127.0.0.1:0", transporttest.Options{})
}

func TestConformanceChannels(t *testing.T) {
	transporttest.Run(t, func(*testing.T) transport.Transport { return tcp.New(tcp.Options{}) },
		"127.0.0.1:0", transporttest.Options{Channels: 4})
}
