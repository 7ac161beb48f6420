package mem

import (
	"context"
	"errors"
	"fmt"
	stdnet "net"
	"strconv"
	"sync"

	"github.com/gonetic/gonetic/adapters/internal/wakeup"
	"github.com/gonetic/gonetic/net/transport"
)

// Errors of the in-memory adapter, besides the shared ones in package
// transport.
var (
	// ErrRefused is returned by Dial when nothing listens on the address.
	ErrRefused = errors.New("mem: connection refused: nothing listens on that address of this Network")
	// ErrReset is what a Sink's Closed reports when the peer aborted the
	// link (or closed it for a framing error).
	ErrReset = errors.New("mem: link reset by peer")
)

// firstPort is the first port Listen hands out for port 0, and the first
// port of dialing ends.
const firstPort = 49152

// Network is an in-process network: links dialed on it reach listeners on
// it, nothing else. It is a transport.Transport named "mem". The zero value
// is an empty network ready to use; a Network must not be copied after first
// use. Safe for concurrent use.
type Network struct {
	mu        sync.Mutex // guards listeners and lastPort
	listeners map[string]*listener
	lastPort  int
}

var _ transport.Transport = (*Network)(nil)

// Name returns "mem".
func (n *Network) Name() string { return "mem" }

// Listen binds addr on the network. addr is any string; when it has the
// form "host:0", the port is replaced by one not in use. Binding an address
// already bound is an error. accept is called on the listener's goroutine
// for every link dialed to the address.
func (n *Network) Listen(addr string, cfg transport.Config, accept transport.Accept) (transport.Listener, error) {
	if accept == nil {
		return nil, errors.New("mem: Listen needs a non-nil Accept")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.listeners == nil {
		n.listeners = make(map[string]*listener)
	}
	if host, port, err := stdnet.SplitHostPort(addr); err == nil && port == "0" {
		for {
			addr = stdnet.JoinHostPort(host, n.nextPort())
			if n.listeners[addr] == nil {
				break
			}
		}
	}
	if n.listeners[addr] != nil {
		return nil, fmt.Errorf("mem: listen %s: address already in use", addr)
	}
	l := &listener{
		net:    n,
		addr:   addr,
		cfg:    cfg.WithDefaults(),
		accept: accept,
		wake:   wakeup.New(),
		links:  make(map[*link]struct{}),
	}
	n.listeners[addr] = l
	l.wg.Add(1)
	go l.acceptLoop()
	return l, nil
}

// Dial connects to the listener bound to addr. It returns as soon as the
// link is queued for that listener's Accept, like a TCP connect; a refusal
// by the Accept reaches sink as Closed(io.EOF). ctx is checked once.
func (n *Network) Dial(ctx context.Context, addr string, cfg transport.Config, sink transport.Sink) (transport.Link, error) {
	if sink == nil {
		return nil, errors.New("mem: Dial needs a non-nil Sink")
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("mem: dial %s: %w", addr, err)
	}
	n.mu.Lock()
	l := n.listeners[addr]
	local := "mem:" + n.nextPort()
	n.mu.Unlock()
	if l == nil {
		return nil, fmt.Errorf("mem: dial %s: %w", addr, ErrRefused)
	}
	c, s := newPair(cfg.WithDefaults(), l.cfg, local, addr)
	if !l.enqueue(s) {
		return nil, fmt.Errorf("mem: dial %s: %w", addr, ErrRefused)
	}
	c.start(sink)
	return c, nil
}

// nextPort returns a port number never handed out before. n.mu must be held.
func (n *Network) nextPort() string {
	p := firstPort + n.lastPort
	n.lastPort++
	return strconv.Itoa(p)
}

func (n *Network) unbind(l *listener) {
	n.mu.Lock()
	if n.listeners[l.addr] == l {
		delete(n.listeners, l.addr)
	}
	n.mu.Unlock()
}

// listener hands dialed links to its Accept on its own goroutine.
type listener struct {
	net    *Network
	addr   string
	cfg    transport.Config
	accept transport.Accept
	wake   wakeup.Chan    // backlog grew or the listener closed
	wg     sync.WaitGroup // the accept loop and every accepted link

	mu      sync.Mutex // guards closed, backlog and links
	closed  bool
	backlog []*link // dialed, not yet given to accept
	links   map[*link]struct{}

	once sync.Once
}

// Addr is the bound address.
func (l *listener) Addr() string { return l.addr }

// Close unbinds the address, refuses links not yet accepted, closes every
// live link gracefully and waits for the goroutines of the listener and of
// its accepted links (so for their Sinks too). Idempotent.
func (l *listener) Close() error {
	l.once.Do(func() {
		l.net.unbind(l)
		l.mu.Lock()
		l.closed = true
		backlog := l.backlog
		l.backlog = nil
		live := make([]*link, 0, len(l.links))
		for k := range l.links {
			live = append(live, k)
		}
		l.mu.Unlock()
		l.wake.Signal()
		for _, k := range backlog {
			k.refuse()
		}
		for _, k := range live {
			k.Close()
		}
		l.wg.Wait()
	})
	return nil
}

func (l *listener) enqueue(k *link) bool {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return false
	}
	l.backlog = append(l.backlog, k)
	l.mu.Unlock()
	l.wake.Signal()
	return true
}

func (l *listener) acceptLoop() {
	defer l.wg.Done()
	for {
		l.mu.Lock()
		for len(l.backlog) == 0 && !l.closed {
			l.mu.Unlock()
			<-l.wake
			l.mu.Lock()
		}
		if l.closed {
			l.mu.Unlock()
			return
		}
		k := l.backlog[0]
		l.backlog[0] = nil
		l.backlog = l.backlog[1:]
		k.onDone = func() { l.remove(k) }
		l.links[k] = struct{}{}
		l.wg.Add(1)
		l.mu.Unlock()
		sink := l.accept(k)
		if sink == nil {
			k.refuse()
			continue
		}
		k.start(sink)
	}
}

func (l *listener) remove(k *link) {
	l.mu.Lock()
	delete(l.links, k)
	l.mu.Unlock()
	l.wg.Done()
}
