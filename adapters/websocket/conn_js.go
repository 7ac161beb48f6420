//go:build js

package websocket

import (
	"context"
	"crypto/tls"
	"errors"
	"net/url"
	"syscall/js"

	"github.com/coder/websocket"
	"github.com/gonetic/gonetic/net/transport"
)

// conn is one open WebSocket of the browser.
type conn struct {
	ws     *websocket.Conn
	remote string
}

// kill closes the WebSocket without waiting: the browser's close waits for
// an event, and the caller may be the game loop. It closes with 1000: a
// browser cannot close a WebSocket without the close handshake, and
// refuses to send 1001 (coder/websocket's CloseNow).
func (c *conn) kill() {
	go func() { _ = c.ws.Close(websocket.StatusNormalClosure, "") }()
}

// sendStatus is the close status a browser may send for code: it sends
// only 1000 and 3000 to 4999, so 1002, 1003 and 1009 go as 4002, 4003 and
// 4009, which a gonetic end takes as their originals.
func sendStatus(code websocket.StatusCode) websocket.StatusCode {
	if code == websocket.StatusNormalClosure {
		return code
	}
	return code + browserOffset
}

// cork does nothing: the browser sends each message itself.
func (c *conn) cork() {}

// uncork does nothing: the browser sends each message itself.
func (c *conn) uncork() error { return nil }

// release has nothing to free in the browser beyond what kill closed.
func (c *conn) release() { c.kill() }

// readLimit is -1, no limit in coder/websocket: the browser has received
// the whole message before Go sees it, and the link checks the size itself
// (readMessage) so that the Sink's Farewell can speak before the close.
func readLimit(transport.Config) int64 { return -1 }

// dial opens a WebSocket with the browser's WebSocket API.
func dial(ctx context.Context, u string, _ *tls.Config) (*conn, error) {
	if js.Global().Get("WebSocket").IsUndefined() {
		return nil, errors.New("this JavaScript runtime has no WebSocket API (Node before 22 needs --experimental-websocket)")
	}
	ws, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		return nil, err
	}
	remote := u
	if p, err := url.Parse(u); err == nil {
		remote = p.Host
	}
	return &conn{ws: ws, remote: remote}, nil
}
