package e2e

import (
	"context"
	"github.com/gonetic/gonetic/internal/headless"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	cbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/gonetic/gonetic/demo/internal/proctest"
)

// buildDeadline bounds the chat server's build of the browser client: a
// cold GOOS=js GOARCH=wasm build of Ebiten on a busy 2-core machine.
const buildDeadline = 5 * time.Minute

// hiddenFor is how long the page stays hidden: longer than
// the server's timeout (gnet.DefaultTimeout, 15 s), which drops a peer
// from which nothing was heard.
const hiddenFor = 18 * time.Second

// TestBrowserClient: the chat server with -http builds the window client
// for WebAssembly and serves it; headless Chromium opens the page; the
// browser client joins over WebSocket, types a line that a terminal
// client over TCP and another over WebSocket (same room, same server)
// receive, and shows the TCP terminal's reply. The page then spends longer than the server's timeout hidden
// (its window minimized), where requestAnimationFrame stops, and must
// still be connected when it comes back. A screenshot is checked; /quit ends it.
func TestBrowserClient(t *testing.T) {
	chromium, err := headless.Find() // fails, not skips, without it: make test installs it
	if err != nil {
		t.Fatal(err)
	}

	// The server builds into a cache directory of the test's own; Go's
	// build cache is the usual one, so later runs only link.
	gocache, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "XDG_CACHE_HOME="+t.TempDir(), "GOCACHE="+strings.TrimSpace(string(gocache)))
	srv := proctest.StartEnv(t, "server", env, programs.Build(t, "server"), "-addr", "127.0.0.1:0", "-http", "127.0.0.1:0")
	t.Log(srv.ExpectWithin("browser client built in ", buildDeadline))
	pageURL := strings.TrimPrefix(srv.Expect("browser chat: open "), "browser chat: open ")
	line := srv.Expect("chat server listening on ")
	addr, _, _ := strings.Cut(strings.TrimPrefix(line, "chat server listening on "), " ")

	tess := startTerm(t, addr, "tess")
	tess.Expect("*** joined as tess")
	// A native client may use the browser's way in too.
	wsURL := "ws://" + strings.TrimSuffix(strings.TrimPrefix(pageURL, "http://"), "/") + "/ws"
	wes := startTerm(t, wsURL, "wes", "-transport", "websocket")
	wes.Expect("*** joined as wes; online (2): tess, wes")

	b := startBrowser(t, chromium)
	if err := chromedp.Do(b.ctx, chromedp.EmulateViewport(windowW, windowH), chromedp.Navigate(pageURL+"?nick=bruno&stats")); err != nil {
		t.Fatalf("open %s: %v", pageURL, err)
	}
	// Fetching and compiling 25 MB of WebAssembly on a busy machine.
	b.ExpectWithin("*** joined as bruno; online (3): tess, wes, bruno", 3*proctest.Deadline)
	tess.Expect("*** bruno joined")

	// Real key events: Ebiten reads them from the page as from a user.
	b.Say("hello from the browser", "<bruno> hello from the browser")
	tess.Expect("<bruno> hello from the browser")
	wes.Expect("<bruno> hello from the browser")
	tess.Send("hello from the terminal")
	b.Expect("<tess> hello from the terminal")
	wes.Expect("<tess> hello from the terminal")
	t.Log(b.Say("/status", "online as bruno on ws://"))

	shot := filepath.Join(t.TempDir(), "chat-browser.png")
	if err := os.WriteFile(shot, b.Screenshot(), 0o644); err != nil {
		t.Fatal(err)
	}
	checkScreenshot(t, shot)
	if dst := os.Getenv("CHAT_BROWSER_SCREENSHOT"); dst != "" { // to refresh docs/chat-browser.png
		b, _ := os.ReadFile(shot)
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Error(err)
		}
	}

	// The window minimized: the page is hidden and its animation frames
	// stop, so Game.Update, and with it Client.Update, stalls; the
	// adapter must still answer the server's pings.
	frames := b.HideFor(hiddenFor)
	t.Logf("while hidden for %v, the page drew %d animation frames", hiddenFor, frames)
	tess.Send("are you still there?")
	b.Expect("<tess> are you still there?")
	b.Say("yes, still here", "<bruno> yes, still here")
	tess.Expect("<bruno> yes, still here")
	if tess.Count("bruno left") != 0 || b.Count("disconnected") != 0 {
		t.Fatalf("the browser client was dropped while hidden")
	}

	// CHAT_BROWSER_MEASURE=60s keeps the page open that long first, for
	// the round trip's figures (docs/PERF.md), beside the terminal's.
	if d, err := time.ParseDuration(os.Getenv("CHAT_BROWSER_MEASURE")); err == nil {
		time.Sleep(d) // the measure's length, not a synchronisation
		t.Log("terminal: " + waitRTT(t, tess, "*** online as tess"))
	}
	t.Log(b.Say("/quit", "window: Game.Update over "))
	tess.Expect("*** bruno left (quit)")
	t.Log(b.Expect("window: rtt over "))
	b.Expect("window: the chat client ended (status 0)")
	if n := b.Count("exception: "); n != 0 {
		t.Errorf("the page threw %d exceptions", n)
	}

	wes.Expect("*** bruno left (quit)")
	wes.Send("/quit")
	wes.Wait()
	tess.Send("/quit")
	tess.Wait()
	srv.Signal(syscall.SIGTERM)
	srv.Wait()
}

// browser is one headless Chromium tab, with the console lines the page
// printed (the window client echoes its history there).
type browser struct {
	t   *testing.T
	ctx context.Context // the tab's

	mu      sync.Mutex // guards lines
	changed *sync.Cond
	lines   []string
	pos     int // Expect's cursor; only the test goroutine uses it
}

// startBrowser starts headless Chromium with WebGL on the CPU
// (SwiftShader), for Ebiten, and a window the window client's size. It
// leaves out chromedp's defaults that keep background tabs running at full
// speed: the hidden tab must be throttled as a user's is.
func startBrowser(t *testing.T, chromium string) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Headless,
		chromedp.WindowSize(windowW, windowH),
		chromedp.Flag("use-angle", "swiftshader"),
		chromedp.Flag("enable-unsafe-swiftshader", true),
		chromedp.Flag("ignore-gpu-blocklist", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("mute-audio", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses root otherwise
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	b := &browser{t: t, ctx: ctx}
	b.changed = sync.NewCond(&b.mu)
	// The first Run starts Chromium and opens the tab.
	if _, err := chromedp.Run(ctx, chromedp.Func(func(context.Context, *chromedp.Target) error { return nil })); err != nil {
		cancelTab()
		cancelAlloc()
		t.Fatalf("start %s: %v", chromium, err)
	}
	// Subscribed before the page loads, so that no line is lost.
	console := chromedp.Console(ctx)
	read := make(chan struct{})
	go func() {
		defer close(read)
		for m, err := range console {
			if err != nil {
				return
			}
			line := m.Text
			if m.IsException() {
				line = "exception: " + m.Text
			}
			b.mu.Lock()
			b.lines = append(b.lines, line)
			b.changed.Broadcast()
			b.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // stops Chromium and waits for it
		<-read
		if t.Failed() {
			b.mu.Lock()
			t.Logf("--- browser console:\n%s", strings.Join(b.lines, "\n"))
			b.mu.Unlock()
		}
	})
	return b
}

// Expect waits for a console line, after the last one Expect matched,
// that contains s, and returns it.
func (b *browser) Expect(s string) string {
	b.t.Helper()
	return b.ExpectWithin(s, proctest.Deadline)
}

// ExpectWithin is Expect with another limit than proctest.Deadline.
func (b *browser) ExpectWithin(s string, limit time.Duration) string {
	b.t.Helper()
	end := time.Now().Add(limit)
	timer := time.AfterFunc(limit, func() {
		b.mu.Lock()
		b.changed.Broadcast()
		b.mu.Unlock()
	})
	defer timer.Stop()
	b.mu.Lock()
	defer b.mu.Unlock()
	for {
		for i := b.pos; i < len(b.lines); i++ {
			if strings.Contains(b.lines[i], s) {
				b.pos = i + 1
				return b.lines[i]
			}
		}
		if time.Now().After(end) {
			b.t.Fatalf("the browser's console has no line containing %q within %v", s, limit)
		}
		b.changed.Wait()
	}
}

// Count is the number of console lines so far that contain s.
func (b *browser) Count(s string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, l := range b.lines {
		if strings.Contains(l, s) {
			n++
		}
	}
	return n
}

// Say types line into the page as a user does, and presses Enter until
// the console shows a line containing seen: Ebiten sees Enter only if one
// of its ticks runs while the key is down, and ticks are slow and
// irregular in a software-rendered browser on a busy machine. It returns
// the line seen.
func (b *browser) Say(line, seen string) string {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.KeyEvent(line)); err != nil {
		b.t.Fatalf("type %q: %v", line, err)
	}
	events := kb.Encode('\r')
	b.key(events[0]) // down
	got := b.Expect(seen)
	b.key(events[len(events)-1]) // up
	// The next Enter must find the key up at a tick, or Ebiten sees one
	// long press: let a few frames, and so ticks, go by.
	const frames = `new Promise(done => { let n = 0; (function f() { if (++n > 5) done(true); else requestAnimationFrame(f); })(); })`
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](frames, chromedp.EvalAwaitPromise)); err != nil {
		b.t.Fatalf("wait for frames: %v", err)
	}
	return got
}

func (b *browser) key(ev *input.DispatchKeyEventParams) {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, input.DispatchKeyEvent, *ev); err != nil {
		b.t.Fatalf("key %s %s: %v", ev.Type, ev.Key, err)
	}
}

// Screenshot returns a PNG of the page.
func (b *browser) Screenshot() []byte {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	return png
}

// HideFor minimizes the browser's window for d, as a user who switches to
// another program does, checks that the page was hidden meanwhile, brings
// the window back, and returns how many animation frames the page got
// while hidden. (Another tab in front hides nothing in headless Chromium:
// every tab stays "visible" there.)
func (b *browser) HideFor(d time.Duration) int {
	b.t.Helper()
	const countFrames = `window.__frames = 0; (function tick() { window.__frames++; requestAnimationFrame(tick); })(); true`
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](countFrames)); err != nil {
		b.t.Fatal(err)
	}
	id := chromedp.FromContext(b.ctx).Target.TargetID
	win, err := chromedp.CallBrowser(b.ctx, cbrowser.GetWindowForTarget, cbrowser.GetWindowForTargetParams{TargetID: id})
	if err != nil {
		b.t.Fatalf("the page's window: %v", err)
	}
	setState := func(s cbrowser.WindowState) {
		b.t.Helper()
		_, err := chromedp.CallBrowser(b.ctx, cbrowser.SetWindowBounds, cbrowser.SetWindowBoundsParams{WindowID: win.WindowID, Bounds: &cbrowser.Bounds{WindowState: s}})
		if err != nil {
			b.t.Fatalf("window state %s: %v", s, err)
		}
	}
	setState(cbrowser.WindowStateMinimized)
	state, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.visibilityState`))
	if err != nil {
		b.t.Fatal(err)
	}
	if state != "hidden" {
		b.t.Fatalf("with the window minimized, the page's visibilityState is %q, want hidden", state)
	}
	before, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`window.__frames`))
	if err != nil {
		b.t.Fatal(err)
	}
	time.Sleep(d) // the scenario: a user away, not a synchronisation
	after, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`window.__frames`))
	if err != nil {
		b.t.Fatal(err)
	}
	setState(cbrowser.WindowStateNormal)
	return after - before
}

// TestBrowserClientAuth: with -auth and -http the page logs in on its own
// origin (the URL the server prints carries -login) and joins under its
// token's nickname; a terminal client logs in at the same endpoint.
func TestBrowserClientAuth(t *testing.T) {
	chromium, err := headless.Find()
	if err != nil {
		t.Fatal(err)
	}
	gocache, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "XDG_CACHE_HOME="+t.TempDir(), "GOCACHE="+strings.TrimSpace(string(gocache)))
	srv := proctest.StartEnv(t, "server", env, programs.Build(t, "server"),
		"-addr", "127.0.0.1:0", "-http", "127.0.0.1:0", "-auth", "-login", "127.0.0.1:0")
	t.Log(srv.ExpectWithin("browser client built in ", buildDeadline))
	pageURL := strings.TrimPrefix(srv.Expect("browser chat: open "), "browser chat: open ")
	if !strings.Contains(pageURL, "?login=") {
		t.Fatalf("the page's URL %q does not carry the login endpoint", pageURL)
	}
	line := srv.Expect("chat server listening on ")
	addr, _, _ := strings.Cut(strings.TrimPrefix(line, "chat server listening on "), " ")
	login, _ := url.QueryUnescape(pageURL[strings.Index(pageURL, "?login=")+len("?login="):])

	tess := startTerm(t, addr, "tess", "-login", login)
	tess.Expect("*** connected to " + addr + ", sealed: encrypted and authenticated")
	tess.Expect("*** joined as tess")

	b := startBrowser(t, chromium)
	if err := chromedp.Do(b.ctx, chromedp.EmulateViewport(windowW, windowH), chromedp.Navigate(pageURL+"&nick=bruno")); err != nil {
		t.Fatalf("open %s: %v", pageURL, err)
	}
	b.ExpectWithin(", sealed: encrypted and authenticated", 3*proctest.Deadline)
	b.Expect("*** joined as bruno; online (2): tess, bruno")
	tess.Expect("*** bruno joined")
	b.Say("logged in from the browser", "<bruno> logged in from the browser")
	tess.Expect("<bruno> logged in from the browser")

	b.Say("/quit", "window: the chat client ended (status 0)")
	tess.Expect("*** bruno left (quit)")
	tess.Send("/quit")
	tess.Wait()
	srv.Signal(syscall.SIGTERM)
	srv.Wait()
}
