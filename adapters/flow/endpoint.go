package flow

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/s2"
)

// endpoint is what a Server, a Client and a Station share: configuration,
// handlers, the count of running flows, the compressors, and every
// goroutine this package starts for them.
type endpoint struct {
	cfg  Config
	comp compressors
	pool bufPool
	ctx  context.Context // parent of handler flows' contexts; cancelled by close
	stop context.CancelFunc
	wg   sync.WaitGroup // every goroutine started through spawn

	// hookStall, for tests, is called when a sender with a full chunk
	// waits for credit.
	hookStall atomic.Pointer[func()]
	// hookOpened, for tests, is called for each flow_open received, on the
	// carrier's goroutine, in order.
	hookOpened atomic.Pointer[func(name string)]

	mu       sync.Mutex // guards the fields below
	handlers map[string]func(*Flow, *Reply) Handler
	running  int           // handler flows admitted and not yet over
	closed   bool          // no more goroutines, no more flows
	draining bool          // Shutdown: new flows are refused
	idle     chan struct{} // closed when running reaches 0 while draining
}

func newEndpoint(cfg Config) *endpoint {
	ctx, stop := context.WithCancel(context.Background())
	ep := &endpoint{cfg: cfg, ctx: ctx, stop: stop, handlers: make(map[string]func(*Flow, *Reply) Handler)}
	// Room for a full chunk, its header, and what S2 may make of it.
	ep.pool.size = headroom + s2.MaxEncodedLen(cfg.ChunkSize+maxRecordHeader)
	// A flow's window of chunks in flight each way, and some to spare.
	ep.pool.max = 2*cfg.Window/cfg.ChunkSize + 8
	return ep
}

// spawn runs fn on a new goroutine that close waits for. It returns false,
// without running fn, once the endpoint is closed.
func (ep *endpoint) spawn(fn func()) bool {
	ep.mu.Lock()
	if ep.closed {
		ep.mu.Unlock()
		return false
	}
	ep.wg.Add(1)
	ep.mu.Unlock()
	go func() {
		defer ep.wg.Done()
		fn()
	}()
	return true
}

func (ep *endpoint) handle(name string, nh func(*Flow, *Reply) Handler) error {
	if nh == nil {
		return fmt.Errorf("flow: nil handler for %q", name)
	}
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if _, dup := ep.handlers[name]; dup {
		return fmt.Errorf("flow: a handler is already registered as %q", name)
	}
	ep.handlers[name] = nh
	return nil
}

// admit decides on a flow the peer opens: it returns the handler's
// constructor, or the code and text of the refusal. An admitted flow holds
// a slot and a goroutine count until release.
func (ep *endpoint) admit(name string) (func(*Flow, *Reply) Handler, Code, string) {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	switch {
	case ep.closed || ep.draining:
		return nil, CodeClosing, "the server is shutting down"
	case ep.handlers[name] == nil:
		return nil, CodeNoHandler, fmt.Sprintf("no handler is registered as %q", name)
	case ep.running >= ep.cfg.MaxFlows:
		return nil, CodeTooManyFlows, fmt.Sprintf("the server already runs %d flows, its limit (Config.MaxFlows)", ep.running)
	}
	ep.running++
	ep.wg.Add(1)
	return ep.handlers[name], 0, ""
}

// release gives back what admit took; the goroutine that admit counted
// calls it as it ends.
func (ep *endpoint) release() {
	ep.mu.Lock()
	ep.running--
	if ep.running == 0 && ep.idle != nil {
		close(ep.idle)
		ep.idle = nil
	}
	ep.mu.Unlock()
	ep.wg.Done()
}

// drain refuses new flows from now on and returns a channel closed once
// no handler flow runs.
func (ep *endpoint) drain() <-chan struct{} {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	ep.draining = true
	ch := make(chan struct{})
	if ep.running == 0 {
		close(ch)
	} else if ep.idle != nil {
		ch = ep.idle
	} else {
		ep.idle = ch
	}
	return ch
}

// shut marks the endpoint closed: no flow is admitted and no goroutine
// started from now on. It reports whether this call did it.
func (ep *endpoint) shut() bool {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if ep.closed {
		return false
	}
	ep.closed = true
	ep.stop()
	return true
}

// wait waits for every goroutine, then releases the compressors.
func (ep *endpoint) wait() {
	ep.wg.Wait()
	ep.comp.close()
}
