// Command window is the gonetic chat's Ebiten window client: the message
// history, a text input line, the users online, the connection state and
// the live round-trip time.
//
//	go run ./demo/chat/window -addr 127.0.0.1:7777 -nick ann
//
// Type and press Enter to say a line; /who, /nick NAME and /quit work as
// in the terminal client. PageUp, PageDown and the mouse wheel scroll the
// history. When the server goes away the window says so and reconnects
// with backoff. With -login URL it logs in at a server's login endpoint
// (a server started with -auth prints it) before each connection, and
// joins under its token's nickname, over a sealed (encrypted) connection.
//
// The game loop calls the chat Session's Update with a zero timeout inside
// Game.Update, so the network never blocks a frame; handlers run there, on
// the game's goroutine.
//
// For scripts and tests: -say sends a line once joined; -until waits for
// someone else's line containing some text; -screenshot writes a PNG once
// both happened (and at least -frames frames were drawn), then exits;
// -stats prints how long Game.Update took (p50, p99) on exit, and the
// round trip (the session's, sampled once a second). Every history line is
// also printed to stdout.
//
// It builds for the browser too (GOOS=js GOARCH=wasm): demo/chat/server
// -http serves it in a page. There its flags come from the page's query
// (?nick=ann&stats), it connects to the page's server over WebSocket
// (ws://host/ws), and stdout is the browser's console.
//
// This is the only package of gonetic that imports Ebiten; it has no tests
// of its own (they need a display): demo/chat/e2e runs the built binary
// under xvfb-run, and the WebAssembly build in headless Chromium.
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

	"github.com/gonetic/gonetic/demo/chat/chat"
	"github.com/gonetic/gonetic/demo/internal/cpuprofile"
	"github.com/gonetic/gonetic/demo/internal/transports"
)

func main() {
	exit(run(args()))
}

// options are the window client's flags.
type options struct {
	addr, nick, transport, codec string
	sim                          string
	say, until, screenshot       string
	frames                       int
	timeout                      time.Duration
	stats, echo                  bool
	cpuprofile                   string
	width, height                int
	login, password              string
}

func run(args []string) int {
	var o options
	fs := flag.NewFlagSet("window", flag.ContinueOnError)
	fs.StringVar(&o.addr, "addr", defaultAddr(), "server address, host:port (for websocket also a ws:// URL)")
	fs.StringVar(&o.nick, "nick", "", "nickname (default: $USER, or guest)")
	fs.StringVar(&o.transport, "transport", defaultTransport, "network adapter: tcp, enet or websocket (as the server)")
	fs.StringVar(&o.codec, "codec", "msgpack", "serialization adapter: msgpack or json (as the server)")
	fs.StringVar(&o.sim, "sim", "", transports.SimUsage)
	fs.StringVar(&o.say, "say", "", "say this once joined (scripted)")
	fs.StringVar(&o.until, "until", "", "with -screenshot: wait for someone else's line containing this text")
	fs.StringVar(&o.screenshot, "screenshot", "", "write a PNG of the window to this file once the script is done and the round trip is known, then exit")
	fs.IntVar(&o.frames, "frames", 0, "with -screenshot: draw at least this many frames first; without it: exit after this many frames")
	fs.DurationVar(&o.timeout, "timeout", 0, "exit with status 1 if the script is not done after this long (0: no limit)")
	fs.BoolVar(&o.stats, "stats", false, "print the p50/p99 of Game.Update's duration and of the round trip on exit")
	fs.BoolVar(&o.echo, "echo", true, "print every history line to stdout")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile to this file")
	fs.IntVar(&o.width, "width", 960, "window width")
	fs.IntVar(&o.height, "height", 600, "window height")
	fs.StringVar(&o.login, "login", "", "log in at this login endpoint (a server started with -auth prints it: http://HOST:PORT/login) before each connection")
	fs.StringVar(&o.password, "password", "", "with -login: the server's demo password, if it has one")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.nick == "" {
		o.nick = defaultNick()
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
	factory, err := chat.NewFactory(o.codec)
	if err != nil {
		fmt.Fprintln(os.Stderr, "window:", err)
		return 2
	}
	tr, simulator, err := transports.Open(o.transport, o.sim)
	if err != nil {
		fmt.Fprintln(os.Stderr, "window:", err)
		return 2
	}
	if simulator != nil {
		fmt.Println(transports.SimStarted(simulator))
	}

	// Ctrl-C or SIGTERM ends the game loop; the session then says goodbye.
	sigCtx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	g := newGame(o, src)
	g.stop = sigCtx.Done()
	// Printing could block on a slow reader; the game must not, so lines
	// go through a buffered channel to a printer goroutine.
	printed := make(chan struct{})
	go func() {
		defer close(printed)
		for s := range g.echo {
			fmt.Println(s)
		}
	}()
	g.sess, err = chat.NewSession(chat.SessionConfig{
		Addr:      o.addr,
		Nick:      o.nick,
		Factory:   factory,
		Transport: tr,
		Output:    g.addLine,
		Login:     login(o.login, o.password),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "window:", err)
		return 2
	}

	ebiten.SetWindowTitle("gonetic chat — " + o.nick)
	ebiten.SetWindowSize(o.width, o.height)
	ebiten.SetWindowResizingMode(ebiten.WindowResizingModeEnabled)
	ebiten.SetRunnableOnUnfocused(true)      // keep chatting in the background
	ebiten.SetScreenClearedEveryFrame(false) // Draw skips frames where nothing changed
	runErr := ebiten.RunGame(g)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	_ = g.sess.Close(ctx)
	cancel()
	close(g.echo)
	<-printed

	if o.stats {
		fmt.Println(g.stats.summary())
		if line := g.stats.rttSummary(); line != "" {
			fmt.Println(line)
		}
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

// script is the scripted part of a run: -say, -until, -screenshot,
// -frames and -timeout.
type script struct {
	said, echoed bool // -say was sent; it came back from the server
	heard        bool // a line containing -until arrived
	shoot        bool // Draw must write the screenshot now
	shot         bool // it did
	deadline     time.Time
}

// done reports whether the screenshot may be taken (or, without one,
// whether the run is over). The shot shows the round trip, so it waits for
// the connection's first measure.
func (g *game) scriptDone() bool {
	o := &g.opts
	if g.frames < o.frames {
		return false
	}
	if o.screenshot == "" {
		return o.frames > 0
	}
	return (o.say == "" || g.script.echoed) && (o.until == "" || g.script.heard) && g.sess.RTT() > 0
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

// updateStats keeps Game.Update's durations, and the round trip once a
// second.
type updateStats struct {
	d     []time.Duration
	rtt   []time.Duration
	rttAt time.Time // when the last round trip was taken
}

func (s *updateStats) add(d time.Duration) { s.d = append(s.d, d) }

// addRTT keeps rtt, the session's smoothed round trip, once a second.
func (s *updateStats) addRTT(now time.Time, rtt time.Duration) {
	if rtt > 0 && now.Sub(s.rttAt) >= time.Second {
		s.rtt, s.rttAt = append(s.rtt, rtt), now
	}
}

// summary is Game.Update's durations.
func (s *updateStats) summary() string {
	if len(s.d) == 0 {
		return "window: Game.Update: no frames"
	}
	return "window: Game.Update over " + percentiles(s.d, "frames")
}

// rttSummary is the round trip's samples, or "" without any.
func (s *updateStats) rttSummary() string {
	if len(s.rtt) == 0 {
		return ""
	}
	return "window: rtt over " + percentiles(s.rtt, "seconds")
}

// percentiles is "N unit: p50=… p99=… max=…" of d.
func percentiles(d []time.Duration, unit string) string {
	d = slices.Clone(d)
	slices.Sort(d)
	q := func(p float64) time.Duration { return d[min(len(d)-1, int(p*float64(len(d))))] }
	return fmt.Sprintf("%d %s: p50=%v p99=%v max=%v", len(d), unit, q(0.50), q(0.99), d[len(d)-1])
}

// login is the session's Login for -login, or nil.
func login(url, password string) func(ctx context.Context, nick string) ([]byte, error) {
	if url == "" {
		return nil
	}
	return func(ctx context.Context, nick string) ([]byte, error) {
		return chat.FetchToken(ctx, url, nick, password)
	}
}
