package request

import (
	"context"
	"testing"
)

// BenchmarkRoundTrip measures request/reply round trips, each over a fresh
// connection as DoRequest makes them, against a one-at-a-time server.
func BenchmarkRoundTrip(b *testing.B) {
	s, err := NewServer("127.0.0.1:0", echo, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.Start()
	ctx := context.Background()
	req := []byte("where is entity 42?")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DoRequest(ctx, s.Addr(), req); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkRoundTripParallel is BenchmarkRoundTrip with GOMAXPROCS clients
// at once against a concurrent server.
func BenchmarkRoundTripParallel(b *testing.B) {
	s, err := NewServer("127.0.0.1:0", echo, &Options{MaxConcurrent: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.Start()
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req := []byte("where is entity 42?")
		for pb.Next() {
			if _, err := DoRequest(ctx, s.Addr(), req); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkLineRoundTrip is BenchmarkRoundTrip in line mode.
func BenchmarkLineRoundTrip(b *testing.B) {
	opts := &Options{Lines: true}
	s, err := NewServer("127.0.0.1:0", echo, opts)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.Start()
	ctx := context.Background()
	req := []byte("where is entity 42?")
	for b.Loop() {
		if _, err := Do(ctx, s.Addr(), req, opts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
