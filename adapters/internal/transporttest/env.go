package transporttest

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gonetic/gonetic/net/transport"
)

// peer is one end of a link and the Sink that records what it receives.
type peer struct {
	link transport.Link
	rec  *recorder
}

// env is a listener plus the links dialed to it during one test. Cleanup
// aborts the dialed links, closes the listener and checks the Sinks.
type env struct {
	t        *testing.T
	tr       transport.Transport
	ln       transport.Listener
	cfg      transport.Config
	accepted chan peer
	clients  []peer
	servers  []peer

	// The network does not order the test's writes before the Accept's
	// reads for the race detector: set these with setSink and setRefuse.
	mu      sync.Mutex
	sinkFor func() *recorder // makes the next accepted link's Sink; newRecorder if nil
	refuse  func() bool      // when it returns true, the Accept refuses the link
}

func (e *env) setSink(f func() *recorder) {
	e.mu.Lock()
	e.sinkFor = f
	e.mu.Unlock()
}

func (e *env) setRefuse(f func() bool) {
	e.mu.Lock()
	e.refuse = f
	e.mu.Unlock()
}

// start checks for goroutine leaks, makes a transport and listens on addr.
func start(t *testing.T, newTransport func(t *testing.T) transport.Transport, addr string, cfg transport.Config) *env {
	t.Helper()
	checkLeaks(t)
	e := &env{t: t, tr: newTransport(t), cfg: cfg, accepted: make(chan peer, 64)}
	ln, err := e.tr.Listen(addr, cfg, e.accept)
	if err != nil {
		t.Fatalf("Listen(%q): %v", addr, err)
	}
	e.ln = ln
	t.Cleanup(e.cleanup)
	return e
}

func (e *env) accept(l transport.Link) transport.Sink {
	e.mu.Lock()
	refuse, sinkFor := e.refuse, e.sinkFor
	e.mu.Unlock()
	if refuse != nil && refuse() {
		return nil
	}
	rec := newRecorder()
	if sinkFor != nil {
		rec = sinkFor()
	}
	e.accepted <- peer{l, rec}
	return rec
}

// dial connects a new client with a fresh recorder and returns both ends.
func (e *env) dial() (client, server peer) {
	e.t.Helper()
	return e.dialWith(newRecorder())
}

func (e *env) dialWith(rec *recorder) (client, server peer) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	l, err := e.tr.Dial(ctx, e.ln.Addr(), e.cfg, rec)
	if err != nil {
		e.t.Fatalf("Dial(%q): %v", e.ln.Addr(), err)
	}
	client = peer{l, rec}
	e.clients = append(e.clients, client)
	select {
	case server = <-e.accepted:
	case <-time.After(timeout):
		e.t.Fatalf("no link accepted within %v", timeout)
	}
	e.servers = append(e.servers, server)
	return client, server
}

func (e *env) cleanup() {
	for _, c := range e.clients {
		c.link.Abort()
	}
	for _, c := range e.clients {
		c.rec.waitClosed(e.t)
	}
	closeWithin(e.t, e.ln)
	for _, s := range e.servers {
		if _, closed, _ := s.rec.snapshot(); !closed {
			e.t.Errorf("an accepted link's Sink got no Closed after Listener.Close returned")
		}
		s.rec.verify(e.t, "server")
	}
	for _, c := range e.clients {
		c.rec.verify(e.t, "client")
	}
}

// closeWithin closes the listener, failing the test if Close does not
// return within the timeout.
func closeWithin(t testing.TB, ln transport.Listener) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- ln.Close() }()
	select {
	case <-done:
	case <-time.After(timeout):
		t.Fatalf("Listener.Close did not return within %v", timeout)
	}
}

// returnsWithin fails the test if f does not return within the timeout.
func returnsWithin(t testing.TB, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { f(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
		t.Fatalf("%s did not return within %v", what, timeout)
	}
}

// checkLeaks fails the test if, once its cleanups have run, more goroutines
// are left than when it started. Register it first so it runs last.
func checkLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(timeout)
		for {
			n := runtime.NumGoroutine()
			if n <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("goroutine leak: %d goroutines before, %d after\n%s", before, n, buf)
				return
			}
			time.Sleep(5 * time.Millisecond) // polling the count is the only way
		}
	})
}
