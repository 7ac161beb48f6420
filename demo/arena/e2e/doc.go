// Package e2e tests the arena demo's programs end to end: it builds the
// server, the headless client, the window client and the launcher with go
// build, runs them as real processes on 127.0.0.1 and checks what they
// print. The window client runs under xvfb-run (its test is skipped when
// xvfb-run is not on PATH) and writes a screenshot whose size and colours
// are checked.
//
// The tests synchronise on printed lines, never on sleeps; every wait has
// a 30 s deadline. The in-process end-to-end test that checks prediction
// and interpolation against the server's history is in package arena.
package e2e
