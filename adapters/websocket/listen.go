//go:build !js

package websocket

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"log"
	stdnet "net"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/gonetic/gonetic/net/transport"
)

// errNoListener is the body of the 503 that ServeHTTP answers while no
// listener is mounted.
const errNoListener = "websocket: no gonetic listener is mounted on this handler; the server is not started or has stopped"

// Listen accepts WebSockets and calls accept, on the goroutine of the
// upgrade, for every one; a link the Accept refuses is closed at once.
//
// With addr "host:port" (port 0 picks a free one) the listener runs an
// http.Server of its own on addr that upgrades requests on every path,
// over TLS (wss) with Options.TLS; its ReadHeaderTimeout of 10 s bounds
// the TLS handshake too.
// With addr "" it binds nothing: upgrades reach it through the Transport's
// ServeHTTP, which the game mounts in its own server, so that one address
// serves both its pages and its players. A Transport has at most one such
// mounted listener at a time; a second Listen("") fails until the first is
// closed. Safe to call from any goroutine.
func (t *Transport) Listen(addr string, cfg transport.Config, accept transport.Accept) (transport.Listener, error) {
	if accept == nil {
		return nil, errors.New("websocket: Listen needs a non-nil Accept")
	}
	cfg, err := checkConfig(cfg)
	if err != nil {
		return nil, err
	}
	l := &listener{
		t:      t,
		cfg:    cfg,
		opts:   t.opts,
		accept: accept,
		links:  make(map[*link]struct{}),
		acceptOpts: &websocket.AcceptOptions{
			OriginPatterns: t.opts.OriginPatterns,
		},
	}
	if addr == "" {
		t.mount.mu.Lock()
		defer t.mount.mu.Unlock()
		if t.mount.l != nil {
			return nil, errors.New("websocket: this Transport's ServeHTTP already serves a listener; close it first, or use another Transport for a second mounted listener")
		}
		t.mount.l = l
		return l, nil
	}
	conf := t.opts.TLS
	if conf != nil && len(conf.Certificates) == 0 && conf.GetCertificate == nil && conf.GetConfigForClient == nil {
		return nil, errors.New("websocket: Options.TLS has no certificate for Listen: set its Certificates (tls.LoadX509KeyPair) or GetCertificate")
	}
	ln, err := stdnet.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	l.ln = ln
	l.srv = &http.Server{
		Handler:           http.HandlerFunc(l.serve),
		ReadHeaderTimeout: 10 * time.Second, // a client that never finishes its request
		ErrorLog:          log.New(io.Discard, "", 0),
		TLSConfig:         conf,
		// No HTTP/2: WebSockets upgrade HTTP/1.1 connections only.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		if conf != nil {
			_ = l.srv.ServeTLS(ln, "", "")
		} else {
			_ = l.srv.Serve(ln)
		}
	}()
	return l, nil
}

// ServeHTTP upgrades r to a WebSocket for the listener of Listen(""),
// which the game mounts where its clients connect:
//
//	mux.Handle("/play", ws) // ws := websocket.New(websocket.Options{})
//
// It answers 503 Service Unavailable while no such listener is open, 403
// Forbidden to a page of another origin (see Options.OriginPatterns) and
// 426 Upgrade Required to a request that is not a WebSocket handshake.
// Called by net/http, on any goroutine.
func (t *Transport) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t.mount.mu.Lock()
	l := t.mount.l
	t.mount.mu.Unlock()
	if l == nil {
		http.Error(w, errNoListener, http.StatusServiceUnavailable)
		return
	}
	l.serve(w, r)
}

// listener hands the WebSockets it upgrades to its Accept and keeps the
// links until they are over.
type listener struct {
	t          *Transport
	cfg        transport.Config
	opts       Options
	accept     transport.Accept
	acceptOpts *websocket.AcceptOptions
	ln         stdnet.Listener // nil when mounted
	srv        *http.Server    // nil when mounted
	wg         sync.WaitGroup  // the server, upgrades in progress and live links

	mu     sync.Mutex // guards closed and links
	closed bool
	links  map[*link]struct{}

	once sync.Once
	err  error // from closing the socket; set once
}

// Addr is the bound "host:port", or "" for a mounted listener.
func (l *listener) Addr() string {
	if l.ln == nil {
		return ""
	}
	return l.ln.Addr().String()
}

// Close stops accepting, closes every live link gracefully and waits for
// the goroutines of the listener and its links, which includes waiting for
// Sinks blocked in Receive. A mounted listener's Transport answers 503
// from then on, until the next Listen(""). Safe to call from any goroutine
// but a Sink or the Accept; idempotent.
func (l *listener) Close() error {
	l.once.Do(func() {
		l.t.mount.mu.Lock()
		if l.t.mount.l == l {
			l.t.mount.l = nil
		}
		l.t.mount.mu.Unlock()
		l.mu.Lock()
		l.closed = true
		live := make([]*link, 0, len(l.links))
		for k := range l.links {
			live = append(live, k)
		}
		l.mu.Unlock()
		if l.srv != nil {
			// Closes the socket and the connections not yet upgraded.
			l.err = l.srv.Close()
		}
		for _, k := range live {
			k.Close()
		}
		l.wg.Wait()
	})
	return l.err
}

// serve upgrades one request and hands the link to the Accept.
func (l *listener) serve(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		http.Error(w, errNoListener, http.StatusServiceUnavailable)
		return
	}
	l.wg.Add(1) // given back when the link is over, or now if there is none
	l.mu.Unlock()
	hw := &hijackWriter{ResponseWriter: w}
	ws, err := websocket.Accept(hw, r, l.acceptOpts)
	if err != nil { // Accept has answered the request
		l.wg.Done()
		return
	}
	k := newLink(&conn{ws: ws, raw: hw.raw, remote: r.RemoteAddr}, l.cfg, l.opts, false)
	k.onDone = func() { l.remove(k) }
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		k.refuse()
		return
	}
	l.links[k] = struct{}{}
	l.mu.Unlock()
	sink := l.accept(k)
	if sink == nil {
		k.refuse()
		return
	}
	k.start(sink)
}

func (l *listener) remove(k *link) {
	l.mu.Lock()
	delete(l.links, k)
	l.mu.Unlock()
	l.wg.Done()
}

// hijackWriter hands coder/websocket the hijacked connection as a
// corkConn, and keeps it, so that the link can batch its writes and close
// it at once.
type hijackWriter struct {
	http.ResponseWriter
	raw *corkConn
}

func (w *hijackWriter) Hijack() (stdnet.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if err := brw.Writer.Flush(); err != nil { // net/http has sent the 101 already
		c.Close()
		return nil, nil, err
	}
	w.raw = &corkConn{Conn: c}
	brw.Writer = bufio.NewWriterSize(w.raw, 4<<10)
	return w.raw, brw, nil
}

// Unwrap lets http.ResponseController reach the writer below.
func (w *hijackWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// mount is the listener of Listen(""), which ServeHTTP serves.
type mount struct {
	mu sync.Mutex // guards l
	l  *listener  // nil while none is open
}

// refuse ends a link that never started.
func (l *link) refuse() {
	l.shutdown()
	l.c.release()
	if l.onDone != nil {
		l.onDone()
	}
}
