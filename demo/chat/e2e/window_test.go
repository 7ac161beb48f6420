package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gonetic/gonetic/demo/internal/proctest"
)

// The window client's default size, which the screenshot must have.
const windowW, windowH = 960, 600

// startWindow runs the window client under xvfb-run, or skips the test
// when xvfb-run is not installed.
func startWindow(t *testing.T, addr, nick string, args ...string) *proctest.Proc {
	t.Helper()
	xvfb := proctest.XvfbRun(t)
	bin := programs.Build(t, "window")
	all := append([]string{"-a", "-s", "-screen 0 1280x800x24", bin, "-addr", addr, "-nick", nick}, args...)
	return proctest.Start(t, "window "+nick, xvfb, all...)
}

// TestWindowClient: the window client joins, says a scripted line, hears
// a terminal client, and writes a screenshot that shows it.
func TestWindowClient(t *testing.T) {
	srv, addr := startServer(t)
	tess := startTerm(t, addr, "tess")
	tess.Expect("*** joined as tess")
	sam := startTerm(t, addr, "sam")
	sam.Expect("*** joined as sam")

	shot := filepath.Join(t.TempDir(), "chat-window.png")
	win := startWindow(t, addr, "wendy",
		"-say", "hello from the window",
		"-until", "hello from the terminal",
		"-screenshot", shot, "-frames", "30", "-stats")
	tess.Expect("*** wendy joined")
	tess.Expect("<wendy> hello from the window") // the terminal received the window's line
	sam.Expect("<wendy> hello from the window")
	sam.Send("welcome wendy!")
	win.Expect("*** joined as wendy; online (3): tess, sam, wendy")
	win.Expect("<sam> welcome wendy!")
	tess.Send("hello from the terminal")
	win.Expect("<tess> hello from the terminal")
	expectBarRTT(t, win.Expect("window: screenshot written to "+shot+" (960x600); bar: online as wendy"))
	t.Log(win.Expect("window: Game.Update over "))
	win.Wait()
	tess.Expect("*** wendy left (quit)")

	checkScreenshot(t, shot)
	if dst := os.Getenv("CHAT_SCREENSHOT"); dst != "" { // to refresh docs/chat-window.png
		b, _ := os.ReadFile(shot)
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Error(err)
		}
	}

	tess.Send("/quit")
	tess.Wait()
	sam.Send("/quit")
	sam.Wait()
	srv.Signal(syscall.SIGTERM)
	srv.Wait()
}

// TestWindowReconnect: the server goes away and comes back on the same
// address; the window says so, joins again by itself, and goes on.
func TestWindowReconnect(t *testing.T) {
	srv, addr := startServer(t)
	shot := filepath.Join(t.TempDir(), "reconnect.png")
	win := startWindow(t, addr, "wendy", "-until", "welcome back", "-screenshot", shot)
	win.Expect("*** joined as wendy; online (1): wendy")
	srv.Signal(syscall.SIGTERM)
	srv.Wait()
	win.Expect("!!! disconnected: the server closed the connection: server shutting down; reconnecting in ")
	win.Expect("!!! cannot connect to " + addr)
	srv2 := proctest.Start(t, "server2", programs.Build(t, "server"), "-addr", addr)
	srv2.Expect("chat server listening on " + addr)
	win.Expect("*** joined as wendy; online (1): wendy")
	tess := startTerm(t, addr, "tess")
	tess.Expect("*** joined as tess; online (2): wendy, tess")
	tess.Send("welcome back")
	win.Expect("<tess> welcome back")
	expectBarRTT(t, win.Expect("window: screenshot written to "+shot+" (960x600); bar: online as wendy")) // the new connection's
	win.Wait()
	checkScreenshot(t, shot)
	tess.Send("/quit")
	tess.Wait()
	srv2.Signal(syscall.SIGTERM)
	srv2.Wait()
}

// expectBarRTT checks that the window's bar, as the screenshot line
// reports it, showed a measured round trip: Conn.Stats().RTT, from
// gonetic's keepalive pings (the protocol has no ping).
func expectBarRTT(t *testing.T, line string) {
	t.Helper()
	if m := rttRE.FindStringSubmatch(line); m == nil || m[1] == "measuring" {
		t.Fatalf("the screenshot's bar shows no round trip: %q", line)
	}
}

// checkScreenshot checks the PNG's size and that it shows something: many
// colors (text is antialiased) and a good number of bright text pixels.
func checkScreenshot(t *testing.T, name string) {
	t.Helper()
	img := proctest.Screenshot(t, name, windowW, windowH)
	colors, bright := map[uint32]bool{}, 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			colors[(r>>8)<<16|(g>>8)<<8|bl>>8] = true
			if (r>>8)+(g>>8)+(bl>>8) > 3*160 {
				bright++
			}
		}
	}
	t.Logf("screenshot: %d colors, %d bright pixels", len(colors), bright)
	if len(colors) < 16 {
		t.Errorf("screenshot has %d colors: blank?", len(colors))
	}
	if bright < 500 {
		t.Errorf("screenshot has %d bright (text) pixels: no text?", bright)
	}
}

// TestWindowFrameTime measures the window client's Game.Update while 20
// bots chat: it reports the p50 and p99 and fails only above one frame
// (16.7 ms), since this machine is shared and tests may run with -race.
func TestWindowFrameTime(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	srv, addr := startServer(t)
	bots := proctest.Start(t, "bots", programs.Build(t, "term"), "-addr", addr, "-bots", "20", "-interval", "500ms")
	bots.ExpectCount("] online as bot", 20)
	win := startWindow(t, addr, "wendy", "-frames", "180", "-stats")
	win.Expect("*** joined as wendy; online (21)")
	win.Expect("<bot")
	line := win.Expect("window: Game.Update over ")
	win.Wait()
	t.Log(line)
	m := regexp.MustCompile(`p50=(\S+) p99=(\S+)`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no p50/p99 in %q", line)
	}
	p99, err := time.ParseDuration(strings.ReplaceAll(m[2], "µ", "u"))
	if err != nil {
		t.Fatal(err)
	}
	if p99 > 16700*time.Microsecond {
		t.Errorf("Game.Update p99 = %v: more than a frame", p99)
	}
	bots.Signal(syscall.SIGTERM)
	bots.Expect("bots: 20 bots said ")
	bots.Wait()
	srv.Signal(syscall.SIGTERM)
	srv.Wait()
}
