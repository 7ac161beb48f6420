// Package headless starts a headless Chromium for the tests that run
// gonetic's browser builds (GOOS=js GOARCH=wasm) in a real browser,
// driven by github.com/chromedp/chromedp.
//
// CI installs Debian's chromium (make test), so a test that needs the
// browser fails when it is missing, rather than passing without running;
// under -short it is skipped, as every test that builds a wasm binary is.
package headless

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"
)

// EnvBrowser names the environment variable that, when set, is the path
// of the Chromium or Chrome binary to run, instead of the first of
// Candidates found on the PATH.
const EnvBrowser = "GONETIC_CHROMIUM"

// Candidates are the names of the browser binary looked up on the PATH,
// in order: Debian's chromium first.
var Candidates = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"}

// ErrNoBrowser is Find's error when no browser is installed.
var ErrNoBrowser = errors.New("headless: no Chromium found: install Debian's chromium (apt-get install chromium, which make test does), or set " + EnvBrowser + " to a Chromium or Chrome binary")

// Find returns the path of the browser to run: $GONETIC_CHROMIUM if set,
// else the first of Candidates on the PATH, else ErrNoBrowser.
func Find() (string, error) {
	if p := os.Getenv(EnvBrowser); p != "" {
		path, err := exec.LookPath(p)
		if err != nil {
			return "", fmt.Errorf("headless: %s=%q is not a browser to run: %w", EnvBrowser, p, err)
		}
		return path, nil
	}
	for _, name := range Candidates {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoBrowser
}

// Options are the exec allocator options for the browser at path:
// chromedp's defaults (headless, no first-run or background activity, no
// /dev/shm, which containers keep small), no GPU, and no sandbox when
// running as root, where Chromium refuses to start with one (CI
// containers run as root).
func Options(path string) []chromedp.ExecAllocatorOption {
	opts := append([]chromedp.ExecAllocatorOption{}, chromedp.DefaultExecAllocatorOptions[:]...)
	opts = append(opts, chromedp.ExecPath(path), chromedp.DisableGPU)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	return opts
}

// Start starts a headless browser for tb and returns a chromedp context
// of a tab in it, derived from ctx; the browser ends with tb's cleanup.
// Under -short it skips tb; when no browser is installed it fails tb
// (see Find). Call it from the test's goroutine.
func Start(tb testing.TB, ctx context.Context) context.Context {
	tb.Helper()
	if testing.Short() {
		tb.Skip("runs a headless Chromium")
	}
	path, err := Find()
	if err != nil {
		tb.Fatal(err)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, Options(path)...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	tb.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	// Start the browser now, so that a browser that cannot start fails
	// here, with its error, rather than in the test's first action.
	if err := chromedp.Do(bctx); err != nil {
		tb.Fatalf("headless: starting %s: %v", path, err)
	}
	return bctx
}
