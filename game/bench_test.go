package game_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/gonetic/gonetic/game"
)

// BenchmarkRunLateness measures how late Run starts its ticks: b.N ticks
// at 30 Hz of a server on adapters/mem that a client sends to at 60 Hz
// from another goroutine, so that Update returns on arrivals between
// ticks as it does in a game. Reported: the lateness p50, p99 and max.
//
//	go test -run '^$' -bench Lateness -benchtime 300x ./game
func BenchmarkRunLateness(b *testing.B) {
	srv, _, cli, conn := pair(b)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan struct{})
	go func() { // the client: 60 messages a second
		defer close(done)
		for ctx.Err() == nil {
			_ = conn.Send(&Ping{})
			_ = cli.Update(time.Second / 60)
		}
	}()
	late := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	err := game.Run(ctx, srv, time.Second/30, func(tk game.Tick) error {
		late = append(late, tk.Late)
		if len(late) == b.N {
			stop()
		}
		return nil
	})
	b.StopTimer()
	<-done
	srv.Close()
	cli.Close()
	if err != nil {
		b.Fatal(err)
	}
	slices.Sort(late)
	b.ReportMetric(float64(late[len(late)/2].Microseconds()), "late-p50-µs")
	b.ReportMetric(float64(late[len(late)*99/100].Microseconds()), "late-p99-µs")
	b.ReportMetric(float64(late[len(late)-1].Microseconds()), "late-max-µs")
}

// BenchmarkSleepLateness is the baseline of BenchmarkRunLateness: a bare
// loop that sleeps to each 30 Hz deadline with a reused timer, as Update
// waits. What both report is the Go runtime's timer granularity on Linux
// (its network poller waits in whole milliseconds), not gonetic's.
func BenchmarkSleepLateness(b *testing.B) {
	late := make([]time.Duration, 0, b.N)
	timer := time.NewTimer(time.Hour)
	start := time.Now()
	b.ResetTimer()
	for i := range b.N {
		at := start.Add(time.Duration(i+1) * time.Second / 30)
		timer.Reset(time.Until(at))
		<-timer.C
		late = append(late, time.Since(at))
	}
	b.StopTimer()
	slices.Sort(late)
	b.ReportMetric(float64(late[len(late)/2].Microseconds()), "late-p50-µs")
	b.ReportMetric(float64(late[len(late)*99/100].Microseconds()), "late-p99-µs")
	b.ReportMetric(float64(late[len(late)-1].Microseconds()), "late-max-µs")
}
