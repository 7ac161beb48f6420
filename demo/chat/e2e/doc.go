// Package e2e tests the chat demo's programs end to end: it builds the
// server, the terminal client, the window client and the launcher with
// go build, runs them as real processes on 127.0.0.1, drives the terminal
// clients through their stdin and checks what they print. The window
// client runs under xvfb-run (the tests that need it are skipped when
// xvfb-run is not on PATH).
//
// The browser client runs in headless Chromium, driven by chromedp
// (TestBrowserClient), which fails rather than skips when Chromium is
// missing.
//
// The tests synchronise on printed lines, never on sleeps; every wait has
// a 30 s deadline, but for the browser client's build (5 min) and its
// first join (90 s: fetching and compiling 25 MB of WebAssembly).
package e2e
