package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestLauncherWithoutDisplay runs the README's main command without a
// display: it must build everything, choose the terminal client and say
// so, and stop the server and bots when the client quits.
func TestLauncherWithoutDisplay(t *testing.T) {
	l := startEnv(t, "launcher", launcherEnv(t, false), program(t, "chat"), "-nick", "tester", "-bots", "1")
	l.expect("chat: no display ($DISPLAY and $WAYLAND_DISPLAY are empty): starting the terminal client")
	l.expect("chat: server listening on 127.0.0.1:")
	l.expect("chat: started 1 bot(s)")
	l.expect("*** joined as tester; online (")
	l.expectAny("*** bot1 joined", "online (2): bot1, tester")
	l.send("/who")
	l.expectAny("*** online (2): bot1, tester", "*** online (2): tester, bot1")
	l.send("/quit")
	l.expect("*** bye")
	l.wait()
}

// TestLauncherSimulated runs the launcher as `make chat CHAT_ARGS='-sim
// "lag=50ms,loss=5%"'` does: loss picks ENet, the server plays under the
// conditions and the launcher says which, and the chat works.
func TestLauncherSimulated(t *testing.T) {
	l := startEnv(t, "launcher", launcherEnv(t, false), program(t, "chat"), "-nick", "tester", "-bots", "1", "-sim", "lag=50ms,loss=5%")
	l.expect("chat: -sim lag=50ms,loss=5%: a TCP stream never loses, duplicates or reorders bytes, so the demo runs over ENet")
	l.expect("chat: the server plays under a simulated network, which every client feels both ways: lag=50ms,loss=5% (seed ")
	l.expect("chat: server listening on 127.0.0.1:")
	l.expect("*** joined as tester; online (")
	l.send("hello through the simulator")
	l.expect("<tester> hello through the simulator")
	l.send("/quit")
	l.expect("*** bye")
	l.wait()
}

// launcherEnv is this process's environment with TMPDIR a test directory,
// where the launcher keeps its logs, and without a display unless display.
func launcherEnv(t *testing.T, display bool) []string {
	env := []string{"TMPDIR=" + t.TempDir()}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "TMPDIR=") {
			continue
		}
		if !display && (strings.HasPrefix(kv, "DISPLAY=") || strings.HasPrefix(kv, "WAYLAND_DISPLAY=")) {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// TestLauncherStops: Ctrl-C (SIGINT to the terminal's process group: the
// launcher and its client) and SIGTERM to the launcher alone stop the demo
// quietly with status 0, so that make prints no "Error 1", and the
// server's log, whose path the launcher printed, is still there.
func TestLauncherStops(t *testing.T) {
	for _, c := range []struct {
		name  string
		group bool
		sig   syscall.Signal
	}{
		{"ctrl-c", true, syscall.SIGINT},
		{"sigterm", false, syscall.SIGTERM},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := startEnv(t, "launcher", launcherEnv(t, false), program(t, "chat"), "-nick", "tester", "-bots", "1")
			line := l.expect("chat: server listening on 127.0.0.1:")
			_, logPath, _ := strings.Cut(line, "its log is in ")
			l.expect("*** joined as tester; online (")
			if c.group {
				if err := syscall.Kill(-l.cmd.Process.Pid, c.sig); err != nil {
					t.Fatal(err)
				}
			} else {
				l.signal(c.sig)
			}
			l.expect("*** bye")
			kept := l.expect("chat: the logs stay in ")
			l.wait()
			if want := "chat: the logs stay in " + filepath.Dir(logPath) + " (server.log, bots.log)"; kept != want {
				t.Errorf("launcher said %q, want %q", kept, want)
			}
			log, err := os.ReadFile(logPath)
			if err != nil || !strings.Contains(string(log), "chat server stopped") {
				t.Fatalf("the server's log %s: %v\n%s", logPath, err, log)
			}
			l.mu.Lock()
			defer l.mu.Unlock()
			for _, line := range l.lines {
				if strings.Contains(line, "exit status") || strings.Contains(line, "signal:") {
					t.Errorf("the launcher printed %q", line)
				}
			}
		})
	}
}

// TestLauncherWithDisplay runs the launcher under xvfb-run: it must choose
// the window client and say so. Arguments after -- reach the window,
// which says a line, writes a screenshot and leaves.
func TestLauncherWithDisplay(t *testing.T) {
	xvfb := xvfbRun(t)
	build(t, "window", false) // the launcher's own build then finds it in the build cache
	shot := filepath.Join(t.TempDir(), "launcher.png")
	l := startEnv(t, "launcher", launcherEnv(t, true), xvfb, "-a", "-s", "-screen 0 1280x800x24",
		program(t, "chat"), "-nick", "wendy", "-bots", "1", "--", "-say", "hello from the launcher", "-screenshot", shot)
	if line := l.expect("chat: display found (DISPLAY="); !strings.HasSuffix(line, "starting the window client") {
		t.Fatalf("the launcher did not choose the window: %q", line)
	}
	l.expect("*** joined as wendy; online (")
	l.expect("<wendy> hello from the launcher")
	l.expect("window: screenshot written to " + shot)
	l.expect("*** disconnected")
	l.wait()
	checkScreenshot(t, shot)
}
