package tcp_test

import (
	"fmt"
	"testing"

	"github.com/gonetic/gonetic/adapters/internal/transporttest"
	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/net/transport"
)

// The suite's Backpressure queues 16 MiB on one link.
func TestConformance(t *testing.T) {
	transporttest.Run(t, func(*testing.T) transport.Transport { return tcp.New(tcp.Options{MaxQueued: 32 << 20}) },
		"127.0.0.1:0", transporttest.Options{})
}

func TestConformanceChannels(t *testing.T) {
	transporttest.Run(t, func(*testing.T) transport.Transport { return tcp.New(tcp.Options{MaxQueued: 32 << 20}) },
		"127.0.0.1:0", transporttest.Options{Channels: 4})
}

// TestConformanceFramings runs the suite over the binary-safe text
// framings; Lines cannot carry its binary payloads.
func TestConformanceFramings(t *testing.T) {
	for _, f := range []tcp.Framing{tcp.ByteCount{}, tcp.Netstring{}} {
		t.Run(fmt.Sprintf("%T", f), func(t *testing.T) {
			transporttest.Run(t, func(*testing.T) transport.Transport { return tcp.New(tcp.Options{Framing: f, MaxQueued: 32 << 20}) },
				"127.0.0.1:0", transporttest.Options{})
		})
	}
}

// TestConformanceTLS runs the suite with every link over TLS.
func TestConformanceTLS(t *testing.T) {
	conf := transporttest.TLSConfig(t)
	transporttest.Run(t, func(*testing.T) transport.Transport { return tcp.New(tcp.Options{TLS: conf, MaxQueued: 32 << 20}) },
		"127.0.0.1:0", transporttest.Options{})
}
