package net

import (
	"context"
	"fmt"

	"github.com/gonetic/gonetic/token"
)

// MaxHelloBytes bounds the data a client sends with its hello (WithHello),
// in bytes: room for a login or a connect token. A server refuses a hello
// with more, with a reason that says so, and Connect refuses to send it.
const MaxHelloBytes = 4096

// ConnectOption changes one connection made by Client.Connect,
// Client.Dial or Server.Connect. The options are the With… functions of this package.
type ConnectOption func(*connectOptions)

type connectOptions struct {
	hello    []byte
	tok      *token.Public
	tokenErr error
}

// WithHello sends data with the connection's hello, for the server's
// ServerConfig.Approve to judge: a login, a session ticket, a connect
// token. data is copied; it may be at most MaxHelloBytes long. The game
// encodes it as it likes (a registered message encoded with
// message.Factory's encoder is one way). A server without Approve
// ignores it. Without WithHello (or with empty data) the hello carries
// no data, and Approve sees empty Hello.Data. The hello travels in
// clear, even with WithToken (whose sealing starts after it): put no
// secret in data that a token cannot replace.
func WithHello(data []byte) ConnectOption {
	data = append([]byte(nil), data...)
	return func(o *connectOptions) { o.hello = data }
}

// WithToken connects with a connect token (package token) that the game's
// backend issued and sent the client: the hello carries its ticket, the
// server (ServerConfig.Tokens) checks it, and every payload of the
// connection is then sealed, encrypted and authenticated, with keys
// derived from the token's and fresh for each connection (Conn.Sealed).
// The token's client keys never leave the client. Connect and Dial read
// the token first and return at once, with token's error (matching
// token.ErrMalformed), when it is not one. A server without Tokens
// refuses such a client ("this server does not take connect tokens").
// A token is admitted again, until it expires, only from the host (the
// IP address) that first used it (token.Guard): a client may reconnect
// with it, from any port; another machine needs its own token. WithHello
// may be given too.
func WithToken(tok []byte) ConnectOption {
	p, err := token.Parse(tok)
	return func(o *connectOptions) { o.tok, o.tokenErr = p, err }
}

// Hello is what ServerConfig.Approve judges: a client's hello.
type Hello struct {
	// Addr is the peer's address, as Conn.Addr reports it.
	Addr string
	// Data is what the client passed to WithHello; empty when it passed
	// nothing (or is a client that cannot: one written before the
	// protocol carried data). At most MaxHelloBytes long. It is
	// Approve's to keep.
	Data []byte
	// Grant is what the client's connect token grants (its client id,
	// user data and expiry), on a server with ServerConfig.Tokens; the
	// token was checked already (key, server, expiry, address). nil on
	// a server without Tokens.
	Grant *token.Grant
}

// approval is the outcome of ServerConfig.Approve for one connection.
type approval struct {
	identity any
	err      error
}

// approve runs ServerConfig.Approve for c on a goroutine of its own, so
// that a slow check (a database, a web backend) never stalls the game
// loop; its outcome is applied by Update (approved). It runs on the
// Update goroutine, with c in its handshake: c stays in e.handshaking, so
// HandshakeTimeout ends it if Approve is slower, and Approve's ctx is
// done then too.
func (s *Server) approve(c *Conn, h Hello) {
	e := s.e
	if e.closed.Load() {
		return
	}
	ctx, cancel := context.WithDeadline(e.ctx, c.deadline)
	c.approving = true
	c.cancelApprove = cancel
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		identity, err := s.cfg.Approve(ctx, h)
		// Read by Update only after it takes the item below: the inbox's
		// lock orders the two.
		c.approval = approval{identity, err}
		e.inbox.push(c, itemApproved, 0, nil)
	}()
}

// approved applies the outcome of Approve, unless the connection ended
// meanwhile (it timed out, the peer left, Disconnect or a protocol
// error): then no game code hears of it.
func (s *Server) approved(c *Conn) {
	if !c.approving {
		return
	}
	c.approving = false
	c.cancelApprove()
	c.cancelApprove = nil
	if c.State() != Handshaking {
		return
	}
	if err := c.approval.err; err != nil {
		s.e.dropHandshaking(c)
		s.refuse(c, err.Error())
		return
	}
	s.admit(c, c.approval.identity)
	c.approval = approval{}
}

// Identity is the value ServerConfig.Approve returned when it accepted
// the connection: the player the game let in. On a server with
// ServerConfig.Tokens and no Approve, it is the connection's
// *token.Grant. nil on a client's connection, and on a server with
// neither. It never changes once the
// connection is open, and may be called from any goroutine.
func (c *Conn) Identity() any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.identity
}

// helloTooBig is the reason for refusing a hello with too much data.
func helloTooBig(n int) string {
	return fmt.Sprintf("hello data is %d bytes, more than the %d the server accepts (MaxHelloBytes)", n, MaxHelloBytes)
}
