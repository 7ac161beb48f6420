package net

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/gonetic/gonetic/message"
)

// Client connects to one or more servers.
//
// Update, Poll, On and Dial are for one goroutine, the game loop's, and
// the handlers run there, inside Update (or Dial). Every other method may
// be called from any goroutine.
type Client struct {
	e *endpoint
}

// NewClient returns a client.
func NewClient(cfg ClientConfig) (*Client, error) {
	e, err := newEndpoint(cfg.Config)
	if err != nil {
		return nil, err
	}
	return &Client{e: e}, nil
}

func (c *Client) endpoint() *endpoint { return c.e }

// Connect starts connecting to addr and returns the connection at once,
// in state Connecting. The outcome arrives through Update: OnConnect and a
// Connected event once the server accepted the handshake, or OnDisconnect
// and a Disconnected event with the reason if it failed or was refused.
// h is the connection's handler (see package handler), or nil. opts
// change this connection only: WithHello sends data for the server's
// ServerConfig.Approve, whose refusal arrives as a DisconnectError
// wrapping ErrRefused, with the server's reason; WithToken connects with
// a connect token, and seals the connection. It fails with ErrClosed once
// Close or Shutdown began.
func (c *Client) Connect(addr string, h any, opts ...ConnectOption) (*Conn, error) {
	return c.e.connect(c.e.cfg.Transport, addr, h, opts)
}

// tokTicket is the ticket a client's hello carries, nil without a token.
func (c *Conn) tokTicket() []byte {
	if c.tok == nil {
		return nil
	}
	return c.tok.Ticket
}

// Dial connects to addr and waits until the connection is open, running
// Update (and so handlers) meanwhile, on the calling goroutine. It returns
// the reason when the connection fails or is refused (a *DisconnectError;
// errors.Is(err, ErrRefused) when the server refused it), or ctx's error.
// opts are Connect's.
func (c *Client) Dial(ctx context.Context, addr string, h any, opts ...ConnectOption) (*Conn, error) {
	conn, err := c.Connect(addr, h, opts...)
	if err != nil {
		return nil, err
	}
	var reason error
	stop := context.AfterFunc(ctx, func() { c.e.inbox.wakeUp() })
	defer stop()
	for {
		switch conn.State() {
		case Open:
			return conn, nil
		case Closed:
			if reason == nil {
				reason = errors.New("gonetic: connection closed during the handshake")
			}
			return nil, reason
		}
		if err := ctx.Err(); err != nil {
			conn.Disconnect("dial cancelled")
			return nil, fmt.Errorf("gonetic: dial %s: %w", addr, err)
		}
		if err := c.e.update(50 * time.Millisecond); err != nil {
			return nil, err
		}
		if conn.State() == Closed {
			reason = conn.closeReason
		}
	}
}

// Update waits at most timeout for network activity (0: never waits),
// then delivers everything that arrived: handler methods run now, on the
// calling goroutine, and events are queued for Poll. Call it every frame.
// An adapter that can (ENet: see its package doc) does its network work
// in Update too, so that what reached the socket by then is delivered, and
// sends then what was sent since the last Update; what is sent between
// two Updates leaves at the next one, or within a millisecond.
func (c *Client) Update(timeout time.Duration) error { return c.e.update(timeout) }

// Poll returns the next event, or false when there is none (or events are
// off: see Config.EventQueue). It allocates nothing.
func (c *Client) Poll() (Event, bool) { return c.e.poll() }

// Connections yields the client's open connections except exclude (which
// may be nil), as Server.Connections does.
func (c *Client) Connections(exclude *Conn) iter.Seq[*Conn] { return c.e.connections(exclude) }

// NumConns is the number of open connections.
func (c *Client) NumConns() int {
	return c.e.numOpen()
}

// Factory is the client's message registry.
func (c *Client) Factory() *message.Factory { return c.e.factory }

// Shutdown disconnects every connection with reason (queued messages are
// delivered first), runs Update until all have ended or ctx is done, then
// closes the client. It may be called from any goroutine, as
// Server.Shutdown.
func (c *Client) Shutdown(ctx context.Context, reason string) error {
	return c.e.shutdown(ctx, reason, c.Close)
}

// Close drops every connection at once, without delivering what is
// queued, cancels connects in progress, and waits for the client's
// goroutines. Idempotent.
func (c *Client) Close() error {
	c.e.closeOnce.Do(func() {
		c.e.markClosed()
		c.e.cancel()
		c.e.abortAll()
		c.e.wg.Wait()
		c.e.timer.Stop()
	})
	return nil
}
