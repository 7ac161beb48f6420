package sim_test

import (
	"io"
	stdnet "net"
	"net/netip"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/sim"
)

// The simulator's own cost (docs/PERF.md, "Network simulator"): a ping-pong
// to an echo server, directly and through a relay with no condition, one
// round trip of each in turn so that the machine's noise falls on both;
// the added latency is the relay's percentile minus the direct one's.
// Allocations per packet come from runtime.MemStats over runs of round
// trips of each kind (relay minus direct, per datagram or read passed on),
// with no condition and with lag=1ms, which takes the scheduling path.
//
//	go test -run '^$' -bench Relay -benchtime 20000x ./adapters/sim/

const pingSize = 64

func BenchmarkRelayUDP(b *testing.B) {
	echo := echoUDP(b)
	benchRelay(b, "udp", echo, func(addr string) pinger {
		c, err := stdnet.Dial("udp", addr)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
		return &udpPinger{c: c, buf: make([]byte, 2048)}
	})
}

func BenchmarkRelayTCP(b *testing.B) {
	echo := echoTCP(b)
	benchRelay(b, "tcp", echo, func(addr string) pinger {
		c, err := stdnet.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
		return &tcpPinger{c: c, buf: make([]byte, pingSize)}
	})
}

type pinger interface{ ping(p []byte) error }

type udpPinger struct {
	c   stdnet.Conn
	buf []byte
}

func (u *udpPinger) ping(p []byte) error {
	if _, err := u.c.Write(p); err != nil {
		return err
	}
	_, err := u.c.Read(u.buf)
	return err
}

type tcpPinger struct {
	c   stdnet.Conn
	buf []byte
}

func (t *tcpPinger) ping(p []byte) error {
	if _, err := t.c.Write(p); err != nil {
		return err
	}
	_, err := io.ReadFull(t.c, t.buf[:len(p)])
	return err
}

func benchRelay(b *testing.B, network, echo string, dial func(addr string) pinger) {
	relay := func(spec string) *sim.Relay {
		cfg, err := sim.Parse(spec)
		if err != nil {
			b.Fatal(err)
		}
		s, err := sim.New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		r, err := s.Relay(network, "127.0.0.1:0", echo)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { r.Close() })
		return r
	}
	direct := dial(echo)
	zero := dial(relay("off").Addr())
	lagged := dial(relay("lag=1ms").Addr())
	p := make([]byte, pingSize)
	ping := func(c pinger) time.Duration {
		start := time.Now()
		if err := c.ping(p); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	for range 200 { // sessions started, buffers pooled, code paged in
		ping(direct)
		ping(zero)
		ping(lagged)
	}

	// Allocations first, on runs of one kind; each round trip passes two
	// packets through a relay.
	const allocRuns = 500
	mallocs := func(c pinger) float64 {
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		for range allocRuns {
			ping(c)
		}
		runtime.ReadMemStats(&m1)
		return float64(m1.Mallocs-m0.Mallocs) / allocRuns
	}
	base := mallocs(direct)
	zeroAllocs := (mallocs(zero) - base) / 2
	lagAllocs := (mallocs(lagged) - base) / 2

	d := make([]time.Duration, 0, b.N)
	r := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		if i%2 == 0 {
			d = append(d, ping(direct))
			r = append(r, ping(zero))
		} else {
			r = append(r, ping(zero))
			d = append(d, ping(direct))
		}
	}
	b.StopTimer()
	slices.Sort(d)
	slices.Sort(r)
	us := func(x time.Duration) float64 { return float64(x) / 1e3 }
	b.ReportMetric(us(pct(d, 50)), "direct-p50-us")
	b.ReportMetric(us(pct(d, 99)), "direct-p99-us")
	b.ReportMetric(us(pct(r, 50)), "relay-p50-us")
	b.ReportMetric(us(pct(r, 99)), "relay-p99-us")
	b.ReportMetric(us(pct(r, 50)-pct(d, 50)), "added-p50-us")
	b.ReportMetric(us(pct(r, 99)-pct(d, 99)), "added-p99-us")
	b.ReportMetric(zeroAllocs, "allocs/pkt")
	b.ReportMetric(lagAllocs, "allocs/pkt-lag1ms")
	b.ReportMetric(0, "ns/op") // two round trips of different kinds: meaningless
}

// pct is the nearest-rank percentile of sorted x.
func pct(x []time.Duration, p int) time.Duration {
	if len(x) == 0 {
		return 0
	}
	i := (len(x)*p + 99) / 100
	return x[max(i-1, 0)]
}

func echoUDP(b *testing.B) string {
	c, err := stdnet.ListenUDP("udp", stdnet.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			n, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			c.WriteToUDPAddrPort(buf[:n], from)
		}
	}()
	b.Cleanup(func() { c.Close(); <-done })
	return c.LocalAddr().String()
}

func echoTCP(b *testing.B) string {
	ln, err := stdnet.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	conns := make(chan stdnet.Conn, 8)
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns <- c
			go io.Copy(c, c)
		}
	}()
	b.Cleanup(func() {
		ln.Close()
		<-done
		close(conns)
		for c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}
