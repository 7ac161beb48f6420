//go:build !js

package websocket_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	stdnet "net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	cws "github.com/coder/websocket"
	"github.com/gonetic/gonetic/adapters/internal/transporttest"
	"github.com/gonetic/gonetic/adapters/websocket"
	"github.com/gonetic/gonetic/net/nettest"
	"github.com/gonetic/gonetic/net/transport"
)

// TestConformanceTLS runs the suite over wss: Listen serves TLS, Dial
// dials the listener's "host:port" as wss://.
func TestConformanceTLS(t *testing.T) {
	conf := transporttest.TLSConfig(t)
	transporttest.Run(t, func(*testing.T) transport.Transport {
		return websocket.New(websocket.Options{TLS: conf, MaxQueued: 32 << 20})
	}, "127.0.0.1:0", transporttest.Options{KeepsChannel: true})
}

func TestNetConformanceTLS(t *testing.T) {
	conf := transporttest.TLSConfig(t)
	nettest.Run(t, nettest.Adapter{
		New:  func(testing.TB) transport.Transport { return websocket.New(websocket.Options{TLS: conf}) },
		Addr: "127.0.0.1:0",
	})
}

// tlsServer listens over wss with a fresh certificate and returns a client
// config that trusts it.
func tlsServer(t *testing.T) (*server, *tls.Config) {
	t.Helper()
	srv, cli := transporttest.TLSConfigs(t)
	return listen(t, websocket.New(websocket.Options{TLS: srv}), "127.0.0.1:0", transport.Config{}), cli
}

func noAccept(t *testing.T, s *server) {
	t.Helper()
	select {
	case <-s.accepted:
		t.Fatal("a connection without TLS reached the Accept")
	default:
	}
}

// TestTLSDial: a client with RootCAs dials wss:// (and "host:port" as wss)
// and exchanges payloads.
func TestTLSDial(t *testing.T) {
	s, cli := tlsServer(t)
	tr := websocket.New(websocket.Options{TLS: cli})
	for _, addr := range []string{"wss://" + s.ln.Addr() + "/play", s.ln.Addr()} {
		cs := newSink()
		c, err := tr.Dial(ctx(t), addr, transport.Config{}, cs)
		if err != nil {
			t.Fatalf("Dial(%q): %v", addr, err)
		}
		l, ls := s.accept(t)
		if err := c.Send(0, transport.Reliable, []byte("ping")); err != nil {
			t.Fatal(err)
		}
		if m := ls.next(t); m.p != "ping" {
			t.Fatalf("server got %q", m.p)
		}
		if err := l.Send(0, transport.Reliable, []byte("pong")); err != nil {
			t.Fatal(err)
		}
		if m := cs.next(t); m.p != "pong" {
			t.Fatalf("client got %q", m.p)
		}
		c.Close()
		if err := cs.waitClosed(t); err != nil {
			t.Fatalf("client closed with %v", err)
		}
	}
}

// TestTLSUntrusted: a client that does not trust the certificate fails
// Dial with an error that names RootCAs, and is never accepted.
func TestTLSUntrusted(t *testing.T) {
	s, _ := tlsServer(t)
	tr := websocket.New(websocket.Options{TLS: transporttest.UntrustedTLSConfig(t)})
	_, err := tr.Dial(ctx(t), "wss://"+s.ln.Addr()+"/", transport.Config{}, newSink())
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) || !strings.Contains(err.Error(), "RootCAs") {
		t.Fatalf("Dial: %v; want an x509.UnknownAuthorityError that says to set RootCAs", err)
	}
	noAccept(t, s)
}

// TestTLSNoDowngrade: with Options.TLS, a ws:// URL is refused rather than
// dialled in the clear.
func TestTLSNoDowngrade(t *testing.T) {
	_, cli := transporttest.TLSConfigs(t)
	_, err := websocket.New(websocket.Options{TLS: cli}).Dial(ctx(t), "ws://127.0.0.1:1/", transport.Config{}, newSink())
	if err == nil || !strings.Contains(err.Error(), "wss://") {
		t.Fatalf("Dial(ws://) with Options.TLS: %v; want a refusal naming wss://", err)
	}
}

// TestTLSListenNeedsCertificate: Listen refuses a TLS config without a
// certificate.
func TestTLSListenNeedsCertificate(t *testing.T) {
	_, cli := transporttest.TLSConfigs(t)
	ln, err := websocket.New(websocket.Options{TLS: cli}).Listen("127.0.0.1:0", transport.Config{}, func(transport.Link) transport.Sink { return newSink() })
	if err == nil {
		ln.Close()
		t.Fatal("Listen took a TLS config without a certificate")
	}
	if !strings.Contains(err.Error(), "Certificates") {
		t.Fatalf("Listen: %v; want it to name Certificates", err)
	}
}

// TestTLSPlainClient: a ws:// client of a wss listener is refused and
// never accepted, and wss clients go on.
func TestTLSPlainClient(t *testing.T) {
	s, cli := tlsServer(t)
	if _, _, err := rawDial(t, "ws://"+s.ln.Addr()+"/", ""); err == nil {
		t.Fatal("a ws:// client got through to a wss listener")
	}
	noAccept(t, s)
	if _, _, err := tlsDial(t, s, cli, ""); err != nil {
		t.Fatal(err)
	}
	s.accept(t)
}

// tlsDial opens a wss WebSocket with coder/websocket alone, as a browser
// would, with the given Origin header ("" for none).
func tlsDial(t *testing.T, s *server, conf *tls.Config, origin string) (*cws.Conn, *http.Response, error) {
	t.Helper()
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: conf}}
	t.Cleanup(client.CloseIdleConnections)
	c, resp, err := cws.Dial(ctx(t), "wss://"+s.ln.Addr()+"/", &cws.DialOptions{HTTPClient: client, HTTPHeader: h})
	if err == nil {
		t.Cleanup(func() { c.CloseNow() })
	}
	return c, resp, err
}

// TestTLSOrigin: over wss, a page of another origin is still refused with
// 403, and the server's own https origin accepted.
func TestTLSOrigin(t *testing.T) {
	s, cli := tlsServer(t)
	_, resp, err := tlsDial(t, s, cli, "https://evil.example")
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("Origin https://evil.example over wss: %v; want 403 Forbidden", err)
	}
	noAccept(t, s)
	c, _, err := tlsDial(t, s, cli, "https://"+s.ln.Addr())
	if err != nil {
		t.Fatalf("the server's own origin over wss: %v", err)
	}
	s.accept(t)
	c.Close(cws.StatusNormalClosure, "")
}

// TestTLSSilentPeer: a peer that connects and never speaks TLS is cut once
// the http.Server's ReadHeaderTimeout (10 s) runs out, and is never
// accepted; a wss client meanwhile gets through.
func TestTLSSilentPeer(t *testing.T) {
	s, cli := tlsServer(t)
	raw, err := stdnet.Dial("tcp", s.ln.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, _, err := tlsDial(t, s, cli, ""); err != nil {
		t.Fatal(err)
	}
	s.accept(t)
	_ = raw.SetReadDeadline(time.Now().Add(3 * waitLimit))
	if _, err := io.Copy(io.Discard, raw); errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("the server kept a connection that never started its TLS handshake")
	}
	noAccept(t, s)
}
