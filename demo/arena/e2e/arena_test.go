package e2e

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestServerAndHeadless: a server with bots and three headless clients in
// one process play for a few seconds over each transport; the clients
// report snapshots at about the tick rate and leave; the server stops
// gracefully.
func TestServerAndHeadless(t *testing.T) {
	for _, tr := range []string{"tcp", "enet"} {
		t.Run(tr, func(t *testing.T) {
			srv, addr := startServer(t, "-transport", tr, "-bots", "5", "-status", "1s")
			h := start(t, "headless", program(t, "headless"), "-addr", addr, "-transport", tr, "-clients", "3", "-d", "4s")
			for _, n := range []string{"headless1", "headless2", "headless3"} {
				h.expectAny(n + ": joined " + addr + " as player ")
			}
			line := h.expect(" snapshots/s, delay ")
			if strings.Contains(line, " 0 snapshots/s") {
				t.Errorf("no snapshots: %q", line)
			}
			h.expect("headless: 3 clients played ")
			h.wait()
			srv.expect("arena server: tick ")
			srv.signal(syscall.SIGTERM)
			srv.expect("arena server stopped")
			srv.wait()
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
	xvfb, err := exec.LookPath("xvfb-run")
	if err != nil {
		t.Skip("xvfb-run is not on PATH: install xvfb (apt-get install xvfb xauth) to test the window client")
	}
	srv, addr := startServer(t, "-bots", "80")
	shot := filepath.Join(t.TempDir(), "arena.png")
	win := start(t, "window", xvfb, "-a", "-s", "-screen 0 1280x800x24", program(t, "window"),
		"-addr", addr, "-name", "wendy", "-bot", "-screenshot", shot, "-frames", "150", "-timeout", "90s", "-stats")
	win.expect("window: joined " + addr + " as wendy")
	line := win.expect("window: screenshot written to " + shot + " (960x600); wendy: at ")
	t.Log(line)
	t.Log(win.expect("window: Game.Update over "))
	win.wait()
	checkScreenshot(t, shot)
	if dst := os.Getenv("ARENA_SCREENSHOT"); dst != "" {
		b, _ := os.ReadFile(shot)
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Error(err)
		}
	}
	srv.signal(syscall.SIGTERM)
	srv.wait()
}

// The colours the window draws with (window/game.go).
var (
	colFloor = color.RGBA{0x1f, 0x2a, 0x24, 0xff}
	colMe    = color.RGBA{0x4d, 0xa6, 0xff, 0xff}
	colBot   = color.RGBA{0xb8, 0xc4, 0xcc, 0xff}
	colIt    = color.RGBA{0xff, 0x4d, 0x4d, 0xff}
)

// checkScreenshot checks the PNG's size and that it shows the arena: the
// floor over much of it, the local player's disc, other players' discs
// (bots, or "it"), and text (many colours, antialiased).
func checkScreenshot(t *testing.T, name string) {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	b := img.Bounds()
	if b.Dx() != windowW || b.Dy() != windowH {
		t.Fatalf("screenshot is %dx%d, want %dx%d", b.Dx(), b.Dy(), windowW, windowH)
	}
	count := map[color.RGBA]int{}
	colors := map[color.RGBA]bool{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := rgba(img, x, y)
			colors[c] = true
			count[c]++
		}
	}
	floor, me, others := count[colFloor], count[colMe]+count[colIt], count[colBot]+count[colIt]
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
	env := noDisplay(t)
	l := startEnv(t, "launcher", env, program(t, "arena"), "-name", "tester", "-bots", "3", "--", "-d", "3s")
	l.expect("arena: no display ($DISPLAY and $WAYLAND_DISPLAY are empty): starting the headless client")
	l.expect("arena: server listening on 127.0.0.1:")
	l.expect("tester: joined 127.0.0.1:")
	l.expect("tester: at (")
	l.expect("headless: 1 clients played ")
	l.expect("arena: the logs stay in ")
	l.wait()
}

// TestLauncherSimulated runs `make arena ARENA_ARGS='-sim
// "lag=20ms,loss=2%"'` without a display: loss picks ENet, the server
// plays under the conditions and the launcher says which, and the
// headless client plays through them.
func TestLauncherSimulated(t *testing.T) {
	env := noDisplay(t)
	l := startEnv(t, "launcher", env, program(t, "arena"), "-name", "tester", "-bots", "3", "-sim", "lag=20ms,loss=2%", "--", "-d", "4s")
	l.expect("arena: -sim lag=20ms,loss=2%: a TCP stream never loses, duplicates or reorders bytes, so the demo runs over ENet")
	l.expect("arena: the server plays under a simulated network, which every client feels both ways: lag=20ms,loss=2% (seed ")
	l.expect("tester: joined 127.0.0.1:")
	l.expect("tester: at (")
	l.expect("headless: 1 clients played ")
	l.wait()
}

// noDisplay is this process's environment without a display, and with
// TMPDIR a test directory, where the launcher keeps its logs.
func noDisplay(t *testing.T) []string {
	env := []string{"TMPDIR=" + t.TempDir()}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TMPDIR=") && !strings.HasPrefix(kv, "DISPLAY=") && !strings.HasPrefix(kv, "WAYLAND_DISPLAY=") {
			env = append(env, kv)
		}
	}
	return env
}
