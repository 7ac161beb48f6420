package stream

import (
	"context"
	"errors"
	"io"
	"iter"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/flow"
)

// counter is a source of 0, 1, 2, … that counts what it produced and
// signals each value.
type counter struct {
	mu       sync.Mutex // guards produced
	produced int
	signal   chan struct{} // one per value, never blocks
	failAt   int           // if > 0, yield an error instead of this value
	gate     chan struct{} // if set, wait on it before failing
}

func newCounter() *counter { return &counter{signal: make(chan struct{}, 1<<16)} }

func (c *counter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.produced
}

func (c *counter) source(ctx context.Context, o Open) (iter.Seq2[int, error], error) {
	return func(yield func(int, error) bool) {
		for i := 0; ; i++ {
			if c.failAt > 0 && i == c.failAt {
				if c.gate != nil {
					select {
					case <-c.gate:
					case <-ctx.Done():
						return
					}
				}
				yield(0, errors.New("the disk is on fire"))
				return
			}
			c.mu.Lock()
			c.produced++
			c.mu.Unlock()
			c.signal <- struct{}{}
			if !yield(i, nil) {
				return
			}
		}
	}, nil
}

// waitProduced waits until the counter reached n.
func waitProduced(t *testing.T, c *counter, n int) {
	t.Helper()
	end := time.After(deadline)
	for c.count() < n {
		select {
		case <-c.signal:
		case <-end:
			t.Fatalf("the source produced %d values, want %d", c.count(), n)
		}
	}
}

func openInts(t *testing.T, e *env, name string, cfg EntityConfig) *Entities[int] {
	t.Helper()
	s, err := OpenEntities[int](ctx(t), e.caller, name, cfg)
	if err != nil {
		t.Fatalf("OpenEntities: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestEntitiesOnDemand(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		c := newCounter()
		if err := ServeEntities(e.mux, "ints", c.source); err != nil {
			t.Fatal(err)
		}
		s := openInts(t, e, "ints", EntityConfig{})
		if n := c.count(); n != 0 {
			t.Fatalf("produced %d values before any Next, want 0", n)
		}
		for k := 1; k <= 20; k++ {
			v, err := s.Next(ctx(t))
			if err != nil {
				t.Fatal(err)
			}
			if v != k-1 {
				t.Fatalf("value %d is %d", k, v)
			}
			// One request per value: the source produced exactly what was taken.
			if n := c.count(); n != k {
				t.Fatalf("after %d values the source produced %d", k, n)
			}
		}
	})
}

func TestEntitiesReadAhead(t *testing.T) {
	const N = 4
	forEach(t, func(t *testing.T, e *env) {
		c := newCounter()
		if err := ServeEntities(e.mux, "ints", c.source); err != nil {
			t.Fatal(err)
		}
		s := openInts(t, e, "ints", EntityConfig{ReadAhead: N})
		waitProduced(t, c, N) // the window fills before any Next
		for k := 1; k <= 50; k++ {
			v, err := s.Next(ctx(t))
			if err != nil {
				t.Fatal(err)
			}
			if v != k-1 {
				t.Fatalf("value %d is %d", k, v)
			}
			if n := c.count(); n > k+N {
				t.Fatalf("after %d values the source produced %d, more than %d", k, n, k+N)
			}
			waitProduced(t, c, k+N) // and stays full
			if n := c.count(); n != k+N {
				t.Fatalf("after %d values the source produced %d, want %d", k, n, k+N)
			}
		}
	})
}

func TestEntitiesSourceFailsAfterPrefill(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		c := newCounter()
		c.failAt, c.gate = 3, make(chan struct{})
		if err := ServeEntities(e.mux, "ints", c.source); err != nil {
			t.Fatal(err)
		}
		s := openInts(t, e, "ints", EntityConfig{ReadAhead: 3})
		waitProduced(t, c, 3) // the prefill is done; the source fails after it
		close(c.gate)
		var got []int
		var err error
		for v, e := range s.All(ctx(t)) {
			if e != nil {
				err = e
				break
			}
			got = append(got, v)
		}
		if len(got) != 3 {
			t.Fatalf("got %v before the error, want 3 values", got)
		}
		if !errors.Is(err, flow.ErrHandler) || !strings.Contains(err.Error(), "the disk is on fire") {
			t.Fatalf("err = %v, want the source's error", err)
		}
		if _, err2 := s.Next(ctx(t)); err2 != err {
			t.Fatalf("Next after the error = %v, want the same error", err2)
		}
	})
}

func TestEntitiesSourceFailsOnDemand(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		c := newCounter()
		c.failAt = 2
		if err := ServeEntities(e.mux, "ints", c.source); err != nil {
			t.Fatal(err)
		}
		s := openInts(t, e, "ints", EntityConfig{})
		for range 2 {
			if _, err := s.Next(ctx(t)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Next(ctx(t)); err == nil || !strings.Contains(err.Error(), "the disk is on fire") {
			t.Fatalf("err = %v, want the source's error", err)
		}
	})
}

func TestEntitiesLogPolicies(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		var log Log[string]
		log.Append("a", "b")
		if err := ServeEntities(e.mux, "log", log.Source()); err != nil {
			t.Fatal(err)
		}
		// EndAtEnd: what is there, then the end.
		s, err := OpenEntities[string](ctx(t), e.caller, "log", EntityConfig{ReadAhead: 8})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for v, err := range s.All(ctx(t)) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, v)
		}
		s.Close()
		if strings.Join(got, ",") != "a,b" {
			t.Fatalf("EndAtEnd read %v", got)
		}

		// Follow: waits for more, ends at Finish.
		f, err := OpenEntities[string](ctx(t), e.caller, "log", EntityConfig{Policy: Follow, ReadAhead: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, want := range []string{"a", "b"} {
			if v, err := f.Next(ctx(t)); err != nil || v != want {
				t.Fatalf("Next = %q, %v; want %q", v, err, want)
			}
		}
		next := make(chan string)
		go func() {
			v, err := f.Next(ctx(t))
			if err != nil {
				v = "error: " + err.Error()
			}
			next <- v
		}()
		log.Append("c")
		if v := recvT(t, next); v != "c" {
			t.Fatalf("Follow got %q, want c", v)
		}
		log.Finish()
		if _, err := f.Next(ctx(t)); err != io.EOF {
			t.Fatalf("Next after Finish = %v, want io.EOF", err)
		}
	})
}

func TestEntitiesCancelNext(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		var log Log[int]
		if err := ServeEntities(e.mux, "log", log.Source()); err != nil {
			t.Fatal(err)
		}
		s, err := OpenEntities[int](ctx(t), e.caller, "log", EntityConfig{Policy: Follow})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		c, cancel := context.WithCancel(context.Background())
		res := make(chan error)
		go func() {
			_, err := s.Next(c)
			res <- err
		}()
		cancel()
		if err := recvT(t, res); !errors.Is(err, context.Canceled) {
			t.Fatalf("Next = %v, want context.Canceled", err)
		}
		// The stream is still usable.
		log.Append(7)
		if v, err := s.Next(ctx(t)); err != nil || v != 7 {
			t.Fatalf("Next = %d, %v; want 7", v, err)
		}
	})
}

// TestEntitiesNeverHang: a dropped connection, a closed server, and a
// Close end a blocked Next.
func TestEntitiesNeverHang(t *testing.T) {
	cases := []struct {
		name string
		kill func(e *env, s *Entities[int])
		want error
	}{
		{"drop", func(e *env, s *Entities[int]) { e.drop() }, nil},
		{"server closed", func(e *env, s *Entities[int]) { e.closeServer() }, nil},
		{"client closed", func(e *env, s *Entities[int]) { s.Close() }, ErrClosed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			forEach(t, func(t *testing.T, e *env) {
				var log Log[int]
				log.Append(1)
				if err := ServeEntities(e.mux, "log", log.Source()); err != nil {
					t.Fatal(err)
				}
				s := openInts(t, e, "log", EntityConfig{Policy: Follow, ReadAhead: 4})
				if v, err := s.Next(ctx(t)); err != nil || v != 1 {
					t.Fatalf("Next = %d, %v", v, err)
				}
				res := make(chan error)
				go func() {
					_, err := s.Next(ctx(t))
					res <- err
				}()
				tc.kill(e, s)
				err := recvT(t, res)
				if err == nil || err == io.EOF || errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("Next = %v, want an error", err)
				}
				if tc.want != nil && !errors.Is(err, tc.want) {
					t.Fatalf("Next = %v, want %v", err, tc.want)
				}
				t.Logf("Next: %v", err)
			})
		})
	}
}

func TestEntitiesNoHandler(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		_, err := OpenEntities[int](ctx(t), e.caller, "nothing", EntityConfig{})
		if !errors.Is(err, flow.ErrNoHandler) {
			t.Fatalf("OpenEntities = %v, want flow.ErrNoHandler", err)
		}
	})
}

func TestEntitiesStructs(t *testing.T) {
	type Player struct {
		Name  string
		Score int
	}
	forEach(t, func(t *testing.T, e *env) {
		ps := []Player{{"Tom", 3}, {"Ann", 5}}
		if err := ServeEntities(e.mux, "players", SeqSource(func(yield func(Player) bool) {
			for _, p := range ps {
				if !yield(p) {
					return
				}
			}
		})); err != nil {
			t.Fatal(err)
		}
		s, err := OpenEntities[Player](ctx(t), e.caller, "players", EntityConfig{ReadAhead: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var got []Player
		for p, err := range s.All(ctx(t)) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, p)
		}
		if len(got) != 2 || got[0] != ps[0] || got[1] != ps[1] {
			t.Fatalf("got %v, want %v", got, ps)
		}
	})
}

// recvT receives from ch within deadline.
func recvT[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(deadline):
		t.Fatal("timed out")
	}
	var zero T
	return zero
}
