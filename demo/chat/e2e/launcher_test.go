package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gonetic/gonetic/demo/internal/proctest"
)

// TestLauncherWithoutDisplay runs the README's main command without a
// display: it must build everything, choose the terminal client and say
// so, and stop the server and bots when the client quits.
func TestLauncherWithoutDisplay(t *testing.T) {
	l := proctest.StartEnv(t, "launcher", proctest.LauncherEnv(t, false), programs.Build(t, "chat"), "-nick", "tester", "-bots", "1")
	l.Expect("chat: no display ($DISPLAY and $WAYLAND_DISPLAY are empty): starting the terminal client")
	l.Expect("chat: server listening on 127.0.0.1:")
	l.Expect("chat: started 1 bot(s)")
	l.Expect("*** joined as tester; online (")
	l.ExpectAny("*** bot1 joined", "online (2): bot1, tester")
	l.Send("/who")
	l.ExpectAny("*** online (2): bot1, tester", "*** online (2): tester, bot1")
	l.Send("/quit")
	l.Expect("*** bye")
	l.Wait()
}

// TestLauncherSimulated runs the launcher as `make chat CHAT_ARGS='-sim
// "lag=50ms,loss=5%"'` does: loss picks ENet, the server plays under the
// conditions and the launcher says which, and the chat works.
func TestLauncherSimulated(t *testing.T) {
	l := proctest.StartEnv(t, "launcher", proctest.LauncherEnv(t, false), programs.Build(t, "chat"), "-nick", "tester", "-bots", "1", "-sim", "lag=50ms,loss=5%")
	l.Expect("chat: -sim lag=50ms,loss=5%: a TCP stream never loses, duplicates or reorders bytes, so the demo runs over ENet")
	l.Expect("chat: the server plays under a simulated network, which every client feels both ways: lag=50ms,loss=5% (seed ")
	l.Expect("chat: server listening on 127.0.0.1:")
	l.Expect("*** joined as tester; online (")
	l.Send("hello through the simulator")
	l.Expect("<tester> hello through the simulator")
	l.Send("/quit")
	l.Expect("*** bye")
	l.Wait()
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
			l := proctest.StartEnv(t, "launcher", proctest.LauncherEnv(t, false), programs.Build(t, "chat"), "-nick", "tester", "-bots", "1")
			line := l.Expect("chat: server listening on 127.0.0.1:")
			_, logPath, _ := strings.Cut(line, "its log is in ")
			l.Expect("*** joined as tester; online (")
			if c.group {
				l.SignalGroup(c.sig)
			} else {
				l.Signal(c.sig)
			}
			l.Expect("*** bye")
			kept := l.Expect("chat: the logs stay in ")
			l.Wait()
			if want := "chat: the logs stay in " + filepath.Dir(logPath) + " (server.log, bots.log)"; kept != want {
				t.Errorf("launcher said %q, want %q", kept, want)
			}
			log, err := os.ReadFile(logPath)
			if err != nil || !strings.Contains(string(log), "chat server stopped") {
				t.Fatalf("the server's log %s: %v\n%s", logPath, err, log)
			}
			for _, line := range l.Lines() {
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
	xvfb := proctest.XvfbRun(t)
	programs.BuildNoRace(t, "window") // the launcher's own build then finds it in the build cache
	shot := filepath.Join(t.TempDir(), "launcher.png")
	l := proctest.StartEnv(t, "launcher", proctest.LauncherEnv(t, true), xvfb, "-a", "-s", "-screen 0 1280x800x24",
		programs.Build(t, "chat"), "-nick", "wendy", "-bots", "1", "--", "-say", "hello from the launcher", "-screenshot", shot)
	if line := l.Expect("chat: display found (DISPLAY="); !strings.HasSuffix(line, "starting the window client") {
		t.Fatalf("the launcher did not choose the window: %q", line)
	}
	l.Expect("*** joined as wendy; online (")
	l.Expect("<wendy> hello from the launcher")
	l.Expect("window: screenshot written to " + shot)
	l.Expect("*** disconnected")
	l.Wait()
	checkScreenshot(t, shot)
}
