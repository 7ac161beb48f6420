package game_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/mem"
	"github.com/gonetic/gonetic/game"
	"github.com/gonetic/gonetic/message"
	gnet "github.com/gonetic/gonetic/net"
)

var base = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

const hz30 = time.Second / 30

func newSchedule(t testing.TB) *game.Schedule {
	t.Helper()
	s, err := game.NewSchedule(base, hz30)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestScheduleNotDueEarly(t *testing.T) {
	s := newSchedule(t)
	if _, ok := s.Due(base.Add(-time.Nanosecond)); ok {
		t.Fatal("tick 0 due before the start")
	}
	tk, ok := s.Due(base)
	if !ok || tk.N != 0 || !tk.At.Equal(base) || tk.Late != 0 {
		t.Fatalf("at the start: %+v %v, want tick 0 on time", tk, ok)
	}
	if _, ok := s.Due(base.Add(hz30 - time.Nanosecond)); ok {
		t.Fatal("tick 1 due a nanosecond early")
	}
	if got, want := s.Next(), base.Add(hz30); !got.Equal(want) {
		t.Fatalf("Next = %v, want %v", got, want)
	}
}

// Ticks stay on the grid start + N×interval however late each one is
// taken: a schedule counted from the previous tick would drift by the
// sum of the lateness.
func TestScheduleDoesNotDrift(t *testing.T) {
	s := newSchedule(t)
	for i := 0; i < 3000; i++ { // 100 s of ticks, each taken 7 ms late
		now := s.Next().Add(7 * time.Millisecond)
		tk, ok := s.Due(now)
		if !ok {
			t.Fatalf("tick %d not due %v after its time", i, 7*time.Millisecond)
		}
		if tk.N != uint64(i) || !tk.At.Equal(base.Add(time.Duration(i)*hz30)) || tk.Late != 7*time.Millisecond || tk.Skipped != 0 {
			t.Fatalf("tick %d: %+v", i, tk)
		}
		if _, ok := s.Due(now); ok {
			t.Fatalf("two ticks due at once after tick %d", i)
		}
	}
	if got, want := s.Next(), base.Add(3000*hz30); !got.Equal(want) {
		t.Fatalf("after 3000 ticks Next = %v, want %v", got, want)
	}
}

// A loop that overran by less than MaxCatchUp gets every tick it missed,
// back to back.
func TestScheduleCatchesUp(t *testing.T) {
	s := newSchedule(t)
	now := base.Add(5*hz30 + time.Millisecond) // ticks 0..5 due
	for i := 0; i <= 5; i++ {
		tk, ok := s.Due(now)
		if !ok || tk.N != uint64(i) || tk.Skipped != 0 {
			t.Fatalf("catching up, call %d: %+v %v", i, tk, ok)
		}
		if want := now.Sub(base.Add(time.Duration(i) * hz30)); tk.Late != want {
			t.Fatalf("tick %d Late = %v, want %v", i, tk.Late, want)
		}
	}
	if _, ok := s.Due(now); ok {
		t.Fatal("a tick due from the future")
	}
}

// Further behind than MaxCatchUp, the schedule skips to the newest due
// tick, says how many it skipped, and stays on its grid.
func TestScheduleSkipsAfterAStall(t *testing.T) {
	s := newSchedule(t)
	if _, ok := s.Due(base); !ok {
		t.Fatal("tick 0 not due")
	}
	now := base.Add(2*time.Second + 5*time.Millisecond) // tick 60 due at 2 s
	tk, ok := s.Due(now)
	if !ok || tk.N != 60 || tk.Skipped != 59 || !tk.At.Equal(base.Add(60*hz30)) || tk.Late != now.Sub(base.Add(60*hz30)) {
		t.Fatalf("after a 2 s stall: %+v %v, want tick 60 with 59 skipped", tk, ok)
	}
	if _, ok := s.Due(now); ok {
		t.Fatal("a tick due twice after a skip")
	}
	tk, ok = s.Due(base.Add(61 * hz30))
	if !ok || tk.N != 61 || tk.Skipped != 0 {
		t.Fatalf("the tick after a skip: %+v %v", tk, ok)
	}
}

func TestNewScheduleRefusesNoInterval(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Second} {
		if _, err := game.NewSchedule(base, d); err == nil {
			t.Errorf("NewSchedule(%v) accepted", d)
		}
	}
}

// Ping is what the client sends the server in the Run tests.
type Ping struct{ N int }

type counter struct {
	gnet.Handler
	got atomic.Int64
}

func (h *counter) NetPing(Ping) { h.got.Add(1) }

// pair is a server on adapters/mem with one connected client.
func pair(t testing.TB) (*gnet.Server, *counter, *gnet.Client, *gnet.Conn) {
	t.Helper()
	network := &mem.Network{}
	factory := func() *message.Factory {
		f := gnet.NewFactory()
		message.MustRegister[Ping](f)
		return f
	}
	h := &counter{}
	srv, err := gnet.Listen(gnet.ServerConfig{
		Config:     gnet.Config{Factory: factory(), Transport: network},
		NewHandler: func() any { return h },
		MaxConns:   1,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	cli, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: factory(), Transport: network}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	conn, err := cli.Connect(srv.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for !conn.Connected() || srv.NumConns() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no connection after a minute: client %v, server %d", conn.State(), srv.NumConns())
		}
		_ = srv.Update(time.Millisecond)
		_ = cli.Update(0)
	}
	return srv, h, cli, conn
}

// recorder is the server as Run sees it, remembering the timeouts Run
// asked for.
type recorder struct {
	*gnet.Server
	longest time.Duration
	calls   int
}

func (r *recorder) Update(timeout time.Duration) error {
	r.calls++
	r.longest = max(r.longest, timeout)
	return r.Server.Update(timeout)
}

// Run delivers what arrives between ticks: a message sent before tick N
// returns is handled before a later tick sees the world, and Update never
// waits past the next tick's deadline.
func TestRunDeliversBetweenTicks(t *testing.T) {
	srv, h, _, conn := pair(t)
	rec := &recorder{Server: srv}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var ticks []game.Tick
	sentAt := -1
	err := game.Run(ctx, rec, 10*time.Millisecond, func(tk game.Tick) error {
		ticks = append(ticks, tk)
		switch {
		case sentAt < 0:
			if err := conn.Send(&Ping{}); err != nil {
				return err
			}
			sentAt = len(ticks)
		case h.got.Load() == 1:
			cancel()
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Run = %v, want nil after its context was cancelled", err)
	}
	if h.got.Load() != 1 {
		t.Fatalf("the server handled %d pings, want 1 (Run ended by its deadline?)", h.got.Load())
	}
	for i, tk := range ticks {
		if i > 0 && tk.N <= ticks[i-1].N {
			t.Fatalf("tick numbers not increasing: %d then %d", ticks[i-1].N, tk.N)
		}
		if got := tk.At.Sub(ticks[0].At); got != time.Duration(tk.N-ticks[0].N)*10*time.Millisecond {
			t.Fatalf("tick %d at %v after tick 0, off its grid", tk.N, got)
		}
	}
	if rec.longest > 10*time.Millisecond {
		t.Fatalf("Run asked Update to wait %v, longer than a tick", rec.longest)
	}
}

func TestRunEnds(t *testing.T) {
	t.Run("TickError", func(t *testing.T) {
		srv, _, _, _ := pair(t)
		stop := errors.New("game over")
		n := 0
		err := game.Run(context.Background(), srv, time.Millisecond, func(game.Tick) error {
			if n++; n == 3 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || n != 3 {
			t.Fatalf("Run = %v after %d ticks, want the tick's error after 3", err, n)
		}
	})
	t.Run("Closed", func(t *testing.T) {
		srv, _, _, _ := pair(t)
		err := game.Run(context.Background(), srv, time.Millisecond, func(game.Tick) error {
			return srv.Close()
		})
		if !errors.Is(err, gnet.ErrClosed) {
			t.Fatalf("Run = %v on a closed server, want ErrClosed", err)
		}
	})
	t.Run("BadInterval", func(t *testing.T) {
		srv, _, _, _ := pair(t)
		if err := game.Run(context.Background(), srv, 0, func(game.Tick) error { return nil }); err == nil {
			t.Fatal("Run with no interval returned nil")
		}
	})
}

// offClock is a server whose clock is an hour ahead of time.Now, as a
// server's clock is when its machine's wall clock was off at its start.
type offClock struct{ *gnet.Server }

func (offClock) Now() time.Time { return time.Now().Add(time.Hour) }

// Run ticks on the server's clock when it has one, so that Tick.At is the
// server time its clients estimate.
func TestRunTicksOnTheServersClock(t *testing.T) {
	srv, _, _, _ := pair(t)
	var at time.Time
	err := game.Run(context.Background(), offClock{srv}, time.Millisecond, func(tk game.Tick) error {
		at = tk.At
		return errors.New("one tick")
	})
	if err == nil || err.Error() != "one tick" {
		t.Fatal(err)
	}
	if d := time.Until(at); d < 59*time.Minute || d > time.Hour {
		t.Fatalf("Tick.At is %v from time.Now, want the server's clock, an hour ahead", d)
	}
}
