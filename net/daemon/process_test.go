//go:build unix

package daemon_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gonetic/gonetic/net/daemon"
)

// TestSignalStop: the first SIGTERM or SIGINT cancels serve's context; the
// program shuts down with a deadline, Run returns nil and the process exits
// 0 without its pidfile.
func TestSignalStop(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			pidfile := filepath.Join(t.TempDir(), "helper.pid")
			c := startChild(t, "serve", "", "GONETIC_PIDFILE="+pidfile, "GONETIC_STOP_TIMEOUT=15s")
			// Ready is reported only once the pidfile is in place.
			want := fmt.Sprintf("READY helper-addr pidfile=\"%d\\n\" <nil>", c.pid())
			if line := c.expect(t, "READY"); line != want {
				t.Fatalf("got %q, want %q", line, want)
			}
			if pid := readPID(t, pidfile); pid != c.pid() {
				t.Fatalf("pidfile holds %d, want %d", pid, c.pid())
			}
			if err := c.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			c.expect(t, "STOPPING")
			if line := c.expect(t, "SHUTDOWN"); line != "SHUTDOWN deadline=true within=true" {
				t.Fatalf("got %q", line)
			}
			c.expect(t, "FLUSHED")
			if code := c.wait(t); code != 0 {
				t.Fatalf("exit code %d, want 0", code)
			}
			if pid := readPID(t, pidfile); pid != 0 {
				t.Fatalf("the pidfile still holds %d", pid)
			}
			for _, msg := range []string{"msg=starting", "msg=ready", "msg=stopping", "msg=stopped"} {
				if !strings.Contains(c.stderr.String(), msg) {
					t.Errorf("the child's log lacks %s", msg)
				}
			}
		})
	}
}

// TestSecondSignalForces: a second SIGINT while the program is stuck in its
// shutdown makes Run return ErrForced, and the pidfile is removed.
func TestSecondSignalForces(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "helper.pid")
	c := startChild(t, "hang", "", "GONETIC_PIDFILE="+pidfile, "GONETIC_STOP_TIMEOUT=1h")
	c.expect(t, "READY")
	c.cmd.Process.Signal(syscall.SIGINT)
	c.expect(t, "STOPPING")
	c.cmd.Process.Signal(syscall.SIGINT)
	if code := c.wait(t); code != exitForced {
		t.Fatalf("exit code %d, want %d (ErrForced)", code, exitForced)
	}
	if pid := readPID(t, pidfile); pid != 0 {
		t.Fatalf("the pidfile still holds %d", pid)
	}
}

// TestStopTimeoutProcess: a program that does not stop within StopTimeout
// makes Run return ErrStopTimeout, and the pidfile is removed.
func TestStopTimeoutProcess(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "helper.pid")
	c := startChild(t, "hang", "", "GONETIC_PIDFILE="+pidfile, "GONETIC_STOP_TIMEOUT=100ms")
	c.expect(t, "READY")
	c.cmd.Process.Signal(syscall.SIGTERM)
	c.expect(t, "STOPPING")
	if code := c.wait(t); code != exitStopTimeout {
		t.Fatalf("exit code %d, want %d (ErrStopTimeout)", code, exitStopTimeout)
	}
	if pid := readPID(t, pidfile); pid != 0 {
		t.Fatalf("the pidfile still holds %d", pid)
	}
}

// TestSecondInstanceRefused: a second daemon with the same pidfile refuses
// to start, naming the first one's pid, and leaves its pidfile alone.
func TestSecondInstanceRefused(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "helper.pid")
	first := startChild(t, "serve", "", "GONETIC_PIDFILE="+pidfile)
	first.expect(t, "READY")
	second := startChild(t, "serve", "", "GONETIC_PIDFILE="+pidfile)
	if code := second.wait(t); code != exitRunning {
		t.Fatalf("the second instance's exit code is %d, want %d", code, exitRunning)
	}
	if want := fmt.Sprintf("names process %d, which is running", first.pid()); !strings.Contains(second.stderr.String(), want) {
		t.Fatalf("the second instance's log does not say %q:\n%s", want, second.stderr.String())
	}
	if pid := readPID(t, pidfile); pid != first.pid() {
		t.Fatalf("pidfile holds %d, want the first instance's %d", pid, first.pid())
	}
	first.cmd.Process.Signal(syscall.SIGTERM)
	if code := first.wait(t); code != 0 {
		t.Fatalf("exit code %d", code)
	}
}

// TestPIDFileLive: a pidfile naming a live process of this program refuses
// AcquirePIDFile, with an error that names the pid.
func TestPIDFileLive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.pid")
	c := startChild(t, "sleep", "")
	c.expect(t, "UP")
	os.WriteFile(path, fmt.Appendf(nil, "%d\n", c.pid()), 0o644)
	_, err := daemon.AcquirePIDFile(path)
	var running *daemon.AlreadyRunningError
	if !errors.As(err, &running) || running.PID != c.pid() || running.Path != path {
		t.Fatalf("got %v, want an AlreadyRunningError for %d", err, c.pid())
	}
	if !strings.Contains(err.Error(), fmt.Sprint(c.pid())) {
		t.Fatalf("the error %q does not name the pid", err)
	}
	c.stdin.Close()
	if code := c.wait(t); code != 0 {
		t.Fatalf("exit code %d", code)
	}
}

// TestPIDFileReused: a pidfile naming a live process that is another
// program (the pid was reused) is stale.
func TestPIDFileReused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.pid")
	c := startChild(t, "sleep", "/usr/bin/another-program")
	c.expect(t, "UP")
	os.WriteFile(path, fmt.Appendf(nil, "%d\n", c.pid()), 0o644)
	if _, err := os.Stat("/proc/self/cmdline"); err != nil {
		t.Skip("no /proc: a live pid cannot be told from ours")
	}
	pf, err := daemon.AcquirePIDFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Release()
	if pid, reason := pf.Stale(); pid != c.pid() || !strings.Contains(reason, `"another-program", not this program`) {
		t.Fatalf("Stale() = %d, %q", pid, reason)
	}
	if pid := readPID(t, path); pid != os.Getpid() {
		t.Fatalf("pidfile holds %d, want ours", pid)
	}
	c.stdin.Close()
	c.wait(t)
}

// TestPIDFileDead: a pidfile naming a process that has exited is stale.
func TestPIDFileDead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.pid")
	c := startChild(t, "exit", "")
	if code := c.wait(t); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	os.WriteFile(path, fmt.Appendf(nil, "%d\n", c.pid()), 0o644)
	pf, err := daemon.AcquirePIDFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Release()
	// Should the pid have gone to another program already, it is stale too.
	if pid, reason := pf.Stale(); pid != c.pid() || reason != fmt.Sprintf("no process %d is running", c.pid()) && !strings.HasSuffix(reason, "not this program") {
		t.Fatalf("Stale() = %d, %q", pid, reason)
	}
}
