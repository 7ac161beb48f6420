package daemon_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gonetic/gonetic/net/daemon"
)

// waitLimit bounds every wait for a child process: generous, for slow and
// busy machines.
const waitLimit = 20 * time.Second

// helperEnv selects what the test binary does when a test runs it as a
// child process; see helper.
const helperEnv = "GONETIC_DAEMON_HELPER"

// Exit codes of the helper.
const (
	exitForced      = 3
	exitStopTimeout = 4
	exitRunning     = 5
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(helper(mode))
	}
	os.Exit(m.Run())
}

// helper is the child process. "sleep" prints UP and waits for its stdin
// to close. "serve" runs daemon.Run with the pidfile in GONETIC_PIDFILE and
// the stop timeout in GONETIC_STOP_TIMEOUT, prints READY once ready, and
// STOPPING, SHUTDOWN and FLUSHED as it stops; "hang" never returns from
// serve once asked to stop.
func helper(mode string) int {
	switch mode {
	case "sleep":
		fmt.Println("UP")
		io.Copy(io.Discard, os.Stdin)
		return 0
	case "exit":
		return 0
	case "serve", "hang":
	default:
		fmt.Println("unknown helper mode", mode)
		return 2
	}
	timeout, _ := time.ParseDuration(os.Getenv("GONETIC_STOP_TIMEOUT"))
	if timeout <= 0 {
		timeout = daemon.DefaultStopTimeout
	}
	pidfile := os.Getenv("GONETIC_PIDFILE")
	opts := daemon.Options{
		Name:        "helper",
		PIDFile:     pidfile,
		StopTimeout: timeout,
		OnReady: func(addr string) {
			b, err := os.ReadFile(pidfile)
			fmt.Printf("READY %s pidfile=%q %v\n", addr, b, err)
		},
	}
	err := daemon.Run(context.Background(), opts, func(ctx context.Context, ready func(string)) error {
		ready("helper-addr")
		<-ctx.Done()
		fmt.Println("STOPPING")
		if mode == "hang" {
			<-make(chan struct{})
		}
		sctx, cancel := daemon.ShutdownContext(ctx)
		defer cancel()
		deadline, ok := sctx.Deadline()
		fmt.Printf("SHUTDOWN deadline=%v within=%v\n", ok, time.Until(deadline) <= timeout)
		fmt.Println("FLUSHED") // where a server's Shutdown(sctx) would send what is queued
		return ctx.Err()
	})
	var running *daemon.AlreadyRunningError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, daemon.ErrForced):
		return exitForced
	case errors.Is(err, daemon.ErrStopTimeout):
		return exitStopTimeout
	case errors.As(err, &running):
		return exitRunning
	}
	return 1
}

// child is the test binary run as a helper process.
type child struct {
	cmd    *exec.Cmd
	lines  chan string // its stdout, line by line; closed at its end
	exited chan error  // its exit, once lines is drained
	stdin  io.WriteCloser
	stderr syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startChild runs the helper in mode, with argv[0] arg0 if not "", and the
// extra environment variables env.
func startChild(t *testing.T, mode, arg0 string, env ...string) *child {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: exec.Command(exe, "-test.run=^$"), lines: make(chan string, 64), exited: make(chan error, 1)}
	if arg0 != "" {
		c.cmd.Args[0] = arg0
	}
	// The race detector would otherwise sleep a second at every exit.
	c.cmd.Env = append(os.Environ(), append(env, helperEnv+"="+mode, "GORACE=atexit_sleep_ms=0")...)
	c.cmd.Stderr = &c.stderr
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
		c.exited <- c.cmd.Wait()
	}()
	t.Cleanup(func() {
		c.cmd.Process.Kill()
		c.stdin.Close()
		if t.Failed() {
			t.Logf("child %d's stderr:\n%s", c.cmd.Process.Pid, c.stderr.String())
		}
	})
	return c
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// expect waits for the child's next line and checks that it starts with
// prefix.
func (c *child) expect(t *testing.T, prefix string) string {
	t.Helper()
	select {
	case line, ok := <-c.lines:
		if !ok {
			t.Fatalf("the child ended its output; want a line starting %q", prefix)
		}
		if !strings.HasPrefix(line, prefix) {
			t.Fatalf("the child printed %q; want a line starting %q", line, prefix)
		}
		return line
	case <-time.After(waitLimit):
		t.Fatalf("no line starting %q from the child within %v", prefix, waitLimit)
		return ""
	}
}

// wait waits for the child's exit and returns its exit code.
func (c *child) wait(t *testing.T) int {
	t.Helper()
	deadline := time.After(waitLimit)
	for {
		select {
		case line, ok := <-c.lines:
			if ok {
				t.Logf("child printed %q", line)
			} else {
				c.lines = nil
			}
		case err := <-c.exited:
			var exit *exec.ExitError
			if err != nil && !errors.As(err, &exit) {
				t.Fatal(err)
			}
			return c.cmd.ProcessState.ExitCode()
		case <-deadline:
			t.Fatalf("the child did not exit within %v", waitLimit)
		}
	}
}

// readPID returns the pid in a pidfile, or 0 if there is none.
func readPID(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSuffix(string(b), "\n"))
	if err != nil {
		t.Fatalf("pidfile holds %q", b)
	}
	return pid
}

// testLogger logs to the test's output.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), nil))
}
