package flow

import (
	"context"
	"fmt"

	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/net/transport"
)

// Client is a connection to a dedicated flow listener (Listen). Pass it to
// Call; many flows may run over it at once. Every method is safe for
// concurrent use.
type Client struct {
	ep *endpoint
	k  *linkSink
}

var _ Caller = (*Client)(nil)

// Dial connects to the flow listener at addr and runs the handshake; ctx
// bounds both.
func Dial(ctx context.Context, addr string, cfg ClientConfig) (*Client, error) {
	c, err := cfg.Config.withDefaults()
	if err != nil {
		return nil, err
	}
	cfg.Config = c
	if cfg.Transport == nil {
		cfg.Transport = tcp.New(tcp.Options{})
	}
	ep := newEndpoint(cfg.Config)
	reg := linkRegistry()
	k := &linkSink{ep: ep, dec: reg.NewDecoder(), hs: make(chan error, 1), closed: make(chan struct{})}
	l, err := cfg.Transport.Dial(ctx, addr, linkConfig, k)
	if err != nil {
		ep.shut()
		ep.wait()
		return nil, fmt.Errorf("flow: dial %s over %s: %w", addr, cfg.Transport.Name(), err)
	}
	w := &linkWire{l: l, enc: reg.NewEncoder()}
	k.mu.Lock()
	k.l, k.w = l, w
	k.mu.Unlock()
	w.mu.Lock()
	err = w.sendMsg(&helloMsg{Version: ProtocolVersion, Codec: cfg.Codec.Name()})
	w.mu.Unlock()
	if err == nil {
		select {
		case err = <-k.hs:
		case <-ctx.Done():
			err = fmt.Errorf("flow: dial %s: %w", addr, ctx.Err())
		}
	}
	if err != nil {
		l.Abort()
		<-k.closed
		ep.shut()
		ep.wait()
		return nil, err
	}
	return &Client{ep: ep, k: k}, nil
}

func (c *Client) session() (*session, error) {
	s := c.k.session()
	s.mu.Lock()
	dead := s.dead
	s.mu.Unlock()
	if dead != nil {
		e := *dead
		return nil, &e
	}
	return s, nil
}

// RemoteAddr is the server's address.
func (c *Client) RemoteAddr() string { l, _ := c.k.link(); return l.RemoteAddr() }

// Stats are the connection's counters, from the network adapter.
func (c *Client) Stats() transport.Stats { l, _ := c.k.link(); return l.Stats() }

// Close ends every flow at once (the server is told the client is
// closing; results end with ErrClosed), closes the connection and waits
// for the client's goroutines. Idempotent.
func (c *Client) Close() error {
	if !c.ep.shut() {
		return nil
	}
	c.k.session().closeFlows(CodeClosing, "the client closed")
	l, _ := c.k.link()
	l.Close()
	<-c.k.closed
	c.ep.wait()
	return nil
}
