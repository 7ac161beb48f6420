package flow

import (
	"context"
	"errors"
	"fmt"
	stdnet "net"
	"sync"

	"github.com/gonetic/gonetic/net/transport"
)

// Client is a connection to a dedicated flow listener (Listen). Pass it to
// Call; many flows may run over it at once. Every method is safe for
// concurrent use.
type Client struct {
	ep *endpoint
	l  link
	s  *session
}

var _ Caller = (*Client)(nil)

// Dial connects to the flow listener at addr and runs the handshake; ctx
// bounds both. addr is "host:port", or the address form of
// ClientConfig.Transport when it is set.
func Dial(ctx context.Context, addr string, cfg ClientConfig) (*Client, error) {
	c, err := cfg.Config.withDefaults(DefaultWindow, DefaultChunkSize, 0)
	if err != nil {
		return nil, err
	}
	cfg.Config = c
	ep := newEndpoint(cfg.Config)
	var l link
	var receive *func(*frame, any)
	var closed *func(error)
	var tl *transLink
	if cfg.Transport == nil {
		var d stdnet.Dialer
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("flow: dial %s: %w", addr, err)
		}
		t := newTCPLink(conn.(*stdnet.TCPConn), ep, linkRegistry())
		l, receive, closed = t, &t.receive, &t.closed
	} else {
		tl = newTransLink(ep, linkRegistry(), nil)
		l, receive, closed = tl, &tl.receive, &tl.closed
	}
	cl := &Client{ep: ep, l: l}

	var mu sync.Mutex // guards s: set by the reader goroutine, read by it
	var s *session
	hs := make(chan error, 1)
	*receive = func(fr *frame, m any) {
		mu.Lock()
		cur := s
		mu.Unlock()
		if cur != nil && fr != nil {
			cur.receive(fr)
			return
		}
		var err error
		switch m := m.(type) {
		case helloMsg:
			if cur != nil || m.Version != ProtocolVersion || m.Codec != cfg.Codec.Name() {
				err = fmt.Errorf("flow: the server speaks version %d with codec %q, this client version %d with %q", m.Version, m.Codec, ProtocolVersion, cfg.Codec.Name())
				break
			}
			mu.Lock()
			s = newSession(ep, l, true, l.remoteAddr())
			mu.Unlock()
		case refuseMsg:
			err = fmt.Errorf("flow: the server refused the connection: %s", m.Reason)
		default:
			err = errors.New("flow: frame before the handshake's end")
		}
		select {
		case hs <- err:
		default:
		}
		if err != nil {
			l.abort()
		}
	}
	*closed = func(err error) {
		mu.Lock()
		cur := s
		mu.Unlock()
		if cur != nil {
			cur.lost(err)
			return
		}
		if err == nil {
			err = errors.New("the connection closed")
		}
		select {
		case hs <- fmt.Errorf("flow: handshake: %w", err):
		default:
		}
	}
	if tl == nil {
		l.(*tcpLink).start()
	} else {
		t := cfg.Transport
		link, err := t.Dial(ctx, addr, transportConfig(), tl)
		if err != nil {
			ep.shut()
			ep.wait()
			return nil, fmt.Errorf("flow: dial %s over %s: %w", addr, t.Name(), err)
		}
		tl.attach(link)
		if _, lossy := link.(transport.Lossy); lossy {
			link.Abort()
			<-tl.done
			ep.shut()
			ep.wait()
			return nil, errLossy(t.Name())
		}
	}
	err = l.sendMsg(&helloMsg{Version: ProtocolVersion, Codec: cfg.Codec.Name()})
	if err == nil {
		select {
		case err = <-hs:
		case <-ctx.Done():
			err = fmt.Errorf("flow: dial %s: %w", addr, ctx.Err())
		}
	}
	if err != nil {
		l.abort()
		<-l.finished()
		ep.shut()
		ep.wait()
		return nil, err
	}
	mu.Lock()
	cl.s = s
	mu.Unlock()
	return cl, nil
}

func (c *Client) session() (*session, error) {
	c.s.mu.Lock()
	dead := c.s.dead
	c.s.mu.Unlock()
	if dead != nil {
		e := *dead
		return nil, &e
	}
	return c.s, nil
}

// Err is nil while the connection serves flows, and then why it ended
// (an *Error): a program that keeps a Client dials again when it is not
// nil.
func (c *Client) Err() error {
	if _, err := c.session(); err != nil {
		return err
	}
	return nil
}

// RemoteAddr is the server's address.
func (c *Client) RemoteAddr() string { return c.l.remoteAddr() }

// Stats are a dedicated connection's counters.
type Stats struct {
	// BytesSent and BytesReceived count what went to and came from the
	// operating system, framing included; over a Transport, what its
	// link's transport.Stats count.
	BytesSent, BytesReceived uint64
}

// Stats returns the connection's counters.
func (c *Client) Stats() Stats { return c.l.stats() }

// Close ends every flow at once (the server is told the client is
// closing; results end with ErrClosed), closes the connection and waits
// for the client's goroutines. Idempotent.
func (c *Client) Close() error {
	if !c.ep.shut() {
		return nil
	}
	c.s.closeFlows(CodeClosing, "the client closed")
	c.l.close()
	<-c.l.finished()
	c.ep.wait()
	return nil
}
