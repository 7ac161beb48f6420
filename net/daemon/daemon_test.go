package daemon_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gonetic/gonetic/net/daemon"
)

// events records what happened, in order, from any goroutine.
type events struct {
	mu   sync.Mutex
	list []string
}

func (e *events) add(format string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, fmt.Sprintf(format, args...))
}

func (e *events) get() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.list)
}

// TestRunReadiness: the pidfile is written before serve starts; OnReady
// runs inside ready, after that, with serve's address; cancelling Run's
// context stops serve with a shutdown deadline; Run then returns nil and
// removes the pidfile.
func TestRunReadiness(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "x.pid")
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var ev events
	opts := daemon.Options{
		PIDFile:     pidfile,
		Logger:      testLogger(t),
		StopTimeout: time.Hour,
		OnReady: func(addr string) {
			ev.add("OnReady %s pidfile=%d", addr, readPID(t, pidfile))
			stop()
		},
	}
	err := daemon.Run(ctx, opts, func(ctx context.Context, ready func(string)) error {
		ev.add("serve pidfile=%d", readPID(t, pidfile))
		ready("1.2.3.4:5")
		ev.add("ready returned")
		ready("again") // ignored
		<-ctx.Done()
		sctx, cancel := daemon.ShutdownContext(ctx)
		defer cancel()
		if sctx.Err() != nil {
			t.Error("the shutdown context is done already")
		}
		if d, ok := sctx.Deadline(); !ok || time.Until(d) > time.Hour || time.Until(d) < 50*time.Minute {
			t.Errorf("shutdown deadline in %v, want about an hour", time.Until(d))
		}
		ev.add("stopping")
		return ctx.Err()
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	pid := os.Getpid()
	want := []string{
		fmt.Sprintf("serve pidfile=%d", pid),
		fmt.Sprintf("OnReady 1.2.3.4:5 pidfile=%d", pid),
		"ready returned",
		"stopping",
	}
	if got := ev.get(); !slices.Equal(got, want) {
		t.Fatalf("events:\n%q\nwant\n%q", got, want)
	}
	if pid := readPID(t, pidfile); pid != 0 {
		t.Fatalf("the pidfile still holds %d", pid)
	}
}

// TestRunServeFails: an error from serve before it is ready is Run's
// error; OnReady is never called and the pidfile is removed.
func TestRunServeFails(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "x.pid")
	errListen := errors.New("address in use")
	opts := daemon.Options{
		PIDFile: pidfile,
		Logger:  testLogger(t),
		OnReady: func(string) { t.Error("OnReady called") },
	}
	err := daemon.Run(context.Background(), opts, func(context.Context, func(string)) error { return errListen })
	if !errors.Is(err, errListen) {
		t.Fatalf("Run: %v, want %v", err, errListen)
	}
	if pid := readPID(t, pidfile); pid != 0 {
		t.Fatalf("the pidfile still holds %d", pid)
	}
}

// TestRunErrors: serve's own errors pass through, after a stop too; a
// program that finishes on its own makes Run return nil.
func TestRunErrors(t *testing.T) {
	errFlush := errors.New("flush failed")
	ctx, stop := context.WithCancel(context.Background())
	stop()
	err := daemon.Run(ctx, daemon.Options{Logger: testLogger(t)}, func(ctx context.Context, _ func(string)) error {
		<-ctx.Done()
		return errFlush
	})
	if !errors.Is(err, errFlush) {
		t.Fatalf("Run: %v, want %v", err, errFlush)
	}
	err = daemon.Run(context.Background(), daemon.Options{Logger: testLogger(t)}, func(context.Context, func(string)) error {
		return nil
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if err := daemon.Run(context.Background(), daemon.Options{}, nil); err == nil {
		t.Fatal("Run with a nil serve succeeded")
	}
}

// TestRunStopTimeout: a program that ignores the stop makes Run return
// ErrStopTimeout.
func TestRunStopTimeout(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	release := make(chan struct{})
	defer close(release)
	opts := daemon.Options{Logger: testLogger(t), StopTimeout: 50 * time.Millisecond, OnReady: func(string) { stop() }}
	err := daemon.Run(ctx, opts, func(_ context.Context, ready func(string)) error {
		ready("x")
		<-release
		return nil
	})
	if !errors.Is(err, daemon.ErrStopTimeout) {
		t.Fatalf("Run: %v, want ErrStopTimeout", err)
	}
}

// TestShutdownContextAlone: outside Run, the deadline is the default.
func TestShutdownContextAlone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sctx, scancel := daemon.ShutdownContext(ctx)
	defer scancel()
	d, ok := sctx.Deadline()
	if sctx.Err() != nil || !ok || time.Until(d) > daemon.DefaultStopTimeout || time.Until(d) < daemon.DefaultStopTimeout/2 {
		t.Fatalf("deadline in %v (%v), err %v", time.Until(d), ok, sctx.Err())
	}
}
