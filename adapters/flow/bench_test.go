package flow

import (
	"context"
	"encoding/binary"
	"fmt"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/tcp"
	gnet "github.com/gonetic/gonetic/net"
)

// The benchmarks measure over TCP on 127.0.0.1, both ends in this process
// (two processes: demo/stream and its bench.sh). Compare them only with
// figures of the same run: the machine is shared and noisy.

// benchSink is a handler that checks each packet's index.
func benchSink(f *Flow, r *Reply) (any, error) {
	var n uint64
	for p, err := range f.Packets() {
		if err != nil {
			return nil, err
		}
		if binary.LittleEndian.Uint64(p.Bytes()) != n {
			return nil, fmt.Errorf("packet %d out of order", n)
		}
		n++
	}
	return n, nil
}

func runBulk(b *testing.B, e *env, size int) {
	e.handle("sink", benchSink)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	final, err := Wait(Call(context.Background(), e.caller, Request{Name: "sink"}, counting(b.N, size, new(atomic.Int64))))
	elapsed := time.Since(start)
	b.StopTimer()
	var n int
	if err == nil {
		err = final.Decode(&n)
	}
	if err != nil || n != b.N {
		b.Fatalf("flow: %v, %d of %d packets", err, n, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "pkt/s")
}

// BenchmarkFlow64K: 64 KiB packets through one flow. Compare with
// tcpbench -mode bulk -size 65536.
func BenchmarkFlow64K(b *testing.B) {
	b.Run("listener", func(b *testing.B) {
		runBulk(b, newListenerEnv(b, Config{}, Config{}), 64<<10)
	})
	// The dedicated listener over adapters/tcp as a Transport, against
	// its own sockets above: what a carrier other than its own costs.
	b.Run("listener/tcp-adapter", func(b *testing.B) {
		runBulk(b, newListenerEnvOver(b, tcp.New(tcp.Options{}), "127.0.0.1:0", Config{}, Config{}), 64<<10)
	})
	b.Run("station", func(b *testing.B) {
		runBulk(b, benchStation(b, Config{}), 64<<10)
	})
	b.Run("station/no-rate", func(b *testing.B) {
		runBulk(b, benchStation(b, Config{Rate: -1}), 64<<10)
	})
}

// BenchmarkFlowSmall: 100-byte packets through one flow.
func BenchmarkFlowSmall(b *testing.B) {
	b.Run("listener", func(b *testing.B) {
		runBulk(b, newListenerEnv(b, Config{}, Config{}), 100)
	})
	b.Run("station", func(b *testing.B) {
		runBulk(b, benchStation(b, Config{}), 100)
	})
	b.Run("station/no-rate", func(b *testing.B) {
		runBulk(b, benchStation(b, Config{Rate: -1}), 100)
	})
}

func benchStation(b *testing.B, cfg Config) *env {
	return newStationEnv(b, tcp.New(tcp.Options{}), tcp.New(tcp.Options{}), cfg, cfg)
}

// BenchmarkGameRTT measures a game message's round trip over a Station's
// connection, idle and while a flow of 64 KiB packets shares it.
func BenchmarkGameRTT(b *testing.B) {
	for _, v := range []struct {
		name                  string
		inflight, chunk, rate int
	}{
		{"defaults", 0, 0, 0}, // 16 KiB chunks, 64 KiB in flight, 100 MB/s
		{"no-rate", 0, 0, -1}, // 16 KiB chunks, 64 KiB in flight
		{"no-rate/inflight=256K/chunk=64K", 256 << 10, 64 << 10, -1}, // throughput first
	} {
		b.Run(v.name, func(b *testing.B) {
			cfg := Config{InFlight: v.inflight, ChunkSize: v.chunk, Rate: v.rate}
			e := benchStation(b, cfg)
			e.handle("sink", benchSink)
			rtts := func(n int) []time.Duration {
				out := make([]time.Duration, 0, n)
				for i := range n {
					t0 := time.Now()
					if err := e.ping(uint64(i)); err != nil {
						b.Fatal(err)
					}
					if got := <-e.pongs; got != uint64(i) {
						b.Fatalf("pong %d for ping %d", got, i)
					}
					out = append(out, time.Since(t0))
				}
				return out
			}
			rtts(200) // warm up
			idle := rtts(b.N)
			stop := make(chan struct{})
			var sent atomic.Int64
			done := make(chan error, 1)
			packets := func(yield func([]byte) bool) {
				buf := make([]byte, 64<<10)
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					binary.LittleEndian.PutUint64(buf, uint64(i))
					sent.Add(int64(len(buf)))
					if !yield(buf) {
						return
					}
				}
			}
			go func() {
				_, err := Wait(Call(context.Background(), e.caller, Request{Name: "sink"}, packets))
				done <- err
			}()
			for sent.Load() < 32<<20 { // the flow is at full speed
				runtime.Gosched()
			}
			start, s0 := time.Now(), sent.Load()
			loaded := rtts(b.N)
			rate := float64(sent.Load()-s0) / time.Since(start).Seconds() / 1e6
			close(stop)
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			p := func(d []time.Duration, q float64) float64 {
				d = slices.Clone(d)
				slices.Sort(d)
				return float64(d[int(q*float64(len(d)-1))].Microseconds())
			}
			b.ReportMetric(p(idle, 0.5), "idle-p50-µs")
			b.ReportMetric(p(idle, 0.99), "idle-p99-µs")
			b.ReportMetric(p(loaded, 0.5), "flow-p50-µs")
			b.ReportMetric(p(loaded, 0.99), "flow-p99-µs")
			b.ReportMetric(p(loaded, 0.99)/p(idle, 0.99), "p99-ratio")
			b.ReportMetric(rate, "flow-MB/s")
		})
	}
}

// BenchmarkGameRTTNetBulk is the same measure with the bulk traffic sent as
// plain game messages (16 KiB, paced to 64 KiB unanswered), without flows:
// what net/ itself gives, for comparison with BenchmarkGameRTT.
func BenchmarkGameRTTNetBulk(b *testing.B) {
	e := benchStation(b, Config{})
	var got atomic.Int64
	progress := make(chan struct{}, 1)
	_ = gnet.On(e.srvDispatcher, func(c *gnet.Conn, m Chat) {
		got.Add(int64(len(m.Msg)))
		signal(progress)
	})
	rtts := func(n int) []time.Duration {
		out := make([]time.Duration, 0, n)
		for i := range n {
			t0 := time.Now()
			if err := e.ping(uint64(i)); err != nil {
				b.Fatal(err)
			}
			<-e.pongs
			out = append(out, time.Since(t0))
		}
		return out
	}
	rtts(200)
	idle := rtts(b.N)
	stop := make(chan struct{})
	done := make(chan struct{})
	var sent int64
	go func() {
		defer close(done)
		msg := Chat{Msg: string(make([]byte, 16<<10))}
		for {
			select {
			case <-stop:
				return
			default:
			}
			for sent-got.Load() > 64<<10 {
				select {
				case <-progress:
				case <-stop:
					return
				}
			}
			if err := e.chat(msg); err != nil {
				return
			}
			sent += int64(len(msg.Msg))
		}
	}()
	for got.Load() < 32<<20 {
		runtime.Gosched()
	}
	start, g0 := time.Now(), got.Load()
	loaded := rtts(b.N)
	rate := float64(got.Load()-g0) / time.Since(start).Seconds() / 1e6
	close(stop)
	<-done
	p := func(d []time.Duration, q float64) float64 {
		d = slices.Clone(d)
		slices.Sort(d)
		return float64(d[int(q*float64(len(d)-1))].Microseconds())
	}
	b.ReportMetric(p(idle, 0.99), "idle-p99-µs")
	b.ReportMetric(p(loaded, 0.99), "bulk-p99-µs")
	b.ReportMetric(p(loaded, 0.99)/p(idle, 0.99), "p99-ratio")
	b.ReportMetric(rate, "bulk-MB/s")
}

// BenchmarkSlowHandlerMemory streams 64 KiB packets to a handler ten
// times slower than the producer and reports the heap's peak growth: both
// ends are in this process, so it bounds what the sender holds.
func BenchmarkSlowHandlerMemory(b *testing.B) {
	for _, name := range []string{"listener", "station"} {
		b.Run(name, func(b *testing.B) {
			var e *env
			if name == "listener" {
				e = newListenerEnv(b, Config{}, Config{})
			} else {
				e = benchStation(b, Config{})
			}
			const size = 64 << 10
			// The producer's cost per packet, unthrottled.
			buf := make([]byte, size)
			t0 := time.Now()
			for range 1000 {
				copy(buf, buf[1:])
			}
			produce := time.Since(t0) / 1000
			e.handle("slow", func(f *Flow, r *Reply) (any, error) {
				n := 0
				for _, err := range f.Packets() {
					if err != nil {
						return nil, err
					}
					for t := time.Now(); time.Since(t) < 10*produce; {
					}
					n++
				}
				return n, nil
			})
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			base := ms.HeapInuse
			var peak atomic.Uint64
			stop := make(chan struct{})
			sampled := make(chan struct{})
			go func() {
				defer close(sampled)
				t := time.NewTicker(2 * time.Millisecond)
				defer t.Stop()
				for {
					select {
					case <-stop:
						return
					case <-t.C:
					}
					var ms runtime.MemStats
					runtime.ReadMemStats(&ms)
					if ms.HeapInuse > peak.Load() {
						peak.Store(ms.HeapInuse)
					}
				}
			}()
			b.SetBytes(size)
			b.ResetTimer()
			packets := func(yield func([]byte) bool) {
				for i := range b.N {
					binary.LittleEndian.PutUint64(buf, uint64(i))
					copy(buf[8:], buf[9:]) // the producer's own work
					if !yield(buf) {
						return
					}
				}
			}
			_, err := Wait(Call(context.Background(), e.caller, Request{Name: "slow"}, packets))
			b.StopTimer()
			close(stop)
			<-sampled
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(peak.Load()-min(base, peak.Load()))/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(b.N*size)/(1<<20), "streamed-MiB")
		})
	}
}
