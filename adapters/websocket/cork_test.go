//go:build !js

package websocket

import (
	"crypto/tls"
	"io"
	stdnet "net"
	"testing"

	"github.com/gonetic/gonetic/adapters/internal/transporttest"
)

// TestCorkCloseUnderTLS: closing a wss listener's connection closes the
// socket at once, without TLS's close_notify, which a peer that does not
// read would hold for seconds. Over net.Pipe, which has no buffer, the
// peer's first read shows which happened: end of stream, or the alert.
func TestCorkCloseUnderTLS(t *testing.T) {
	srvConf, cliConf := transporttest.TLSConfigs(t)
	a, b := stdnet.Pipe()
	defer b.Close()
	cliConf.ServerName = "localhost" // a pipe has no address to take it from
	server, client := tls.Server(a, srvConf), tls.Client(b, cliConf)
	done := make(chan error, 1)
	go func() { done <- client.Handshake() }()
	if err := server.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := transporttest.Await(t, done, "client handshake"); err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- (&corkConn{Conn: server}).Close() }()
	n, err := b.Read(make([]byte, 64))
	if n != 0 || err != io.EOF {
		t.Fatalf("the peer read %d bytes (%v); want the end of stream and no close_notify", n, err)
	}
	transporttest.Await(t, closed, "Close")
}
