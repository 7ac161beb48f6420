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
	"github.com/gonetic/gonetic/message"
	gnet "github.com/gonetic/gonetic/net"
)

// The benchmarks measure over TCP on 127.0.0.1, both ends in this process.
// Compare them with the raw baselines in the same run (see the package's
// README in /work/shared/bench, and demo/stream for two processes).

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
		runBulk(b, newListenerEnv(b, tcp.New(tcp.Options{}), tcp.New(tcp.Options{}), Config{}, Config{}), 64<<10)
	})
	b.Run("station", func(b *testing.B) {
		runBulk(b, benchStation(b, Config{}), 64<<10)
	})
}

// BenchmarkFlowSmall: 100-byte packets through one flow.
func BenchmarkFlowSmall(b *testing.B) {
	b.Run("listener", func(b *testing.B) {
		runBulk(b, newListenerEnv(b, tcp.New(tcp.Options{}), tcp.New(tcp.Options{}), Config{}, Config{}), 100)
	})
	b.Run("station", func(b *testing.B) {
		runBulk(b, benchStation(b, Config{}), 100)
	})
}

func benchStation(b *testing.B, cfg Config) *env {
	return newStationEnv(b, tcp.New(tcp.Options{}), tcp.New(tcp.Options{}), cfg, cfg)
}

var _ = message.Name
var _ = gnet.Open
var _ = runtime.NumGoroutine
var _ = slices.Sort[[]int]

func BenchmarkWindows(b *testing.B) {
	for _, w := range []int{1 << 20, 4 << 20, 16 << 20} {
		for _, cs := range []int{64 << 10, 128 << 10, 512 << 10} {
			b.Run(fmt.Sprintf("w%dK-c%dK", w>>10, cs>>10), func(b *testing.B) {
				cfg := Config{Window: w, ChunkSize: cs}
				runBulk(b, newListenerEnv(b, tcp.New(tcp.Options{}), tcp.New(tcp.Options{}), cfg, cfg), 64<<10)
			})
		}
	}
}
