package tcp_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	stdnet "net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/internal/transporttest"
	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/net/transport"
)

// tlsServer listens with TLS (and opts) and counts its Accepts on the
// server's links channel.
func tlsServer(t *testing.T, opts tcp.Options) (*server, *tls.Config) {
	t.Helper()
	srv, cli := transporttest.TLSConfigs(t)
	opts.TLS = srv
	return listen(t, tcp.New(opts), transport.Config{}), cli
}

// exchange dials s over TLS with conf and checks that a payload goes each
// way.
func exchange(t *testing.T, s *server, conf *tls.Config) {
	t.Helper()
	c, cs := dial(t, tcp.New(tcp.Options{TLS: conf}), s.ln.Addr(), transport.Config{})
	l, ls := s.accepted(t)
	if err := c.Send(0, transport.Reliable, []byte("ping")); err != nil {
		t.Fatal(err)
	}
	if p := ls.next(t); string(p) != "ping" {
		t.Fatalf("server got %q", p)
	}
	if err := l.Send(0, transport.Reliable, []byte("pong")); err != nil {
		t.Fatal(err)
	}
	if p := cs.next(t); string(p) != "pong" {
		t.Fatalf("client got %q", p)
	}
	c.Close()
	if err := cs.waitClosed(t); err != nil {
		t.Fatalf("client closed with %v", err)
	}
}

// cutWithin fails unless the server ends raw, which sends nothing more,
// within the wait limit.
func cutWithin(t *testing.T, raw stdnet.Conn) {
	t.Helper()
	_ = raw.SetReadDeadline(time.Now().Add(waitLimit))
	_, err := io.Copy(io.Discard, raw)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the server kept a connection that never finished its TLS handshake for %v", waitLimit)
	}
}

func noAccept(t *testing.T, s *server) {
	t.Helper()
	select {
	case <-s.links:
		t.Fatal("a connection without a TLS handshake reached the Accept")
	default:
	}
}

// TestTLSUntrusted: a client that does not trust the server's certificate
// fails Dial with an error that names the fix, and the server's Accept
// never sees it.
func TestTLSUntrusted(t *testing.T) {
	transporttest.CheckLeaks(t)
	s, _ := tlsServer(t, tcp.Options{})
	_, err := tcp.New(tcp.Options{TLS: transporttest.UntrustedTLSConfig(t)}).Dial(context.Background(), s.ln.Addr(), transport.Config{}, newSink())
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) || !strings.Contains(err.Error(), "RootCAs") {
		t.Fatalf("Dial: %v; want an x509.UnknownAuthorityError that says to set RootCAs", err)
	}
	noAccept(t, s)
}

// TestTLSWrongName: a certificate for other names fails with a hint at
// ServerName; the default ServerName is the dialled host, which the
// certificate holds.
func TestTLSWrongName(t *testing.T) {
	transporttest.CheckLeaks(t)
	s, cli := tlsServer(t, tcp.Options{})
	wrong := cli.Clone()
	wrong.ServerName = "game.example.com"
	_, err := tcp.New(tcp.Options{TLS: wrong}).Dial(context.Background(), s.ln.Addr(), transport.Config{}, newSink())
	var host x509.HostnameError
	if !errors.As(err, &host) || !strings.Contains(err.Error(), "ServerName") {
		t.Fatalf("Dial: %v; want an x509.HostnameError that says to set ServerName", err)
	}
	_, port, _ := stdnet.SplitHostPort(s.ln.Addr())
	if _, err := tcp.New(tcp.Options{TLS: cli}).Dial(context.Background(), ":"+port, transport.Config{}, newSink()); err == nil || !strings.Contains(err.Error(), "no host") {
		t.Fatalf("Dial(%q): %v; want an error saying there is no host to check", ":"+port, err)
	}
	c, cs := dial(t, tcp.New(tcp.Options{TLS: cli}), "localhost:"+port, transport.Config{})
	l, _ := s.accepted(t)
	l.Close()
	if err := cs.waitClosed(t); !errors.Is(err, io.EOF) {
		t.Fatalf("client closed with %v, want io.EOF", err)
	}
	c.Abort()
}

// TestTLSListenNeedsCertificate: Listen refuses a TLS config without a
// certificate at once.
func TestTLSListenNeedsCertificate(t *testing.T) {
	_, cli := transporttest.TLSConfigs(t)
	ln, err := tcp.New(tcp.Options{TLS: cli}).Listen("127.0.0.1:0", transport.Config{}, func(transport.Link) transport.Sink { return newSink() })
	if err == nil {
		ln.Close()
		t.Fatal("Listen took a TLS config without a certificate")
	}
	if !strings.Contains(err.Error(), "Certificates") {
		t.Fatalf("Listen: %v; want it to name Certificates", err)
	}
}

// TestTLSPlainClient: a plain client of a TLS listener is cut at its first
// frame, never accepted, and TLS clients go on meanwhile.
func TestTLSPlainClient(t *testing.T) {
	transporttest.CheckLeaks(t)
	s, cli := tlsServer(t, tcp.Options{HandshakeTimeout: time.Hour})
	plain, ps := dial(t, tcp.New(tcp.Options{}), s.ln.Addr(), transport.Config{})
	if err := plain.Send(0, transport.Reliable, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if err := ps.waitClosed(t); err == nil {
		t.Fatal("the plain client's link closed cleanly; want the error of a connection cut")
	}
	noAccept(t, s)
	exchange(t, s, cli)
}

// TestTLSSilentPeer: a peer that connects and never speaks is cut after
// HandshakeTimeout, never accepted.
func TestTLSSilentPeer(t *testing.T) {
	transporttest.CheckLeaks(t)
	s, _ := tlsServer(t, tcp.Options{HandshakeTimeout: 200 * time.Millisecond})
	cutWithin(t, rawDial(t, s.ln.Addr()))
	noAccept(t, s)
}

// TestTLSHandshakesDoNotBlock: peers stuck in their handshake hold neither
// the accept loop nor other clients, and Listener.Close ends them at once.
func TestTLSHandshakesDoNotBlock(t *testing.T) {
	transporttest.CheckLeaks(t)
	s, cli := tlsServer(t, tcp.Options{HandshakeTimeout: time.Hour})
	var silent []stdnet.Conn
	for range 3 {
		silent = append(silent, rawDial(t, s.ln.Addr()))
	}
	exchange(t, s, cli)
	done := make(chan error, 1)
	go func() { done <- s.ln.Close() }()
	transporttest.Await(t, done, "Listener.Close with handshakes under way")
	for _, c := range silent {
		cutWithin(t, c)
	}
}

// TestTLSMaxHandshakes: past MaxHandshakes handshakes under way, a new
// connection is closed at once.
func TestTLSMaxHandshakes(t *testing.T) {
	transporttest.CheckLeaks(t)
	s, _ := tlsServer(t, tcp.Options{HandshakeTimeout: time.Hour, MaxHandshakes: 2})
	// The accept loop counts a handshake as it starts it, in the order the
	// connections were made.
	rawDial(t, s.ln.Addr())
	rawDial(t, s.ln.Addr())
	cutWithin(t, rawDial(t, s.ln.Addr()))
	noAccept(t, s)
}

// TestTLSDialHandshakeTimeout: a server that accepts and never answers the
// handshake fails Dial after HandshakeTimeout, with a hint.
func TestTLSDialHandshakeTimeout(t *testing.T) {
	transporttest.CheckLeaks(t)
	ln, err := stdnet.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, cli := transporttest.TLSConfigs(t)
	done := make(chan error, 1)
	go func() {
		_, err := tcp.New(tcp.Options{TLS: cli, HandshakeTimeout: 200 * time.Millisecond}).Dial(context.Background(), ln.Addr().String(), transport.Config{}, newSink())
		done <- err
	}()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = transporttest.Await(t, done, "Dial's error")
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "HandshakeTimeout") {
		t.Fatalf("Dial: %v; want a deadline error naming HandshakeTimeout", err)
	}
}

// TestTLSClientOfPlainServer: a TLS client of a plain listener fails Dial.
func TestTLSClientOfPlainServer(t *testing.T) {
	transporttest.CheckLeaks(t)
	s := listen(t, tcp.New(tcp.Options{}), transport.Config{})
	_, cli := transporttest.TLSConfigs(t)
	_, err := tcp.New(tcp.Options{TLS: cli}).Dial(context.Background(), s.ln.Addr(), transport.Config{}, newSink())
	if err == nil || !strings.Contains(err.Error(), "TLS handshake") {
		t.Fatalf("Dial: %v; want a TLS handshake error", err)
	}
}

// TestTLSPeerNotReadingDropped: a TLS peer that reads nothing is closed
// with ErrTooSlow after Options.WriteTimeout, as a plain one is, although a
// TLS write that timed out cannot be resumed.
func TestTLSPeerNotReadingDropped(t *testing.T) {
	transporttest.CheckLeaks(t)
	s, cli := tlsServer(t, tcp.Options{WriteTimeout: time.Second})
	raw := rawDial(t, s.ln.Addr())
	raw.SetReadBuffer(4096)
	cli.ServerName = "127.0.0.1"
	if err := tls.Client(raw, cli).Handshake(); err != nil {
		t.Fatal(err)
	}
	l, ls := s.accepted(t)
	fill(t, l)
	if err := ls.waitClosed(t); err != tcp.ErrTooSlow {
		t.Fatalf("Closed(%v), want tcp.ErrTooSlow", err)
	}
}

// TestTLSMaxHandshakesPerIP: past MaxHandshakesPerIP handshakes under way
// from one address, a new connection from it is closed at once, and other
// addresses are not held back.
func TestTLSMaxHandshakesPerIP(t *testing.T) {
	transporttest.CheckLeaks(t)
	s, cli := tlsServer(t, tcp.Options{HandshakeTimeout: time.Hour, MaxHandshakesPerIP: 1})
	from := func() stdnet.Conn {
		d := stdnet.Dialer{LocalAddr: &stdnet.TCPAddr{IP: stdnet.IPv4(127, 0, 0, 2)}}
		c, err := d.Dial("tcp", s.ln.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	from()
	cutWithin(t, from())
	noAccept(t, s)
	exchange(t, s, cli) // from 127.0.0.1
	exchange(t, s, cli) // a finished handshake gave its slot back
}
