package transporttest

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"
)

// timeout bounds every wait: generous, so a loaded machine does not flake.
const timeout = 10 * time.Second

// recorder is a Sink that records what arrives and checks the Sink contract:
// calls never overlap, Closed comes once, nothing follows it.
type recorder struct {
	changed chan struct{} // one slot: something was recorded
	gate    chan struct{} // when set, Receive blocks until it is closed
	blocked chan struct{} // closed when Receive first blocks on gate
	keep    bool          // keep copies of the payloads

	// check, when set, vets each payload; i counts from 0.
	check func(i int, ch uint8, p []byte) error

	mu        sync.Mutex // guards the fields below
	inCall    bool
	payloads  [][]byte
	channels  []uint8
	count     int
	bytes     int
	closed    bool
	err       error
	atClose   int   // count when Closed came
	violation error // first breach of the Sink contract or of check
	blockOnce sync.Once
}

func newRecorder() *recorder {
	return &recorder{changed: make(chan struct{}, 1), keep: true}
}

// gated returns a recorder whose Receive blocks until release is called.
func gated() (r *recorder, release func()) {
	r = newRecorder()
	r.gate = make(chan struct{})
	r.blocked = make(chan struct{})
	var once sync.Once
	return r, func() { once.Do(func() { close(r.gate) }) }
}

func (r *recorder) enter(what string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.inCall {
		r.fail(fmt.Errorf("%s overlaps another Sink call", what))
	}
	if r.closed {
		r.fail(fmt.Errorf("%s after Closed", what))
	}
	r.inCall = true
}

func (r *recorder) fail(err error) {
	if r.violation == nil {
		r.violation = err
	}
}

func (r *recorder) Receive(ch uint8, p []byte) {
	r.enter("Receive")
	if r.gate != nil {
		select {
		case <-r.gate:
		default:
			r.blockOnce.Do(func() { close(r.blocked) })
			<-r.gate
		}
	}
	r.mu.Lock()
	if r.check != nil {
		if err := r.check(r.count, ch, p); err != nil {
			r.fail(fmt.Errorf("payload %d: %w", r.count, err))
		}
	}
	if r.keep {
		r.payloads = append(r.payloads, bytes.Clone(p))
		r.channels = append(r.channels, ch)
	}
	r.count++
	r.bytes += len(p)
	r.inCall = false
	r.mu.Unlock()
	r.notify()
}

func (r *recorder) Closed(err error) {
	r.enter("Closed")
	r.mu.Lock()
	r.closed, r.err, r.atClose = true, err, r.count
	r.inCall = false
	r.mu.Unlock()
	r.notify()
}

func (r *recorder) notify() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// wait blocks until cond, read under the lock, holds; it fails the test
// after the timeout.
func (r *recorder) wait(t testing.TB, what string, cond func() bool) {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		r.mu.Lock()
		ok := cond()
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.changed:
		case <-timer.C:
			r.mu.Lock()
			n, closed, err := r.count, r.closed, r.err
			r.mu.Unlock()
			t.Fatalf("timed out after %v waiting for %s (received %d, closed %v, err %v)", timeout, what, n, closed, err)
		}
	}
}

// waitCount waits for n payloads.
func (r *recorder) waitCount(t testing.TB, n int) {
	t.Helper()
	r.wait(t, fmt.Sprintf("%d payloads", n), func() bool { return r.count >= n })
}

// waitClosed waits for Closed and returns its error.
func (r *recorder) waitClosed(t testing.TB) error {
	t.Helper()
	r.wait(t, "Closed", func() bool { return r.closed })
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

func (r *recorder) snapshot() (count int, closed bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.count, r.closed, r.err
}

func (r *recorder) payload(i int) (uint8, []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.channels[i], r.payloads[i]
}

// verify reports any breach of the Sink contract seen so far.
func (r *recorder) verify(t testing.TB, who string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.violation != nil {
		t.Errorf("%s sink: %v", who, r.violation)
	}
}

// waitBlocked waits until a gated recorder's Receive is blocked.
func waitBlocked(t testing.TB, r *recorder) {
	t.Helper()
	select {
	case <-r.blocked:
	case <-time.After(timeout):
		t.Fatalf("the Sink was not called within %v", timeout)
	}
}
