package tcp

import (
	"context"
	"crypto/tls"
	"errors"
	stdnet "net"
	"net/netip"
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
	flusher  *flusher       // writes the links' queues; nil with TLS
	stop     chan struct{}  // closed by Close: ends the accept loop's back-off
	wg       sync.WaitGroup // the accept loop, handshakes and accepted links
	ctx      context.Context
	cancel   context.CancelFunc // called by Close: ends the TLS handshakes

	mu         sync.Mutex // guards closed, links, handshakes and shaking
	closed     bool
	links      map[*link]struct{}
	handshakes int                // TLS handshakes under way
	shaking    map[netip.Addr]int // of those, per peer IP address

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
		l.cancel()
		l.err = l.ln.Close()
		for _, k := range live {
			k.Close()
		}
		l.wg.Wait()
		if l.flusher != nil {
			l.flusher.close()
		}
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
		if l.opts.TLS == nil {
			l.admit(c, nil)
			continue
		}
		var ip netip.Addr
		if a, ok := c.RemoteAddr().(*stdnet.TCPAddr); ok {
			ip = a.AddrPort().Addr().Unmap()
		}
		l.mu.Lock()
		if l.closed || l.handshakes >= l.opts.MaxHandshakes || l.shaking[ip] >= l.opts.MaxHandshakesPerIP {
			l.mu.Unlock()
			_ = c.Close()
			continue
		}
		l.handshakes++
		l.shaking[ip]++
		l.wg.Add(1)
		l.mu.Unlock()
		go l.handshake(c, ip)
	}
}

// handshake runs the server's side of a TLS handshake on a goroutine of its
// own, so that a slow or silent peer holds neither the accept loop nor the
// other handshakes, and admits the connection once it is done. A failed
// or timed-out handshake closes the connection; the Accept never sees it.
func (l *listener) handshake(c *stdnet.TCPConn, ip netip.Addr) {
	defer l.wg.Done()
	ctx, cancel := context.WithTimeout(l.ctx, l.opts.HandshakeTimeout)
	sc := tls.Server(c, l.opts.TLS)
	err := sc.HandshakeContext(ctx)
	cancel()
	l.mu.Lock()
	l.handshakes--
	if l.shaking[ip]--; l.shaking[ip] == 0 {
		delete(l.shaking, ip)
	}
	l.mu.Unlock()
	if err != nil {
		_ = c.Close()
		return
	}
	l.admit(c, sc)
}

// admit hands a connection (over sc, when not nil) to the Accept as a link.
func (l *listener) admit(c *stdnet.TCPConn, sc *tls.Conn) {
	k := newLink(c, sc, l.cfg, l.opts, l.overhead, l.queued, l.receive, l.flusher)
	k.onDone = func() { l.remove(k) }
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		_ = c.Close()
		return
	}
	l.links[k] = struct{}{}
	l.wg.Add(1)
	l.mu.Unlock()
	sink := l.accept(k)
	if sink == nil {
		k.refuse()
		return
	}
	k.start(sink)
}

func (l *listener) remove(k *link) {
	l.mu.Lock()
	delete(l.links, k)
	l.mu.Unlock()
	l.wg.Done()
}
