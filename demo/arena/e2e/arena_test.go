package e2e

import (
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gonetic/gonetic/demo/internal/proctest"
)

// TestServerAndHeadless: a server with bots and three headless clients in
// one process play for a few seconds over each transport; the clients
// report snapshots at about the tick rate and leave; the server stops
// gracefully.
func TestServerAndHeadless(t *testing.T) {
	for _, tr := range []string{"tcp", "enet"} {
		t.Run(tr, func(t *testing.T) {
			srv, addr := startServer(t, "-transport", tr, "-bots", "5", "-status", "1s")
			h := proctest.Start(t, "headless", programs.Build(t, "headless"), "-addr", addr, "-transport", tr, "-clients", "3", "-d", "4s")
			for _, n := range []string{"headless1", "headless2", "headless3"} {
				h.ExpectAny(n + ": joined " + addr + " as player ")
			}
			line := h.Expect(" snapshots/s, delay ")
			if strings.Contains(line, " 0 snapshots/s") {
				t.Errorf("no snapshots: %q", line)
			}
			h.Expect("headless: 3 clients played ")
			h.Wait()
			srv.Expect("arena server: tick ")
			srv.Signal(syscall.SIGTERM)
			srv.Expect("arena server stopped")
			srv.Wait()
		})
	}
}

// The window client's default size, which the screenshot must have.
const windowW, windowH = 960, 600

// TestWindowClient: the window client joins a server with bots, plays
// (its AI does: -bot) and writes a screenshot once the round trip is
// measured and three other players are on screen; the screenshot has the
// window's size and shows the arena's floor, the local player and the
// others. With ARENA_SCREENSHOT=path it is copied there (docs/arena.png).
func TestWindowClient(t *testing.T) {
	xvfb := proctest.XvfbRun(t)
	srv, addr := startServer(t, "-bots", "80")
	shot := filepath.Join(t.TempDir(), "arena.png")
	win := proctest.Start(t, "window", xvfb, "-a", "-s", "-screen 0 1280x800x24", programs.Build(t, "window"),
		"-addr", addr, "-name", "wendy", "-bot", "-screenshot", shot, "-frames", "150", "-timeout", "90s", "-stats")
	win.Expect("window: joined " + addr + " as wendy")
	line := win.ExpectWithin("window: screenshot written to "+shot+" (960x600); wendy: at ", 100*time.Second) // its -timeout is 90 s
	t.Log(line)
	t.Log(win.Expect("window: Game.Update over "))
	win.Wait()
	checkScreenshot(t, shot)
	if dst := os.Getenv("ARENA_SCREENSHOT"); dst != "" {
		b, _ := os.ReadFile(shot)
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Error(err)
		}
	}
	srv.Signal(syscall.SIGTERM)
	srv.Wait()
}

// The colours the window draws with (window/game.go).
var (
	colFloor = color.RGBA{0x1f, 0x2a, 0x24, 0xff}
	colMe    = color.RGBA{0x4d, 0xa6, 0xff, 0xff}
	colBot   = color.RGBA{0xb8, 0xc4, 0xcc, 0xff}
	colOther = color.RGBA{0xf0, 0xd0, 0x60, 0xff} // a player not (yet) known as a bot
	colIt    = color.RGBA{0xff, 0x4d, 0x4d, 0xff}
)

// checkScreenshot checks the PNG's size and that it shows the arena: the
// floor over much of it, the local player's disc, other players' discs
// (bots, or "it"), and text (many colours, antialiased).
func checkScreenshot(t *testing.T, name string) {
	t.Helper()
	img := proctest.Screenshot(t, name, windowW, windowH)
	b := img.Bounds()
	count := map[color.RGBA]int{}
	colors := map[color.RGBA]bool{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := rgba(img, x, y)
			colors[c] = true
			count[c]++
		}
	}
	// A bot whose roster entry has not come yet is drawn as a player.
	floor, me, others := count[colFloor], count[colMe]+count[colIt], count[colBot]+count[colOther]+count[colIt]
	t.Logf("screenshot: %d colours; floor %d px, local player %d px, others %d px", len(colors), floor, me, others)
	if floor < windowW*windowH/4 {
		t.Errorf("the arena's floor covers %d pixels: not drawn?", floor)
	}
	const disc = 1000 // a player's disc is π·24² ≈ 1800 pixels
	if me < disc {
		t.Errorf("the local player's disc has %d pixels", me)
	}
	if others < 2*disc {
		t.Errorf("the other players' discs have %d pixels: fewer than two on screen?", others)
	}
	if len(colors) < 32 {
		t.Errorf("%d colours: no text?", len(colors))
	}
}

func rgba(img image.Image, x, y int) color.RGBA {
	r, g, b, a := img.At(x, y).RGBA()
	return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}
}

// TestLauncherWithoutDisplay runs the README's command without a display:
// it builds everything, chooses the headless client and says so, and
// stops the server when the client is done.
func TestLauncherWithoutDisplay(t *testing.T) {
	env := proctest.LauncherEnv(t, false)
	l := proctest.StartEnv(t, "launcher", env, programs.Build(t, "arena"), "-name", "tester", "-bots", "3", "--", "-d", "3s")
	l.Expect("arena: no display ($DISPLAY and $WAYLAND_DISPLAY are empty): starting the headless client")
	l.Expect("arena: server listening on 127.0.0.1:")
	l.Expect("tester: joined 127.0.0.1:")
	l.Expect("tester: at (")
	l.Expect("headless: 1 clients played ")
	l.Expect("arena: the logs stay in ")
	l.Wait()
}

// TestLauncherSimulated runs `make arena ARENA_ARGS='-sim
// "lag=20ms,loss=2%"'` without a display: loss picks ENet, the server
// plays under the conditions and the launcher says which, and the
// headless client plays through them.
func TestLauncherSimulated(t *testing.T) {
	env := proctest.LauncherEnv(t, false)
	l := proctest.StartEnv(t, "launcher", env, programs.Build(t, "arena"), "-name", "tester", "-bots", "3", "-sim", "lag=20ms,loss=2%", "--", "-d", "4s")
	l.Expect("arena: -sim lag=20ms,loss=2%: a TCP stream never loses, duplicates or reorders bytes, so the demo runs over ENet")
	l.Expect("arena: the server plays under a simulated network, which every client feels both ways: lag=20ms,loss=2% (seed ")
	l.Expect("tester: joined 127.0.0.1:")
	l.Expect("tester: at (")
	l.Expect("headless: 1 clients played ")
	l.Wait()
}
