package net_test

import (
	"testing"

	"github.com/gonetic/gonetic/adapters/enet"
	"github.com/gonetic/gonetic/adapters/tcp"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/nettest"
	"github.com/gonetic/gonetic/net/transport"
)

// benchAdapters are the adapters the sealed benchmarks compare on.
func benchAdapters(b *testing.B) []struct {
	name string
	tr   func() transport.Transport
} {
	enetTr := func() transport.Transport {
		t, err := enet.New(nil)
		if err != nil {
			b.Fatal(err)
		}
		return t
	}
	return []struct {
		name string
		tr   func() transport.Transport
	}{
		{"tcp", func() transport.Transport { return tcp.New(tcp.Options{}) }},
		{"enet", enetTr},
	}
}

// BenchmarkSealedPingPong: BenchmarkPingPong with and without a connect
// token, over TCP and ENet, in one run: what sealing (and batching) adds
// to a round trip.
func BenchmarkSealedPingPong(b *testing.B) {
	plainAndSealed(b, true, (*nettest.BenchPair).PingPong)
}

// BenchmarkSealedOneWay: BenchmarkOneWay with and without a connect
// token, over TCP and ENet, in one run: what sealing costs (docs/PERF.md,
// "Sealed traffic").
func BenchmarkSealedOneWay(b *testing.B) {
	plainAndSealed(b, false, (*nettest.BenchPair).OneWay)
}

// plainAndSealed runs bench on a pair of each benchAdapters, plain then
// sealed, as sub-benchmarks "tcp/plain", "tcp/sealed", ….
func plainAndSealed(b *testing.B, echo bool, bench func(*nettest.BenchPair, *testing.B)) {
	for _, a := range benchAdapters(b) {
		for _, sealed := range []bool{false, true} {
			name := a.name + "/plain"
			pair := nettest.NewBenchPair
			if sealed {
				name, pair = a.name+"/sealed", nettest.NewSealedBenchPair
			}
			b.Run(name, func(b *testing.B) {
				p := pair(b, a.tr, "127.0.0.1:0", echo)
				defer p.Close()
				if p.Conn.Sealed() != sealed {
					b.Fatalf("Sealed() = %v", !sealed)
				}
				bench(p, b)
			})
		}
	}
}

// BenchmarkSealedSend: the cost of Send alone, sealed and plain, over a
// link that drops everything (allocs/op must be 0).
func BenchmarkSealedSend(b *testing.B) {
	for _, sealed := range []bool{false, true} {
		name := "plain"
		if sealed {
			name = "sealed"
		}
		b.Run(name, func(b *testing.B) {
			c := gnet.SealedTestConn(nettest.NewFactory(nil), sealed)
			msg := nettest.Chat{Player: "Tom", Msg: "Test message"}
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if err := c.Send(&msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
