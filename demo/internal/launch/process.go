//go:build unix

package launch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Process is a program the launcher started in the background.
type Process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once it exited and its output is all written (Wait returned)
}

// startProcess starts cmd and waits for it on a goroutine of its own.
func startProcess(cmd *exec.Cmd) (*Process, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Process{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	return p, nil
}

// StartServer starts the program "server" with args in its own process
// group (the terminal's Ctrl-C is for the client) and waits for its
// "listening on HOST:PORT" line; it returns the address. Its output goes
// to server.log through exec's own copying, which Wait lets finish, so
// that its last line ("chat server stopped") is never lost. When the
// server says it plays under a simulated network, the launcher says so.
func (d *Demo) StartServer(args ...string) (*Process, string, error) {
	logf, err := os.Create(d.Path("server.log"))
	if err != nil {
		return nil, "", err
	}
	cmd := exec.Command(d.Path("server"), args...)
	listening := &lineWatch{prefix: "listening on ", found: make(chan string, 1)}
	// The server says which conditions it plays under before it listens.
	simulating := &lineWatch{prefix: "network simulator: ", found: make(chan string, 1)}
	cmd.Stdout, cmd.Stderr = io.MultiWriter(logf, simulating, listening), logf
	cmd.SysProcAttr = background()
	p, err := startProcess(cmd)
	if err != nil {
		return nil, "", err
	}
	select {
	case rest := <-listening.found:
		addr, _, _ := strings.Cut(rest, " ")
		select {
		case conditions := <-simulating.found:
			d.Say("the server plays under a simulated network, which every client feels both ways: %s", conditions)
		default:
		}
		d.logs = append(d.logs, "server.log")
		return p, addr, nil
	case <-p.done:
		log, _ := os.ReadFile(logf.Name())
		return nil, "", fmt.Errorf("the server did not start:\n%s", lastLines(log, 5))
	}
}

// StartBackground starts program with args in its own process group, its
// output to the log called log, and returns without waiting.
func (d *Demo) StartBackground(log, program string, args ...string) (*Process, error) {
	logf, err := os.Create(d.Path(log))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(d.Path(program), args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = background()
	p, err := startProcess(cmd)
	if err != nil {
		return nil, err
	}
	d.logs = append(d.logs, log)
	return p, nil
}

// lineWatch is a Writer that reports, once, the rest of the first line
// written to it that contains prefix.
type lineWatch struct {
	prefix string
	found  chan string // one slot
	line   []byte
	done   bool
}

func (w *lineWatch) Write(b []byte) (int, error) {
	for _, c := range b {
		if w.done {
			break
		}
		if c != '\n' {
			w.line = append(w.line, c)
			continue
		}
		if _, rest, ok := strings.Cut(string(w.line), w.prefix); ok {
			w.found <- rest
			w.done, w.line = true, nil
		}
		w.line = w.line[:0]
	}
	return len(b), nil
}

// Stop asks p, called name in what the launcher says, to stop gracefully
// and waits for it; after 10 s it kills it.
func (d *Demo) Stop(p *Process, name string) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		d.Say("%s did not stop in 10s: killing it", name)
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// RunClients runs the window client at path window on the terminal, or
// the demo's program fallback when window is "" or the window fails
// within 5 s of its start (fallbackName says which client the launcher
// then starts: "terminal client"). It returns the launcher's exit status:
// the client's own, or 1 (said) when it could not run. When ctx is done
// the client is asked to stop (if the terminal's Ctrl-C has not done so
// already).
func (d *Demo) RunClients(ctx context.Context, window, fallback, fallbackName string, args []string) int {
	if window != "" {
		err := runClient(ctx, window, args, 5*time.Second)
		var early *earlyExit
		if !errors.As(err, &early) {
			return d.exitCode(err)
		}
		d.Say("the window client failed at start (%v): starting the %s", early.err, fallbackName)
	}
	return d.exitCode(runClient(ctx, d.Path(fallback), args, 0))
}

// earlyExit is a client that failed within its start-up grace period.
type earlyExit struct{ err error }

func (e *earlyExit) Error() string { return e.err.Error() }

// runClient runs a client on the terminal until it exits. A failure
// within grace is an *earlyExit.
func runClient(ctx context.Context, path string, args []string, grace time.Duration) error {
	cmd := exec.Command(path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return &earlyExit{err}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	stopping := ctx.Done()
	for {
		select {
		case err := <-done:
			if err != nil && time.Since(start) < grace && ctx.Err() == nil {
				return &earlyExit{err}
			}
			return err
		case <-stopping:
			// The client got the terminal's Ctrl-C too; a SIGTERM sent to
			// the launcher alone is passed on.
			_ = cmd.Process.Signal(syscall.SIGTERM)
			stopping = nil
		}
	}
}

// exitCode is the launcher's exit status for a client's end.
func (d *Demo) exitCode(err error) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	d.Say("%v", err)
	return 1
}
