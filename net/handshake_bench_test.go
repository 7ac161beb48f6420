package net_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/enet"
	"github.com/gonetic/gonetic/adapters/mem"
	"github.com/gonetic/gonetic/adapters/tcp"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/nettest"
	"github.com/gonetic/gonetic/net/transport"
	"github.com/gonetic/gonetic/token"
)

// BenchmarkHandshake: connections opened one after another (Dial until
// open, then Disconnect), plain and with a connect token, over mem (the
// CPU of the handshake alone), TCP and ENet, in one run: what tokens cost
// a server's connect rate (docs/PERF.md, "Sealed traffic"). The tokens
// are issued before the timer starts: issuing is the backend's work.
func BenchmarkHandshake(b *testing.B) {
	for _, a := range []struct {
		name string
		tr   func() transport.Transport
	}{
		{"mem", func() transport.Transport { return new(mem.Network) }},
		{"tcp", func() transport.Transport { return tcp.New(tcp.Options{}) }},
		{"enet", func() transport.Transport {
			t, err := enet.New(nil)
			if err != nil {
				b.Fatal(err)
			}
			return t
		}},
	} {
		for _, sealed := range []bool{false, true} {
			name := a.name + "/plain"
			if sealed {
				name = a.name + "/token"
			}
			b.Run(name, func(b *testing.B) { benchHandshake(b, a.tr, a.name == "mem", sealed) })
		}
	}
}

func benchHandshake(b *testing.B, newTr func() transport.Transport, shared, sealed bool) {
	key := token.NewKey()
	str := newTr()
	ctr := str
	if !shared {
		ctr = newTr()
	}
	addr := "127.0.0.1:0"
	if shared {
		addr = "server:0"
	}
	cfg := gnet.ServerConfig{Config: gnet.Config{Factory: nettest.NewFactory(nil), Transport: str}, Addr: addr}
	if sealed {
		cfg.Tokens = &gnet.Tokens{Key: key, Server: nettest.TokenServer, GuardSize: b.N + 16}
	}
	s, err := gnet.Listen(cfg)
	if err != nil {
		b.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				_ = s.Update(time.Millisecond)
			}
		}
	}()
	defer func() { close(stop); wg.Wait(); s.Close() }()
	c, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: nettest.NewFactory(nil), Transport: ctr}})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	toks := make([][]byte, b.N)
	if sealed {
		for i := range toks {
			toks[i] = nettest.Token(b, key, uint64(i))
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		var opts []gnet.ConnectOption
		if sealed {
			opts = append(opts, gnet.WithToken(toks[i]))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		conn, err := c.Dial(ctx, s.Addr(), nil, opts...)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		if conn.Sealed() != sealed {
			b.Fatalf("Sealed() = %v", !sealed)
		}
		conn.Disconnect("")
		for conn.State() != gnet.Closed {
			_ = c.Update(time.Millisecond)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "handshakes/s")
}
