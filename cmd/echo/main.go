package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/net/daemon"
	"github.com/gonetic/gonetic/net/transport"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program, short of its exit: it parses args, serves until
// ctx is done or a signal comes, and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("echo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8007", "`address` to listen on; port 0 picks a free one")
	maxFrame := fs.Int("max", 64<<10, "largest frame to echo, in `bytes`; a longer one closes the connection")
	pidfile := fs.String("pidfile", "", "write the process id to this `file` while running")
	stopTimeout := fs.Duration("stop-timeout", 5*time.Second, "how long to let connections finish on SIGINT or SIGTERM")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 || *maxFrame <= 0 {
		fmt.Fprintln(stderr, "echo: unexpected arguments or a -max below 1")
		fs.Usage()
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	opts := daemon.Options{
		Name:        "echo",
		PIDFile:     *pidfile,
		Logger:      log,
		StopTimeout: *stopTimeout,
		OnReady:     func(addr string) { fmt.Fprintf(stdout, "listening on %s\n", addr) },
	}
	err := daemon.Run(ctx, opts, func(ctx context.Context, ready func(string)) error {
		return serve(ctx, *addr, *maxFrame, *stopTimeout, log, ready)
	})
	if err != nil {
		return 1
	}
	return 0
}

// serve runs the echo server on addr until ctx is done, then closes every
// connection gracefully: the echoes already queued are sent first.
func serve(ctx context.Context, addr string, maxFrame int, stopTimeout time.Duration, log *slog.Logger, ready func(string)) error {
	ln, err := ListenTCP(addr,
		tcp.Options{Framing: Framing{}, CloseTimeout: stopTimeout},
		transport.Config{MaxPayload: maxFrame},
		NewEchoFactory(log))
	if err != nil {
		return err
	}
	ready(ln.Addr())
	<-ctx.Done()

	sctx, cancel := daemon.ShutdownContext(ctx)
	defer cancel()
	closed := make(chan error, 1)
	go func() { closed <- ln.Close() }()
	select {
	case err := <-closed:
		return err
	case <-sctx.Done():
		return fmt.Errorf("echo: connections still open at the stop deadline: %w", sctx.Err())
	}
}
