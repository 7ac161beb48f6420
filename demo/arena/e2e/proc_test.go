package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// deadline bounds every wait for a line or an exit.
const deadline = 30 * time.Second

// raceEnabled is set when the tests run with -race; the programs are then
// built with -race too.
var raceEnabled bool

// binDir holds the built programs.
var binDir string

// builds remembers each program's build, done once per test run.
var builds sync.Map // name → *buildResult

type buildResult struct {
	once sync.Once
	path string
	out  []byte
	err  error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "arena-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// program builds demo/arena/<name> (or the launcher for "arena") once and
// returns its path. It is built with -race when the tests are.
func program(t *testing.T, name string) string {
	t.Helper()
	return build(t, name, raceEnabled)
}

func build(t *testing.T, name string, race bool) string {
	t.Helper()
	key := name
	if race {
		key += "-race"
	}
	v, _ := builds.LoadOrStore(key, new(buildResult))
	b := v.(*buildResult)
	b.once.Do(func() {
		pkg := "github.com/gonetic/gonetic/demo/arena/" + name
		if name == "arena" {
			pkg = "github.com/gonetic/gonetic/demo/arena"
		}
		b.path = filepath.Join(binDir, key)
		args := []string{"build", "-o", b.path}
		if race {
			args = append(args, "-race")
		}
		// "go" from PATH: go test puts its own GOROOT/bin first there, so
		// this is the toolchain running the test.
		cmd := exec.Command("go", append(args, pkg)...)
		b.out, b.err = cmd.CombinedOutput()
	})
	if b.err != nil {
		t.Fatalf("go build %s: %v\n%s", name, b.err, b.out)
	}
	return b.path
}

// proc is a running program whose stdout is read line by line.
type proc struct {
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
	pos     int // expect's cursor; only the test goroutine uses it
}

// start runs bin with args. The process gets its own process group,
// killed at the end of the test if it is still running.
func start(t *testing.T, name, bin string, args ...string) *proc {
	t.Helper()
	return startEnv(t, name, nil, bin, args...)
}

// startEnv is start with the environment env (nil: this process's).
func startEnv(t *testing.T, name string, env []string, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, name: name, cmd: exec.Command(bin, args...)}
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

func (p *proc) dump() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.t.Logf("--- %s stdout:\n%s\n--- %s stderr:\n%s", p.name, strings.Join(p.lines, "\n"), p.name, p.stderr.String())
}

// waitFor waits, until the deadline, for cond (called with p.mu held) to
// hold. It returns false on the deadline.
func (p *proc) waitFor(cond func() bool) bool { return p.waitUntil(deadline, cond) }

// waitUntil is waitFor with another limit.
func (p *proc) waitUntil(limit time.Duration, cond func() bool) bool {
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

// expect waits for a line, after the last one expect matched, that
// contains s, and returns it.
func (p *proc) expect(s string) string {
	p.t.Helper()
	var found string
	ok := p.waitFor(func() bool {
		for i := p.pos; i < len(p.lines); i++ {
			if strings.Contains(p.lines[i], s) {
				found, p.pos = p.lines[i], i+1
				return true
			}
		}
		return p.exited
	})
	if !ok || found == "" {
		p.t.Fatalf("%s did not print a line containing %q (within %v, or before it exited)", p.name, s, deadline)
	}
	return found
}

// expectAny waits for a line, anywhere in the output, that contains one
// of subs, and returns it.
func (p *proc) expectAny(subs ...string) string {
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

// signal sends sig to the program.
func (p *proc) signal(sig syscall.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %s: %v", p.name, err)
	}
}

// wait waits for the program to exit and fails the test unless it exited
// with status 0.
func (p *proc) wait() {
	p.t.Helper()
	if !p.waitFor(func() bool { return p.exited }) {
		p.t.Fatalf("%s did not exit within %v", p.name, deadline)
	}
	p.mu.Lock()
	err := p.err
	p.mu.Unlock()
	if err != nil {
		p.t.Fatalf("%s: %v", p.name, err)
	}
}

// startServer starts an arena server and returns it with its address.
func startServer(t *testing.T, args ...string) (*proc, string) {
	t.Helper()
	srv := start(t, "server", program(t, "server"), append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	line := srv.expect("arena server listening on ")
	addr, _, _ := strings.Cut(strings.TrimPrefix(line, "arena server listening on "), " ")
	return srv, addr
}
