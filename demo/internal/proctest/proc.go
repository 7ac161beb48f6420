package proctest

import (
	"bufio"
	"bytes"
	"io"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Deadline bounds every wait for a line or an exit.
const Deadline = 30 * time.Second

// Proc is a running program whose stdout is read line by line. Its
// methods are for the test's goroutine.
type Proc struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	in   io.WriteCloser

	mu      sync.Mutex // guards lines, stderr, exited, err
	changed *sync.Cond
	lines   []string
	stderr  bytes.Buffer
	exited  bool
	err     error
	pos     int // Expect's cursor; only the test goroutine uses it
}

// Start runs bin with args; name is what the test's messages call it.
// The process gets its own process group, stopped at the end of the test
// if it is still running; when the test failed, its output is logged.
func Start(t *testing.T, name, bin string, args ...string) *Proc {
	t.Helper()
	return StartEnv(t, name, nil, bin, args...)
}

// StartEnv is Start with the environment env (nil: this process's).
func StartEnv(t *testing.T, name string, env []string, bin string, args ...string) *Proc {
	t.Helper()
	p := &Proc{t: t, name: name, cmd: exec.Command(bin, args...)}
	p.cmd.Env = env
	p.changed = sync.NewCond(&p.mu)
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p.cmd.Stderr = lockedWriter{&p.mu, &p.stderr}
	var err error
	if p.in, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			p.changed.Broadcast()
			p.mu.Unlock()
		}
		err := p.cmd.Wait()
		p.mu.Lock()
		p.exited, p.err = true, err
		p.changed.Broadcast()
		p.mu.Unlock()
	}()
	t.Cleanup(func() {
		p.mu.Lock()
		exited := p.exited
		p.mu.Unlock()
		if !exited {
			// SIGTERM first, so that xvfb-run can stop its X server and
			// clean up; then SIGKILL for whatever is left of the group.
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
			if !p.waitUntil(5*time.Second, func() bool { return p.exited }) {
				_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			}
		}
		if t.Failed() {
			p.dump()
		}
	})
	return p
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (w lockedWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(b)
}

func (p *Proc) dump() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.t.Logf("--- %s stdout:\n%s\n--- %s stderr:\n%s", p.name, strings.Join(p.lines, "\n"), p.name, p.stderr.String())
}

// Name is what the test's messages call the program.
func (p *Proc) Name() string { return p.name }

// waitFor waits, until the Deadline, for cond (called with p.mu held) to
// hold. It returns false on the Deadline.
func (p *Proc) waitFor(cond func() bool) bool { return p.waitUntil(Deadline, cond) }

// waitUntil is waitFor with another limit.
func (p *Proc) waitUntil(limit time.Duration, cond func() bool) bool {
	end := time.Now().Add(limit)
	timer := time.AfterFunc(limit, func() {
		p.mu.Lock()
		p.changed.Broadcast()
		p.mu.Unlock()
	})
	defer timer.Stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	for !cond() {
		if time.Now().After(end) {
			return false
		}
		p.changed.Wait()
	}
	return true
}

// Expect waits for a line, after the last one Expect matched, that
// contains s, and returns it.
func (p *Proc) Expect(s string) string {
	p.t.Helper()
	return p.ExpectWithin(s, Deadline)
}

// ExpectWithin is Expect with another limit than Deadline, for a line that
// a program under test bounds itself (a window's -timeout), and that a
// -race build under xvfb on a busy machine may take longer to reach.
func (p *Proc) ExpectWithin(s string, limit time.Duration) string {
	p.t.Helper()
	var found string
	ok := p.waitUntil(limit, func() bool {
		for i := p.pos; i < len(p.lines); i++ {
			if strings.Contains(p.lines[i], s) {
				found, p.pos = p.lines[i], i+1
				return true
			}
		}
		return p.exited
	})
	if !ok || found == "" {
		p.t.Fatalf("%s did not print a line containing %q (within %v, or before it exited)", p.name, s, limit)
	}
	return found
}

// ExpectAny waits for a line, anywhere in the output, that contains one
// of subs, and returns it.
func (p *Proc) ExpectAny(subs ...string) string {
	p.t.Helper()
	var found string
	ok := p.waitFor(func() bool {
		for _, l := range p.lines {
			for _, s := range subs {
				if strings.Contains(l, s) {
					found = l
					return true
				}
			}
		}
		return p.exited
	})
	if !ok || found == "" {
		p.t.Fatalf("%s printed no line containing any of %q", p.name, subs)
	}
	return found
}

// ExpectCount waits until n lines in all contain s.
func (p *Proc) ExpectCount(s string, n int) {
	p.t.Helper()
	ok := p.waitFor(func() bool { return count(p.lines, s) >= n || p.exited })
	if c := p.Count(s); !ok || c < n {
		p.t.Fatalf("%s printed %d lines containing %q, want %d", p.name, c, s, n)
	}
}

// Count is the number of lines so far that contain s.
func (p *Proc) Count(s string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return count(p.lines, s)
}

func count(lines []string, s string) int {
	c := 0
	for _, l := range lines {
		if strings.Contains(l, s) {
			c++
		}
	}
	return c
}

// Lines are the lines printed so far.
func (p *Proc) Lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...)
}

// Send writes a line to the program's stdin.
func (p *Proc) Send(line string) {
	p.t.Helper()
	if _, err := io.WriteString(p.in, line+"\n"); err != nil {
		p.t.Fatalf("write to %s: %v", p.name, err)
	}
}

// CloseStdin closes the program's stdin: it reads end of file.
func (p *Proc) CloseStdin() {
	p.t.Helper()
	if err := p.in.Close(); err != nil {
		p.t.Fatalf("close %s's stdin: %v", p.name, err)
	}
}

// Signal sends sig to the program.
func (p *Proc) Signal(sig syscall.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %s: %v", p.name, err)
	}
}

// SignalGroup sends sig to the program's process group, as a terminal's
// Ctrl-C does to the programs in the foreground.
func (p *Proc) SignalGroup(sig syscall.Signal) {
	p.t.Helper()
	if err := syscall.Kill(-p.cmd.Process.Pid, sig); err != nil {
		p.t.Fatalf("signal %s's group: %v", p.name, err)
	}
}

// Wait waits for the program to exit and fails the test unless it exited
// with status 0.
func (p *Proc) Wait() {
	p.t.Helper()
	if !p.waitFor(func() bool { return p.exited }) {
		p.t.Fatalf("%s did not exit within %v", p.name, Deadline)
	}
	p.mu.Lock()
	err := p.err
	p.mu.Unlock()
	if err != nil {
		p.t.Fatalf("%s: %v", p.name, err)
	}
}
