package flow

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/message"
	"github.com/gonetic/gonetic/net/transport"
)

// Server is a dedicated flow listener: a flow server on its own address,
// serving only flows, over any network adapter (TCP by default). Incoming
// frames are handled on the adapter's goroutines, with no game loop in the
// way: it is the fast carrier for bulk data between servers.
//
// Every method is safe for concurrent use.
type Server struct {
	ep       *endpoint
	cfg      ServerConfig
	reg      *message.Factory
	listener transport.Listener

	mu     sync.Mutex // guards links and closed
	links  map[*linkSink]struct{}
	open   int // links past the handshake
	closed bool
}

// Listen starts a dedicated flow listener. Register handlers on it with
// Handle and HandleFunc (before clients call them, or they are refused
// with ErrNoHandler).
func Listen(cfg ServerConfig) (*Server, error) {
	c, err := cfg.Config.withDefaults()
	if err != nil {
		return nil, err
	}
	cfg.Config = c
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Transport == nil {
		cfg.Transport = tcp.New(tcp.Options{})
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = DefaultHandshakeTimeout
	}
	srv := &Server{ep: newEndpoint(cfg.Config), cfg: cfg, reg: linkRegistry(), links: make(map[*linkSink]struct{})}
	l, err := cfg.Transport.Listen(cfg.Addr, linkConfig, srv.accept)
	if err != nil {
		return nil, fmt.Errorf("flow: listen on %s over %s: %w", cfg.Addr, cfg.Transport.Name(), err)
	}
	srv.listener = l
	srv.ep.cfg.Logger.Info("flow: listening", "addr", l.Addr(), "transport", cfg.Transport.Name())
	return srv, nil
}

// Addr is the address the server listens on.
func (srv *Server) Addr() string { return srv.listener.Addr() }

// Handle registers a handler struct for flows opened with this name: for
// each flow, newHandler builds one with the flow and its reply channel,
// then HandleFlow runs on a goroutine of its own. A name can be
// registered once.
func (srv *Server) Handle(name string, newHandler func(f *Flow, r *Reply) Handler) error {
	return srv.ep.handle(name, newHandler)
}

// HandleFunc registers a handler function for flows opened with this
// name; it runs on a goroutine of its own, once per flow.
func (srv *Server) HandleFunc(name string, fn HandlerFunc) error {
	if fn == nil {
		return fmt.Errorf("flow: nil handler for %q", name)
	}
	return srv.ep.handle(name, fn.constructor())
}

// accept runs on the adapter's goroutine for each new link.
func (srv *Server) accept(l transport.Link) transport.Sink {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.closed || len(srv.links) >= srv.cfg.MaxConns+16 {
		return nil // the peer sees its connection close during the handshake
	}
	k := &linkSink{
		ep: srv.ep, l: l, isServer: true, srv: srv,
		w:      &linkWire{l: l, enc: srv.reg.NewEncoder()},
		dec:    srv.reg.NewDecoder(),
		closed: make(chan struct{}),
	}
	k.timer = time.AfterFunc(srv.cfg.HandshakeTimeout, func() {
		if k.session() == nil {
			srv.ep.cfg.Logger.Info("flow: handshake timed out", "remote", l.RemoteAddr())
			l.Abort()
		}
	})
	srv.links[k] = struct{}{}
	return k
}

// hello answers a client's handshake, on the link's goroutine.
func (srv *Server) hello(k *linkSink, hs any) {
	reason := ""
	m, ok := hs.(helloMsg)
	switch {
	case !ok:
		reason = "expected flow_hello"
	case m.Version != ProtocolVersion:
		reason = fmt.Sprintf("protocol version differs: client %d, server %d", m.Version, ProtocolVersion)
	case m.Codec != srv.ep.cfg.Codec.Name():
		reason = fmt.Sprintf("codec differs: client %q, server %q", m.Codec, srv.ep.cfg.Codec.Name())
	}
	srv.mu.Lock()
	if reason == "" && srv.closed {
		reason = "the server is closing"
	}
	if reason == "" && srv.open >= srv.cfg.MaxConns {
		reason = fmt.Sprintf("server full: it allows %d connections", srv.cfg.MaxConns)
	}
	if reason == "" {
		srv.open++
		k.mu.Lock()
		k.s = newSession(srv.ep, k.w, false, k.l.RemoteAddr())
		k.mu.Unlock()
	}
	srv.mu.Unlock()
	k.w.mu.Lock()
	var err error
	if reason != "" {
		err = k.w.sendMsg(&refuseMsg{Reason: reason})
	} else {
		err = k.w.sendMsg(&helloMsg{Version: ProtocolVersion, Codec: srv.ep.cfg.Codec.Name()})
	}
	k.w.mu.Unlock()
	if reason != "" || err != nil {
		srv.ep.cfg.Logger.Info("flow: refused a connection", "remote", k.l.RemoteAddr(), "reason", reason, "err", err)
		k.l.Close()
	}
}

func (srv *Server) dropLink(k *linkSink) {
	srv.mu.Lock()
	if _, ok := srv.links[k]; ok {
		delete(srv.links, k)
		if k.session() != nil {
			srv.open--
		}
	}
	srv.mu.Unlock()
}

// Shutdown refuses new flows, waits until the running flows have ended or
// ctx is done, then closes the server.
func (srv *Server) Shutdown(ctx context.Context) error {
	idle := srv.ep.drain()
	var err error
	select {
	case <-idle:
	case <-ctx.Done():
		err = fmt.Errorf("flow: shutdown: %w", ctx.Err())
	}
	srv.Close()
	return err
}

// Close ends every flow at once (clients are told the server is
// closing), closes every connection and waits for the server's goroutines:
// handlers must return once their Flow's context is done. Idempotent.
func (srv *Server) Close() error {
	if !srv.ep.shut() {
		return nil
	}
	srv.mu.Lock()
	srv.closed = true
	links := make([]*linkSink, 0, len(srv.links))
	for k := range srv.links {
		links = append(links, k)
	}
	srv.mu.Unlock()
	for _, k := range links {
		if s := k.session(); s != nil {
			s.closeFlows(CodeClosing, "the server closed")
		}
	}
	err := srv.listener.Close() // closes the links gracefully and waits for them
	srv.ep.wait()
	return err
}
