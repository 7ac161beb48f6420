package daemon_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/gonetic/gonetic/net/daemon"
)

// stdoutLogger logs to stdout without the attributes that change from run
// to run, so that the example's output can be checked.
func stdoutLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "pid" {
				return slog.Attr{}
			}
			return a
		},
	}))
}

// A program that stops as soon as it is ready: here the caller's context
// stops it; in production, SIGINT or SIGTERM does.
func Example() {
	ctx, stop := context.WithCancel(context.Background())
	opts := daemon.Options{
		Name:    "example",
		Logger:  stdoutLogger(),
		OnReady: func(addr string) { stop() },
	}
	err := daemon.Run(ctx, opts, func(ctx context.Context, ready func(addr string)) error {
		ready("127.0.0.1:7000") // once listening
		<-ctx.Done()
		sctx, cancel := daemon.ShutdownContext(ctx)
		defer cancel()
		_, ok := sctx.Deadline()
		fmt.Println("shutting down; deadline:", ok) // e.g. srv.Shutdown(sctx, "bye")
		return ctx.Err()
	})
	fmt.Println("Run:", err)
	// Output:
	// level=INFO msg=starting program=example
	// level=INFO msg=ready program=example addr=127.0.0.1:7000
	// level=INFO msg=stopping program=example cause="daemon: stop asked by the caller: context canceled" timeout=10s
	// shutting down; deadline: true
	// level=INFO msg=stopped program=example
	// Run: <nil>
}

func ExampleAcquirePIDFile() {
	path := filepath.Join(os.TempDir(), fmt.Sprintf("example-%d.pid", os.Getpid()))
	pf, err := daemon.AcquirePIDFile(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := os.ReadFile(path)
	fmt.Println("holds our pid:", string(b) == fmt.Sprintf("%d\n", os.Getpid()))
	fmt.Println("release:", pf.Release())
	_, err = os.Stat(path)
	fmt.Println("removed:", os.IsNotExist(err))
	// Output:
	// holds our pid: true
	// release: <nil>
	// removed: true
}
