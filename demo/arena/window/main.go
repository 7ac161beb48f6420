// Command window is the arena's Ebiten client: the arena around your
// player (the camera follows it), every player as a circle, "it" in red,
// names and scores, and a heads-up display with the round trip, the server
// clock's offset, the snapshot rate, the interpolation delay and a live
// graph of latency and jitter over the last ten seconds.
//
//	go run ./demo/arena/window -addr 127.0.0.1:7778 -name ann
//
// Move with WASD or the arrow keys; touch another player while you are
// "it" to pass it on. Escape quits.
//
// Game.Update calls the arena Client's Frame, which calls Client.Update(0)
// (handlers run there: snapshots reach the Interpolator, acknowledgements
// the Predictor) and sends one input per 30 Hz tick (game.Schedule): the
// network never blocks a frame.
//
// For scripts and tests: -bot lets the arena's AI play; -screenshot
// writes a PNG after -frames frames once the round trip is measured and
// three other players are on screen, then exits (without -screenshot,
// -frames N exits after N frames); -timeout fails the run if that takes
// too long; -stats prints Game.Update's p50 and p99 on exit.
//
// This is the only package of the arena that imports Ebiten; demo/arena/e2e
// runs it under xvfb-run.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/examples/resources/fonts"
	"github.com/hajimehoshi/ebiten/v2/text/v2"

	"github.com/gonetic/gonetic/demo/arena/arena"
	"github.com/gonetic/gonetic/demo/internal/cpuprofile"
	"github.com/gonetic/gonetic/demo/internal/transports"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

type options struct {
	addr, name, transport, sim string
	screenshot, cpuprofile     string
	frames                     int
	timeout                    time.Duration
	bot, stats                 bool
	width, height              int
}

func run(args []string) int {
	var o options
	fs := flag.NewFlagSet("window", flag.ContinueOnError)
	fs.StringVar(&o.addr, "addr", arena.DefaultAddr, "server address, host:port")
	fs.StringVar(&o.name, "name", "", "player name (default: $USER, or player)")
	fs.StringVar(&o.transport, "transport", "tcp", transports.Usage+" (as the server)")
	fs.StringVar(&o.sim, "sim", "", transports.SimUsage)
	fs.BoolVar(&o.bot, "bot", false, "let the arena's AI play")
	fs.StringVar(&o.screenshot, "screenshot", "", "write a PNG of the window to this file after -frames frames, once the round trip is measured and three other players are on screen, then exit")
	fs.IntVar(&o.frames, "frames", 0, "with -screenshot: draw at least this many frames first; without it: exit after this many frames (0: never)")
	fs.DurationVar(&o.timeout, "timeout", 0, "exit with status 1 if the screenshot is not taken after this long (0: no limit)")
	fs.BoolVar(&o.stats, "stats", false, "print the p50/p99 of Game.Update's duration on exit")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile to this file")
	fs.IntVar(&o.width, "width", 960, "window width")
	fs.IntVar(&o.height, "height", 600, "window height")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.name == "" {
		o.name = arena.CleanName(os.Getenv("USER"))
	}
	stopProfile, err := cpuprofile.Start(o.cpuprofile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "window:", err)
		return 2
	}
	defer stopProfile()
	src, err := text.NewGoTextFaceSource(bytes.NewReader(fonts.MPlus1pRegular_ttf))
	if err != nil {
		fmt.Fprintln(os.Stderr, "window: font:", err)
		return 1
	}
	tr, simulator, err := transports.Open(o.transport, o.sim)
	if err != nil {
		fmt.Fprintln(os.Stderr, "window:", err)
		return 2
	}
	if simulator != nil {
		fmt.Println(transports.SimStarted(simulator))
	}
	sigCtx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cfg := arena.ClientConfig{Addr: o.addr, Name: o.name, Transport: tr}
	if o.bot {
		cfg.Bot = &arena.Bot{}
	}
	dctx, cancel := context.WithTimeout(sigCtx, 15*time.Second)
	c, err := arena.Dial(dctx, cfg)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "window: cannot join %s: %v\n", o.addr, err)
		return 1
	}
	fmt.Printf("window: joined %s as %s (player %d, %s)\n", o.addr, o.name, c.ID(), o.transport)

	g := newGame(o, c, src)
	g.stop = sigCtx.Done()
	if o.timeout > 0 {
		g.deadline = time.Now().Add(o.timeout)
	}
	ebiten.SetWindowTitle("gonetic arena — " + o.name)
	ebiten.SetWindowSize(o.width, o.height)
	ebiten.SetWindowResizingMode(ebiten.WindowResizingModeEnabled)
	ebiten.SetRunnableOnUnfocused(true)
	ebiten.SetTPS(arena.FrameRate)
	runErr := ebiten.RunGame(g)

	sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	_ = c.Close(sctx)
	cancel()
	if o.stats {
		fmt.Println(g.stats.summary())
	}
	switch {
	case runErr != nil && !errors.Is(runErr, ebiten.Termination):
		fmt.Fprintln(os.Stderr, "window: cannot run the window:", runErr)
		return 1
	case g.failure != "":
		fmt.Fprintln(os.Stderr, "window:", g.failure)
		return 1
	}
	return 0
}

// writePNG saves the screen's pixels.
func writePNG(name string, screen *ebiten.Image) error {
	img := image.NewRGBA(screen.Bounds())
	screen.ReadPixels(img.Pix)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	return os.WriteFile(name, buf.Bytes(), 0o644)
}

// updateStats keeps Game.Update's durations.
type updateStats struct {
	d               []time.Duration
	onScreen, drawn int // other players drawn inside the window, summed over the frames drawn
}

func (s *updateStats) add(d time.Duration) { s.d = append(s.d, d) }

func (s *updateStats) summary() string {
	if len(s.d) == 0 {
		return "window: Game.Update: no frames"
	}
	d := slices.Clone(s.d)
	slices.Sort(d)
	q := func(p float64) time.Duration { return d[min(len(d)-1, int(p*float64(len(d))))] }
	return fmt.Sprintf("window: Game.Update over %d frames: p50=%v p99=%v max=%v; %.1f other players on screen a frame",
		len(d), q(0.50), q(0.99), d[len(d)-1], float64(s.onScreen)/float64(max(1, s.drawn)))
}
