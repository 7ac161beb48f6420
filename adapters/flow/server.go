package flow

import (
	"context"
	"fmt"
	stdnet "net"
	"sync"
	"time"

	"github.com/gonetic/gonetic/message"
	"github.com/gonetic/gonetic/net/transport"
)

// Server is a dedicated flow listener: a flow server on its own address,
// serving only flows. Frames are handled on the connection's own
// goroutines, with no game loop in the way. Over the package's own TCP
// sockets (the default) chunks go from socket to handler without a copy:
// it is the carrier for bulk data between servers; over a network adapter
// (ServerConfig.Transport) the adapter's reader copies each chunk once.
//
// Every method is safe for concurrent use.
type Server struct {
	ep  *endpoint
	cfg ServerConfig
	reg *message.Factory
	ln  *stdnet.TCPListener  // without a Transport
	tln transport.Listener // with a Transport

	mu     sync.Mutex // guards links, open and closed
	links  map[link]*serverConn
	open   int // connections past the handshake
	closed bool
	accept chan struct{} // closed when the accept loop returns
}

// serverConn is one accepted connection's state.
type serverConn struct {
	s     *session // set once the handshake is done; guarded by Server.mu
	timer *time.Timer
}

// Listen starts a dedicated flow listener. Register handlers with Handle
// and HandleFunc before clients call them, or their flows are refused with
// ErrNoHandler.
func Listen(cfg ServerConfig) (*Server, error) {
	c, err := cfg.Config.withDefaults(DefaultWindow, DefaultChunkSize, 0)
	if err != nil {
		return nil, err
	}
	cfg.Config = c
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = DefaultHandshakeTimeout
	}
	srv := &Server{
		ep: newEndpoint(cfg.Config), cfg: cfg, reg: linkRegistry(),
		links: make(map[link]*serverConn), accept: make(chan struct{}),
	}
	if t := cfg.Transport; t != nil {
		tln, err := t.Listen(cfg.Addr, transportConfig(), srv.acceptLink)
		if err != nil {
			return nil, fmt.Errorf("flow: listen on %s over %s: %w", cfg.Addr, t.Name(), err)
		}
		srv.tln = tln
		close(srv.accept) // the adapter accepts
	} else {
		ln, err := stdnet.Listen("tcp", cfg.Addr)
		if err != nil {
			return nil, fmt.Errorf("flow: listen on %s: %w", cfg.Addr, err)
		}
		srv.ln = ln.(*stdnet.TCPListener)
		go srv.acceptLoop()
	}
	srv.ep.cfg.Logger.Info("flow: listening", "addr", srv.Addr())
	return srv, nil
}

// Addr is the address the server listens on: "host:port", or the
// Transport's address form.
func (srv *Server) Addr() string {
	if srv.tln != nil {
		return srv.tln.Addr()
	}
	return srv.ln.Addr().String()
}

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

func (srv *Server) acceptLoop() {
	defer close(srv.accept)
	var delay time.Duration
	for {
		c, err := srv.ln.AcceptTCP()
		if err != nil {
			srv.mu.Lock()
			closed := srv.closed
			srv.mu.Unlock()
			if closed {
				return
			}
			// Out of file descriptors and the like: back off, as net/http.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			srv.ep.cfg.Logger.Warn("flow: accept", "err", err, "retry in", delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		l := newTCPLink(c, srv.ep, srv.reg)
		if !srv.track(l, &l.receive, &l.closed) {
			c.Close() // the peer sees its connection close during the handshake
			continue
		}
		l.start()
	}
}

// acceptLink takes a link from the Transport's listener.
func (srv *Server) acceptLink(tl transport.Link) transport.Sink {
	if _, lossy := tl.(transport.Lossy); lossy {
		srv.ep.cfg.Logger.Warn("flow: refused a lossy link", "remote", tl.RemoteAddr(), "err", errLossy(srv.cfg.Transport.Name()))
		return nil
	}
	l := newTransLink(srv.ep, srv.reg, tl)
	if !srv.track(l, &l.receive, &l.closed) {
		return nil // the adapter closes it
	}
	return l
}

// track counts a new connection, arms its handshake timeout and sets its
// receive and closed functions; it reports false when the server is
// closing or has too many connections.
func (srv *Server) track(l link, receive *func(*frame, any), closed *func(error)) bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.closed || len(srv.links) >= srv.cfg.MaxConns+16 {
		return false
	}
	sc := &serverConn{}
	srv.links[l] = sc
	sc.timer = time.AfterFunc(srv.cfg.HandshakeTimeout, func() {
		srv.mu.Lock()
		pending := sc.s == nil
		srv.mu.Unlock()
		if pending {
			srv.ep.cfg.Logger.Info("flow: handshake timed out", "remote", l.remoteAddr())
			l.abort()
		}
	})
	*receive = func(fr *frame, hs any) { srv.receive(l, sc, fr, hs) }
	*closed = func(err error) { srv.closed1(l, sc, err) }
	return true
}

// receive takes a frame from a connection's reader goroutine.
func (srv *Server) receive(l link, sc *serverConn, fr *frame, hs any) {
	srv.mu.Lock()
	s := sc.s
	srv.mu.Unlock()
	switch {
	case s != nil && fr != nil:
		s.receive(fr)
	case s == nil && hs != nil:
		srv.hello(l, sc, hs)
	default:
		srv.ep.cfg.Logger.Info("flow: frame out of place; closing the connection", "remote", l.remoteAddr())
		l.abort()
	}
}

// hello answers a client's handshake.
func (srv *Server) hello(l link, sc *serverConn, hs any) {
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
		reason = fmt.Sprintf("server full: it allows %d connections (ServerConfig.MaxConns)", srv.cfg.MaxConns)
	}
	if reason == "" {
		srv.open++
		sc.s = newSession(srv.ep, l, false, l.remoteAddr())
		sc.timer.Stop()
	}
	srv.mu.Unlock()
	if reason != "" {
		srv.ep.cfg.Logger.Info("flow: refused a connection", "remote", l.remoteAddr(), "reason", reason)
		_ = l.sendMsg(&refuseMsg{Reason: reason})
		l.close()
		return
	}
	if err := l.sendMsg(&helloMsg{Version: ProtocolVersion, Codec: srv.ep.cfg.Codec.Name()}); err != nil {
		l.abort()
	}
}

// closed1 runs when a connection is over.
func (srv *Server) closed1(l link, sc *serverConn, err error) {
	sc.timer.Stop()
	srv.mu.Lock()
	s := sc.s
	delete(srv.links, l)
	if s != nil {
		srv.open--
	}
	srv.mu.Unlock()
	if s != nil {
		s.lost(err)
	}
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
	links := make(map[link]*session, len(srv.links))
	for l, sc := range srv.links {
		links[l] = sc.s
	}
	srv.mu.Unlock()
	var err error
	if srv.ln != nil {
		err = srv.ln.Close()
	}
	<-srv.accept
	for l, s := range links {
		if s != nil {
			s.closeFlows(CodeClosing, "the server closed")
		}
		l.close()
	}
	for l := range links {
		<-l.finished()
	}
	// An adapter's listener closes the links it still holds: only after
	// they were told why, above. No link is accepted meanwhile (closed).
	if srv.tln != nil {
		err = srv.tln.Close()
	}
	srv.ep.wait()
	return err
}
