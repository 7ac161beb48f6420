package tcp

import (
	"errors"
	stdnet "net"
	"sync"
	"time"

	"github.com/gonetic/gonetic/net/transport"
)

// listener runs one accept goroutine and keeps the links it accepted until
// they are over.
type listener struct {
	ln       *stdnet.TCPListener
	cfg      transport.Config
	opts     Options
	overhead int // the framing's, for cfg.MaxPayload
	accept   transport.Accept
	queued   *budget        // Options.MaxQueuedTotal, shared by the links
	receive  *budget        // Options.MaxReceiving, shared by the links
	flusher  *flusher       // writes the links' queues
	stop     chan struct{}  // closed by Close: ends the accept loop's back-off
	wg       sync.WaitGroup // the accept loop and every accepted link

	mu     sync.Mutex // guards closed and links
	closed bool
	links  map[*link]struct{}

	once sync.Once
	err  error // from closing the socket; set once
}

// Addr is the bound "host:port".
func (l *listener) Addr() string { return l.ln.Addr().String() }

// Close stops accepting, closes every live link gracefully (each within
// Options.CloseTimeout) and waits for all the goroutines of the listener and
// of its links, which includes waiting for Sinks blocked in Receive. Safe
// to call from any goroutine but a Sink or the Accept; idempotent.
func (l *listener) Close() error {
	l.once.Do(func() {
		l.mu.Lock()
		l.closed = true
		live := make([]*link, 0, len(l.links))
		for k := range l.links {
			live = append(live, k)
		}
		l.mu.Unlock()
		close(l.stop)
		l.err = l.ln.Close()
		for _, k := range live {
			k.Close()
		}
		l.wg.Wait()
		l.flusher.close()
	})
	return l.err
}

func (l *listener) acceptLoop() {
	defer l.wg.Done()
	var delay time.Duration
	for {
		c, err := l.ln.AcceptTCP()
		if err != nil {
			select {
			case <-l.stop:
				return
			default:
			}
			if errors.Is(err, stdnet.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: back off, as net/http does.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			t := time.NewTimer(delay)
			select {
			case <-l.stop:
				t.Stop()
				return
			case <-t.C:
			}
			continue
		}
		delay = 0
		k := newLink(c, l.cfg, l.opts, l.overhead, l.queued, l.receive, l.flusher)
		k.onDone = func() { l.remove(k) }
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			_ = c.Close()
			continue
		}
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
