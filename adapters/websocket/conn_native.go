//go:build !js

package websocket

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	stdnet "net"
	"net/http"
	"sync"

	"github.com/coder/websocket"
	"github.com/gonetic/gonetic/net/transport"
)

// conn is one open WebSocket and the TCP connection under it, which is
// closed to end the link at once: coder/websocket's CloseNow does nothing
// while its graceful Close is under way.
type conn struct {
	ws     *websocket.Conn
	raw    *corkConn
	remote string
}

// kill closes the connection at once; every read and write on it fails.
// It never blocks.
func (c *conn) kill() { _ = c.raw.Close() }

// sendStatus is the close status sent for code: code itself.
func sendStatus(code websocket.StatusCode) websocket.StatusCode { return code }

// cork gathers what is written until uncork, which writes it in one call.
func (c *conn) cork() { c.raw.cork() }

// uncork writes what was gathered since cork.
func (c *conn) uncork() error { return c.raw.uncork() }

// corkConn is the connection under a WebSocket. coder/websocket writes
// each message with a write call of its own; while the link's writer
// writes a batch of messages, corkConn gathers them, so that the batch
// leaves in one write call, as adapters/tcp's do.
type corkConn struct {
	stdnet.Conn

	mu     sync.Mutex // guards corked and buf, and orders writes to Conn
	corked bool
	buf    []byte
}

// Close closes the TCP connection. Under the TLS of a wss listener it
// closes the socket below, so that it never waits: tls.Conn's Close would
// first send close_notify, which a peer that does not read can hold for
// seconds.
func (c *corkConn) Close() error {
	if tc, ok := c.Conn.(*tls.Conn); ok {
		return tc.NetConn().Close()
	}
	return c.Conn.Close()
}

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.corked {
		c.buf = append(c.buf, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

func (c *corkConn) cork() {
	c.mu.Lock()
	c.corked = true
	c.mu.Unlock()
}

func (c *corkConn) uncork() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked = false
	if len(c.buf) == 0 {
		return nil
	}
	_, err := c.Conn.Write(c.buf)
	if cap(c.buf) > maxRetained {
		c.buf = nil
	} else {
		c.buf = c.buf[:0]
	}
	return err
}

// release frees what coder/websocket holds for the connection, once no
// goroutine of the link uses it.
func (c *conn) release() { _ = c.ws.CloseNow() }

// readLimit is coder/websocket's read limit for cfg: one message of a
// channel byte and cfg.MaxPayload bytes, plus the byte that shows a
// message is too large. The link stops reading there itself (readMessage),
// so that the limit is its own and the Sink's Farewell can speak before
// the close; coder/websocket's limit, which would close the connection at
// once, is never reached.
func readLimit(cfg transport.Config) int64 { return int64(cfg.MaxPayload) + 1 }

// dial opens a WebSocket to the URL u with an HTTP client of its own,
// whose dialers keep the connection as a corkConn. For wss the corkConn is
// over the TLS connection, so that a batch of messages is encrypted in
// large records rather than one per message, and closing it closes the
// socket below, never waiting for TLS.
func dial(ctx context.Context, u string, conf *tls.Config) (*conn, error) {
	var (
		mu  sync.Mutex
		raw *corkConn
		d   stdnet.Dialer
	)
	keep := func(c stdnet.Conn) stdnet.Conn {
		cc := &corkConn{Conn: c}
		mu.Lock()
		raw = cc
		mu.Unlock()
		return cc
	}
	ht := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (stdnet.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return keep(c), nil
		},
		DialTLSContext: func(ctx context.Context, network, addr string) (stdnet.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			tc := tls.Client(c, clientTLS(conf, addr))
			if err := tc.HandshakeContext(ctx); err != nil {
				_ = c.Close()
				return nil, err
			}
			return keep(tc), nil
		},
	}
	ws, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: &http.Client{Transport: ht}})
	ht.CloseIdleConnections()
	if err != nil {
		if hint := tlsHint(err); hint != "" {
			return nil, fmt.Errorf("%w; %s", err, hint)
		}
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return nil, fmt.Errorf("%w (the server answered %q: is a gonetic WebSocket listener mounted at that path?)", err, resp.Status)
		}
		return nil, err
	}
	mu.Lock()
	r := raw
	mu.Unlock()
	if r == nil { // cannot happen: the handshake went over a dialed connection
		_ = ws.CloseNow()
		return nil, errors.New("the HTTP client dialed no connection")
	}
	return &conn{ws: ws, raw: r, remote: r.RemoteAddr().String()}, nil
}

// clientTLS is conf (nil: the defaults, which trust the system's roots)
// for a wss connection to addr: ServerName defaults to addr's host, and the
// connection speaks HTTP/1.1, the only HTTP a WebSocket upgrades.
func clientTLS(conf *tls.Config, addr string) *tls.Config {
	if conf == nil {
		conf = &tls.Config{}
	} else {
		conf = conf.Clone()
	}
	if conf.ServerName == "" {
		conf.ServerName, _, _ = stdnet.SplitHostPort(addr)
	}
	conf.NextProtos = []string{"http/1.1"}
	return conf
}

// tlsHint says what to change when a wss handshake failed on the server's
// certificate, or "" for another error.
func tlsHint(err error) string {
	var (
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		invalid x509.CertificateInvalidError
		record  tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &unknown):
		return "the server's certificate is signed by an authority this client does not trust: put the authority's certificate (or the server's self-signed one) in Options.TLS.RootCAs"
	case errors.As(err, &host):
		return "the server's certificate is not valid for this host: dial a name the certificate holds, or set Options.TLS.ServerName to it"
	case errors.As(err, &invalid):
		return "the server's certificate is not valid (expired, not yet valid, or not for a server): renew it on the server"
	case errors.As(err, &record):
		return "the server does not speak TLS: dial ws:// (without Options.TLS), or serve wss"
	}
	return ""
}
