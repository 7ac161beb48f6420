// Package proctest is what the demos' end-to-end tests (demo/chat/e2e,
// demo/arena/e2e) share: it builds the demo's programs, runs them as real
// processes and waits for the lines they print. Only tests import it.
//
// Every wait is for a printed line or an exit, never a sleep, and gives
// up after Deadline.
package proctest
