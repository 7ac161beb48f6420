package tcp_test

import (
	"testing"

	"github.com/gonetic/gonetic/adapters/internal/transporttest"
	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/net/nettest"
	"github.com/gonetic/gonetic/net/transport"
)

// TestNetConformanceTLS runs gonetic itself over TLS; net's own tests run
// it over plain TCP.
func TestNetConformanceTLS(t *testing.T) {
	conf := transporttest.TLSConfig(t)
	nettest.Run(t, nettest.Adapter{
		New:  func(testing.TB) transport.Transport { return tcp.New(tcp.Options{TLS: conf}) },
		Addr: "127.0.0.1:0",
	})
}
