package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLauncherWithoutDisplay runs the README's main command without a
// display: it must build everything, choose the terminal client and say
// so, and stop the server and bots when the client quits.
func TestLauncherWithoutDisplay(t *testing.T) {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DISPLAY=") && !strings.HasPrefix(kv, "WAYLAND_DISPLAY=") {
			env = append(env, kv)
		}
	}
	l := startEnv(t, "launcher", env, program(t, "chat"), "-nick", "tester", "-bots", "1")
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

// TestLauncherWithDisplay runs the launcher under xvfb-run: it must choose
// the window client and say so. Arguments after -- reach the window,
// which says a line, writes a screenshot and leaves.
func TestLauncherWithDisplay(t *testing.T) {
	xvfb := xvfbRun(t)
	build(t, "window", false) // the launcher's own build then finds it in the build cache
	shot := filepath.Join(t.TempDir(), "launcher.png")
	l := start(t, "launcher", xvfb, "-a", "-s", "-screen 0 1280x800x24",
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
