package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// DefaultStopTimeout is the default Options.StopTimeout.
const DefaultStopTimeout = 10 * time.Second

// Errors Run returns when a stop does not go as planned.
var (
	// ErrStopTimeout: serve had not returned Options.StopTimeout (and a
	// grace period) after the stop began. It may still be running.
	ErrStopTimeout = errors.New("daemon: the program did not stop within Options.StopTimeout")
	// ErrForced: a second SIGINT or SIGTERM came while stopping. serve may
	// still be running.
	ErrForced = errors.New("daemon: stop forced by a second signal")
)

// Options configure Run. The zero value runs in the foreground, without a
// pidfile, logging to stderr, with DefaultStopTimeout.
type Options struct {
	// Name names the program in its logs. Default: the base name of the
	// executable.
	Name string
	// PIDFile, if set, is a file that holds the process id while Run runs;
	// see AcquirePIDFile for how an existing one is treated. Run removes
	// it when it returns. Default "": no pidfile.
	PIDFile string
	// Logger receives Run's logs: start, ready, stop and how it ended,
	// each with a "program" attribute. Default: a text handler on stderr.
	Logger *slog.Logger
	// StopTimeout is how long the program has to shut down once asked to
	// stop: the deadline of ShutdownContext. Run waits a tenth longer (at
	// most a second more) for serve to return, then gives up with
	// ErrStopTimeout. Zero or negative means DefaultStopTimeout.
	StopTimeout time.Duration
	// OnReady, if set, is called once when serve reports that it is ready,
	// with the address serve gave, after the pidfile is written and the
	// "ready" line is logged. It runs on the goroutine that called ready,
	// before ready returns. Default nil.
	OnReady func(addr string)
}

func (o Options) withDefaults() Options {
	if o.Name == "" {
		o.Name = filepath.Base(os.Args[0])
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if o.StopTimeout <= 0 {
		o.StopTimeout = DefaultStopTimeout
	}
	return o
}

// Run runs a server program in the foreground until it is done or asked to
// stop, and returns how it ended. It writes the pidfile, then calls serve
// on a goroutine of its own. serve starts the program, calls ready with the
// address it serves on once it accepts work (ready is safe to call from any
// goroutine; calls after the first do nothing), and runs until its context
// is done; it then shuts down, within the deadline of ShutdownContext, and
// returns. The context is done at the first SIGINT or SIGTERM, or when ctx
// is done.
//
// A second SIGINT or SIGTERM while stopping makes Run return ErrForced at
// once; after Run returns, more signals get their default action, which
// ends the process. Run returns ErrStopTimeout if serve takes longer than
// Options.StopTimeout to stop. Either way the caller should exit.
//
// Run returns serve's error, except that a context.Canceled returned after
// a stop counts as a clean exit: nil. It removes the pidfile in every case.
// Run logs how the program ended; a caller need only exit non-zero when it
// returns an error. Call it once per process, from main.
func Run(ctx context.Context, opts Options, serve func(ctx context.Context, ready func(addr string)) error) error {
	if serve == nil {
		return errors.New("daemon: Run needs a serve function")
	}
	opts = opts.withDefaults()
	log := opts.Logger.With("program", opts.Name)

	// Listen for signals first: one that comes early still stops cleanly.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)

	if opts.PIDFile != "" {
		pf, err := AcquirePIDFile(opts.PIDFile)
		if err != nil {
			log.Error("cannot start", "err", err)
			return err
		}
		if pid, reason := pf.Stale(); reason != "" {
			log.Warn("replaced a stale pidfile", "pidfile", pf.Path(), "stale_pid", pid, "reason", reason)
		}
		defer func() {
			if err := pf.Release(); err != nil {
				log.Warn("pidfile not removed", "err", err)
			}
		}()
	}
	if opts.PIDFile != "" {
		log.Info("starting", "pid", os.Getpid(), "pidfile", opts.PIDFile)
	} else {
		log.Info("starting", "pid", os.Getpid())
	}

	st := &stop{timeout: opts.StopTimeout}
	sctx, cancel := context.WithCancelCause(context.WithValue(context.WithoutCancel(ctx), stopKey{}, st))
	defer cancel(nil)
	var once sync.Once
	ready := func(addr string) {
		once.Do(func() {
			log.Info("ready", "addr", addr)
			if opts.OnReady != nil {
				opts.OnReady(addr)
			}
		})
	}
	done := make(chan error, 1)
	go func() { done <- serve(sctx, ready) }()

	parent := ctx.Done()
	var expired <-chan time.Time
	begin := func(cause error) {
		parent = nil
		st.begin(time.Now())
		log.Info("stopping", "cause", cause, "timeout", opts.StopTimeout)
		cancel(cause)
		t := time.NewTimer(opts.StopTimeout + min(opts.StopTimeout/10, time.Second))
		expired = t.C
	}
	for {
		select {
		case err := <-done:
			if st.begun() && errors.Is(err, context.Canceled) {
				err = nil
			}
			if err != nil {
				log.Error("stopped", "err", err)
			} else {
				log.Info("stopped")
			}
			return err
		case sig := <-sigs:
			if !st.begun() {
				begin(fmt.Errorf("daemon: stop asked by signal %v", sig))
				continue
			}
			log.Error("forced to stop", "signal", sig.String())
			return fmt.Errorf("%w (%v)", ErrForced, sig)
		case <-parent:
			begin(fmt.Errorf("daemon: stop asked by the caller: %w", context.Cause(ctx)))
		case <-expired:
			log.Error("stop timed out", "timeout", opts.StopTimeout)
			return ErrStopTimeout
		}
	}
}

// stop is when a stop began, and how long it may take; Run shares it with
// ShutdownContext through serve's context.
type stop struct {
	timeout time.Duration
	at      atomic.Int64 // unix nanoseconds; 0 until the stop begins
}

type stopKey struct{}

func (s *stop) begin(t time.Time) { s.at.Store(t.UnixNano()) }
func (s *stop) begun() bool       { return s.at.Load() != 0 }

// ShutdownContext returns the context a program shuts down with, given the
// context Run passed to serve: it is not cancelled with ctx, and its
// deadline is Options.StopTimeout after the stop began, or after now when
// called before any stop. For a context that does not come from Run the
// deadline is DefaultStopTimeout from now. Call cancel when done with it.
// Safe to call from any goroutine.
func ShutdownContext(ctx context.Context) (context.Context, context.CancelFunc) {
	base := context.WithoutCancel(ctx)
	s, ok := ctx.Value(stopKey{}).(*stop)
	if !ok {
		return context.WithTimeout(base, DefaultStopTimeout)
	}
	if at := s.at.Load(); at != 0 {
		return context.WithDeadline(base, time.Unix(0, at).Add(s.timeout))
	}
	return context.WithTimeout(base, s.timeout)
}
