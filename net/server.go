package net

import (
	"context"
	"fmt"
	"time"

	"github.com/gonetic/gonetic/message"
	"github.com/gonetic/gonetic/net/transport"
)

// Server accepts connections and gives each one its own handler.
//
// Update, Poll, On and the handlers run on the game's goroutine, one at a
// time. Connections, Handlers, Broadcast, Addr, Shutdown and Close may be
// called from any goroutine.
type Server struct {
	e        *endpoint
	cfg      ServerConfig
	listener transport.Listener
	enc      *message.Encoder // guarded by bmu
	bmu      chan struct{}    // one-slot lock for Broadcast's encoder
	buf      []byte
}

// Listen starts a server.
func Listen(cfg ServerConfig) (*Server, error) {
	e, err := newEndpoint(cfg.Config)
	if err != nil {
		return nil, err
	}
	cfg.Config = e.cfg
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	s := &Server{e: e, cfg: cfg, enc: e.factory.NewEncoder(), bmu: make(chan struct{}, 1)}
	e.server = s
	e.isServer = true
	l, err := cfg.Transport.Listen(cfg.Addr, e.tcfg, s.accept)
	if err != nil {
		return nil, fmt.Errorf("gonetic: listen on %s over %s: %w", cfg.Addr, cfg.Transport.Name(), err)
	}
	s.listener = l
	if p, ok := l.(transport.Poller); ok {
		e.addPoller(p)
	}
	e.log.Info("gonetic: listening", "addr", l.Addr(), "transport", cfg.Transport.Name(), "codec", e.factory.Codec().Name())
	return s, nil
}

func (s *Server) endpoint() *endpoint { return s.e }

// Factory is the server's message registry.
func (s *Server) Factory() *message.Factory { return s.e.factory }

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.listener.Addr() }

// accept runs on an adapter goroutine for each new link.
func (s *Server) accept(l transport.Link) transport.Sink {
	if s.e.closed.Load() {
		return nil
	}
	// Bound half-open links too: each costs goroutines and buffers.
	if s.e.live() >= s.cfg.MaxConns+64 {
		return nil
	}
	c := s.e.newConn(l.RemoteAddr(), Handshaking)
	c.link = l
	c.deadline = time.Now().Add(s.cfg.HandshakeTimeout)
	s.e.inbox.push(c, itemOpened, 0, nil)
	return (*connSink)(c)
}

// hello answers a client's handshake.
func (s *Server) hello(c *Conn, h control) {
	s.e.dropHandshaking(c)
	reason := checkHello(s.e.factory, h)
	if reason == "" && len(s.e.open) >= s.cfg.MaxConns {
		reason = fmt.Sprintf("server full: it allows %d connections", s.cfg.MaxConns)
	}
	if reason != "" {
		s.refuse(c, reason)
		return
	}
	var hnd any
	if s.cfg.NewHandler != nil {
		hnd = s.cfg.NewHandler()
	}
	if err := s.e.bind(c, hnd); err != nil {
		s.refuse(c, "the server's handler is broken")
		s.e.log.Error("gonetic: cannot attach handler", "err", err)
		return
	}
	c.mu.Lock()
	err := c.sendControl(control{kind: ctlWelcome, version: ProtocolVersion})
	c.mu.Unlock()
	if err != nil {
		s.e.fail(c, err)
		return
	}
	s.e.log.Info("gonetic: accepted", "conn", c.String())
	s.e.opened(c)
}

// refuse tells a handshaking peer why it is refused and closes the link.
func (s *Server) refuse(c *Conn, reason string) {
	s.e.log.Info("gonetic: refused", "addr", c.addr, "reason", reason)
	c.mu.Lock()
	if c.state == Handshaking {
		c.state = Closing
		c.reason = reason
		_ = c.sendControl(control{kind: ctlRefuse, reason: reason})
		c.link.Close()
	}
	c.mu.Unlock()
	if s.e.events != nil {
		s.e.events.Push(Refused{Addr: c.addr, Reason: fmt.Errorf("%w: %s", ErrRefused, reason)})
	}
}

// Update waits at most timeout for network activity (0: never waits),
// then delivers everything that arrived: handler methods run now, on the
// calling goroutine, and events are queued for Poll. Call it every frame.
func (s *Server) Update(timeout time.Duration) error { return s.e.update(timeout) }

// Poll returns the next event, or false when there is none (or events are
// off: see Config.EventQueue). It allocates nothing.
func (s *Server) Poll() (Event, bool) { return s.e.poll() }

// Connections returns the open connections, except exclude (which may be
// nil), in the order they opened.
func (s *Server) Connections(exclude *Conn) []*Conn { return s.e.connections(exclude) }

// Handlers returns the handlers of the open connections, except exclude's.
func (s *Server) Handlers(exclude *Conn) []any {
	conns := s.e.connections(exclude)
	out := make([]any, 0, len(conns))
	for _, c := range conns {
		if h := c.Handler(); h != nil {
			out = append(out, h)
		}
	}
	return out
}

// Broadcast sends msg to every open connection except exclude (which may
// be nil). It encodes once. It returns the first error of a connection, if
// any, after trying all of them.
func (s *Server) Broadcast(msg any, exclude *Conn) error {
	s.bmu <- struct{}{}
	defer func() { <-s.bmu }()
	buf, t, err := s.enc.Encode(s.buf[:0], msg)
	s.buf = buf
	if err != nil {
		return err
	}
	var first error
	s.e.mu.Lock()
	conns := s.e.open
	s.e.mu.Unlock()
	for _, c := range conns {
		if c == exclude {
			continue
		}
		if err := c.sendEncoded(t, buf); err != nil && first == nil {
			first = fmt.Errorf("gonetic: broadcast to %v: %w", c, err)
		}
	}
	return first
}

// Shutdown stops accepting, disconnects every connection with reason
// (queued messages are delivered first) and runs Update until all of them
// have ended or ctx is done; then it closes the server. Call it from the
// goroutine that calls Update: handlers get their OnDisconnect.
func (s *Server) Shutdown(ctx context.Context, reason string) error {
	return s.e.shutdown(ctx, reason, s.Close)
}

// Close closes the server at once: connections are dropped without
// delivering what is queued and handlers are not called. It waits for the
// server's goroutines and is idempotent.
func (s *Server) Close() error {
	s.e.closeOnce.Do(func() {
		s.e.closed.Store(true)
		s.e.abortAll()
		_ = s.listener.Close()
		s.e.wg.Wait()
		s.e.timer.Stop()
	})
	return nil
}
