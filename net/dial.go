package net

import (
	"context"
	"fmt"
	"time"

	"github.com/gonetic/gonetic/net/transport"
)

// connect is Client.Connect and Server.Connect: it dials addr over t on a
// goroutine of the endpoint's, and the connection plays the client's part
// of the handshake (Conn.accepted). It fails with ErrClosed once Close or
// Shutdown began.
func (e *endpoint) connect(t transport.Transport, addr string, h any, opts []ConnectOption) (*Conn, error) {
	var o connectOptions
	for _, opt := range opts {
		opt(&o)
	}
	if o.tokenErr != nil {
		return nil, fmt.Errorf("gonetic: connect to %s: WithToken: %w; pass the whole token the backend issued", addr, o.tokenErr)
	}
	if len(o.hello) > MaxHelloBytes {
		return nil, fmt.Errorf("gonetic: connect to %s: WithHello data is %d bytes, more than MaxHelloBytes (%d)", addr, len(o.hello), MaxHelloBytes)
	}
	// Under dmu until the dial's goroutine is counted: Close and Shutdown
	// then either see this connection or make it fail here.
	e.dmu.Lock()
	defer e.dmu.Unlock()
	if e.closed.Load() || e.shuttingDown.Load() {
		return nil, ErrClosed
	}
	conn := e.newConn(addr, Connecting, true)
	conn.hello = o.hello
	if o.tok != nil {
		conn.tok, conn.random = o.tok, newRandom()
	}
	if err := e.bind(conn, h); err != nil {
		e.mu.Lock()
		delete(e.conns, conn)
		e.dialedConns--
		e.mu.Unlock()
		return nil, err
	}
	conn.deadline = time.Now().Add(e.cfg.HandshakeTimeout)
	e.inbox.push(conn, itemOpened, 0, nil)
	ctx, cancel := context.WithTimeout(e.ctx, e.cfg.HandshakeTimeout)
	conn.mu.Lock()
	conn.cancelDial = cancel // Disconnect while connecting cancels the dial
	conn.mu.Unlock()
	e.wg.Add(1)
	go e.dial(ctx, cancel, conn, t)
	return conn, nil
}

// dial runs on its own goroutine: it dials conn's peer and sends the
// hello, and the first ping.
func (e *endpoint) dial(ctx context.Context, cancel context.CancelFunc, conn *Conn, t transport.Transport) {
	defer e.wg.Done()
	defer cancel()
	link, err := t.Dial(ctx, conn.addr, e.tcfg, (*connSink)(conn))
	if err != nil {
		conn.linkErr = fmt.Errorf("gonetic: connect to %s over %s: %w", conn.addr, t.Name(), err)
		e.inbox.push(conn, itemClosed, 0, nil)
		return
	}
	conn.mu.Lock()
	defer conn.mu.Unlock()
	conn.link = link
	if conn.state != Connecting || e.closed.Load() {
		// Disconnect or Close came first.
		link.Abort()
		return
	}
	if p, ok := link.(transport.Poller); ok {
		e.addPoller(p) // until closed1
	}
	conn.state = Handshaking
	hash := e.factory.Hash()
	if err := conn.sendControl(control{
		kind: ctlHello, version: ProtocolVersion, codec: e.factory.Codec().Name(),
		hash: hash[:], lines: e.factory.Lines(), data: conn.hello,
		ticket: conn.tokTicket(), random: conn.random,
	}); err != nil {
		link.Abort()
		return
	}
	if e.cfg.PingInterval > 0 && conn.tok == nil {
		// Its pong, answered by the server's network goroutine, comes
		// before the welcome, which waits for the server's Update: the
		// server's clock is known from OnConnect on (ServerTime).
		// After the hello, which pays for the pong: a server answers
		// a peer in its handshake with no more than it received.
		// With a token, that ping follows the session instead
		// (keyClient): nothing may go before the keys.
		_ = conn.sendControl(control{kind: ctlPing, stamp: uint64(time.Since(e.epoch))})
	}
}

// markClosed marks the endpoint closed for Close: no dial starts after it.
func (e *endpoint) markClosed() {
	e.dmu.Lock()
	e.closed.Store(true)
	e.dmu.Unlock()
}
