package net

import (
	"context"
	"errors"
	"fmt"
	"iter"
	stdnet "net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gonetic/gonetic/handler"
	"github.com/gonetic/gonetic/message"
	"github.com/gonetic/gonetic/net/transport"
	"github.com/gonetic/gonetic/token"
)

// Server accepts connections and gives each one its own handler.
//
// Update, Poll and On are for one goroutine, the game loop's, and the
// handlers run there, inside Update (or inside Shutdown, one at a time with
// Update). Every other method may be called from any goroutine.
type Server struct {
	e           *endpoint
	cfg         ServerConfig
	addr        string           // the first listener's, which Listen bound
	lmu         sync.Mutex       // guards listeners against AddListener and Close
	listeners   []listening      // every listener, the first from Listen
	enc         *message.Encoder // guarded by bmu
	bmu         chan struct{}    // one-slot lock for SendTo's encoder
	buf         []byte           // guarded by bmu, as sendT and sendErr
	sendT       *message.Type    // the type SendTo sends
	sendErr     error            // SendTo's first error
	sendOne     func(*Conn) bool // s.sendOneTo
	next        any              // the handler of the next connection, from Listen; Update only
	refusing    atomic.Int64     // links being refused in accept
	fullRefusal []byte           // the refuse payload for "server full"
	busyRefusal []byte           // the refuse payload for too many handshakes from one host
	hmu         sync.Mutex       // guards halfOpen
	halfOpen    map[string]int   // links in their handshake, by the peer's host
	guard       *token.Guard     // with Tokens: where each token is used from
}

// Listen starts a server. It checks the handler that NewHandler returns
// (see package handler) and fails, before it listens, if one of its
// methods cannot be bound.
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
	var guard *token.Guard
	if t := cfg.Tokens; t != nil {
		switch {
		case t.Key == token.Key{}:
			e.cancel()
			return nil, errors.New("gonetic: ServerConfig.Tokens.Key is zero; give it the key the backend issues tokens with (token.ParseKey)")
		case t.Server == "":
			e.cancel()
			return nil, errors.New("gonetic: ServerConfig.Tokens.Server is empty; give it this server's address as the backend lists it in tokens")
		}
		tc := *t
		if tc.GuardSize <= 0 {
			tc.GuardSize = 16 * cfg.MaxConns
		}
		cfg.Tokens = &tc
		guard = token.NewGuard(tc.GuardSize)
	}
	enc := e.factory.NewEncoder()
	enc.SetDirection(message.ServerToClient)
	s := &Server{e: e, cfg: cfg, enc: enc, bmu: make(chan struct{}, 1), guard: guard}
	s.sendOne = s.sendOneTo
	if cfg.NewHandler != nil {
		// Checked now, and kept for the first connection: NewHandler runs
		// once per connection, as documented.
		s.next = cfg.NewHandler()
		if _, err := handler.Bind(s.next, e.factory); err != nil {
			e.cancel()
			return nil, fmt.Errorf("gonetic: ServerConfig.NewHandler: %w", err)
		}
	}
	s.fullRefusal = appendControl(ctlCodec.NewWriter(), nil, control{kind: ctlRefuse, reason: s.fullReason()})
	s.busyRefusal = appendControl(ctlCodec.NewWriter(), nil, control{kind: ctlRefuse, reason: busyReason})
	s.halfOpen = make(map[string]int)
	e.server = s
	addr, err := s.AddListener(cfg.Transport, cfg.Addr)
	if err != nil {
		e.cancel()
		return nil, err
	}
	s.addr = addr
	return s, nil
}

// listening is one of a server's listeners and the adapter it belongs to.
type listening struct {
	t transport.Transport
	l transport.Listener
}

// AddListener makes the server accept connections over t on addr too,
// besides its ServerConfig.Transport and Addr: for example ENet for
// native clients and adapters/websocket for browsers. Every connection,
// whichever listener it came through, has the same handlers, counts
// towards the one MaxConns, is reached by Broadcast and SendTo, and sends
// and receives the same messages; the peer's adapter must be t's. It
// returns the address bound, "host:port", as t's listener reports it (an
// adapter that binds no socket of its own, as a WebSocket handler
// mounted in an http.Server, reports ""). Close closes every listener.
// AddListener may be called from any goroutine; it fails with ErrClosed
// once the server is closed or shutting down.
func (s *Server) AddListener(t transport.Transport, addr string) (string, error) {
	if t == nil {
		return "", errors.New("gonetic: AddListener: the transport is nil; pass an adapter such as tcp.New(tcp.Options{})")
	}
	s.lmu.Lock()
	defer s.lmu.Unlock()
	if s.e.closed.Load() || s.e.shuttingDown.Load() {
		return "", ErrClosed
	}
	l, err := t.Listen(addr, s.e.tcfg, s.accept)
	if err != nil {
		return "", fmt.Errorf("gonetic: listen on %s over %s: %w", addr, t.Name(), err)
	}
	s.listeners = append(s.listeners, listening{t, l})
	if p, ok := l.(transport.Poller); ok {
		s.e.addPoller(p)
	}
	where := l.Addr()
	if where == "" {
		where = "(no port of its own: served through the game's HTTP server)"
	}
	s.e.log.Info("gonetic: listening", "addr", where, "transport", t.Name(), "codec", s.e.factory.Codec().Name())
	return l.Addr(), nil
}

// Connect starts connecting to another gonetic server at addr over t (an
// adapter, as AddListener's; it need not be one the server listens with,
// and may be a transport.Poller such as ENet's), and returns the
// connection at once, in state Connecting. The outcome arrives through
// Update as Client.Connect's does: h's OnConnect and a Connected event
// once the remote server welcomed it, or OnDisconnect and a Disconnected
// event with the reason if it failed or was refused (a DisconnectError
// wrapping ErrRefused, with the remote server's reason). h is the
// connection's handler (see package handler), or nil; ServerConfig's
// NewHandler is not used for it, and h's Handler.Server is this server.
// opts are Client.Connect's: WithHello data reaches the remote server's
// Approve, WithToken seals the connection.
//
// The dialed connection plays the client's part of the handshake, and
// towards the remote server it is a client like any other. Once open it is
// one of this server's connections: it counts in NumConns, Connections,
// Handlers, SendTo and Broadcast, is pinged and timed out as the others,
// and Close and Shutdown end it (and cancel it while it is still
// connecting). It does not count towards MaxConns, which bounds the
// connections the server accepts. As a client's, it sends the types
// registered both ways or client to server (message.SentBy), and receives
// those registered both ways or server to client. SendTo and Broadcast
// send as the server: a server-to-client type goes to no dialed
// connection, and their error names it (the others still get the
// message).
//
// Connect may be called from any goroutine; it fails with ErrClosed once
// Close or Shutdown began.
func (s *Server) Connect(t transport.Transport, addr string, h any, opts ...ConnectOption) (*Conn, error) {
	if t == nil {
		return nil, errors.New("gonetic: Server.Connect: the transport is nil; pass an adapter such as tcp.New(tcp.Options{})")
	}
	return s.e.connect(t, addr, h, opts)
}

func (s *Server) endpoint() *endpoint { return s.e }

// Factory is the server's message registry.
func (s *Server) Factory() *message.Factory { return s.e.factory }

// Addr is the address the server listens on with ServerConfig.Transport
// (AddListener returns the addresses of the others).
func (s *Server) Addr() string { return s.addr }

// Now is the server's clock: the time its clients' Conn.ServerTime
// estimates, and what a snapshot should be stamped with (game.Run ticks
// on it). It may be called from any goroutine.
func (s *Server) Now() time.Time { return time.Unix(0, s.e.now()) }

// accept runs on an adapter goroutine for each new link.
func (s *Server) accept(l transport.Link) transport.Sink {
	if s.e.closed.Load() {
		return nil
	}
	// Bound half-open links too: each costs goroutines and buffers. Past
	// the bound a link is told "server full" at once, without waiting for
	// its hello, so that a well-behaved client learns why; past a second
	// bound on those refusals in progress it is dropped without a word.
	// One host may hold only maxHalfOpenPerHost of them, so that one
	// address cannot take the room of everyone else's handshakes.
	host := hostOf(l.RemoteAddr())
	switch {
	case s.e.acceptedLive() >= s.cfg.MaxConns+maxHalfOpen:
		return s.refuseAtOnce(l, s.fullRefusal)
	case !s.enterHandshake(host):
		return s.refuseAtOnce(l, s.busyRefusal)
	}
	c := s.e.newConn(l.RemoteAddr(), Handshaking, false)
	// Under c.mu: newConn made c visible, and Close may abort it now.
	c.mu.Lock()
	c.link = l
	c.halfOpenHost = host
	c.deadline = time.Now().Add(s.cfg.HandshakeTimeout)
	c.mu.Unlock()
	s.e.inbox.push(c, itemOpened, 0, nil)
	return (*connSink)(c)
}

// refuseAtOnce refuses a link in accept, before its hello, with a
// prepared refuse payload; past maxRefusing refusals in progress it is
// dropped without a word.
func (s *Server) refuseAtOnce(l transport.Link, refusal []byte) transport.Sink {
	if s.refusing.Add(1) > maxRefusing {
		s.refusing.Add(-1)
		return nil
	}
	_ = l.Send(0, transport.Reliable, refusal)
	l.Close()
	return (*refusedSink)(&s.refusing)
}

// Bounds of accept: links in their handshake beyond MaxConns, links in
// their handshake from one host, and links being refused at once beyond
// those. One host may hold no more handshakes than the room beyond
// MaxConns, so that it alone never keeps others out of a server with
// room; a host behind which many players connect at once (a NAT, a load
// test) stays well within it.
const (
	maxHalfOpen        = 64
	maxHalfOpenPerHost = maxHalfOpen
	maxRefusing        = 1024
)

// busyReason is the refusal of a link beyond maxHalfOpenPerHost.
var busyReason = fmt.Sprintf("too many connections in their handshake from your address (at most %d at once); try again in a moment", maxHalfOpenPerHost)

// hostOf is the part of a peer's address that names its machine: the IP
// of "ip:port"; the peer of "peer/link", as adapters without IP
// addresses name their links (adapters/nats: the dialer, then its link);
// else the whole address (adapters/mem).
func hostOf(addr string) string {
	if host, _, err := stdnet.SplitHostPort(addr); err == nil {
		return host
	}
	if peer, _, ok := strings.Cut(addr, "/"); ok {
		return peer
	}
	return addr
}

// enterHandshake counts a new link from host, unless host already has
// maxHalfOpenPerHost in their handshake. Any goroutine.
func (s *Server) enterHandshake(host string) bool {
	s.hmu.Lock()
	defer s.hmu.Unlock()
	if s.halfOpen[host] >= maxHalfOpenPerHost {
		return false
	}
	s.halfOpen[host]++
	return true
}

// leftHandshake stops counting c among its host's handshakes, once: when
// it opens, is refused, or its link ends. Update's goroutine.
func (s *Server) leftHandshake(c *Conn) {
	if c.halfOpenHost == "" {
		return
	}
	s.hmu.Lock()
	if s.halfOpen[c.halfOpenHost]--; s.halfOpen[c.halfOpenHost] <= 0 {
		delete(s.halfOpen, c.halfOpenHost)
	}
	s.hmu.Unlock()
	c.halfOpenHost = ""
}

// refusedSink is the Sink of a link refused in accept: what arrives is
// dropped, and the end of the link frees its place in the count of
// refusals in progress.
type refusedSink atomic.Int64

func (r *refusedSink) Receive(uint8, []byte) {}
func (r *refusedSink) Closed(error)          { (*atomic.Int64)(r).Add(-1) }

// fullReason is the reason of a refusal for want of room.
func (s *Server) fullReason() string {
	if s.cfg.MaxConns == 1 {
		return "server full: it allows 1 connection"
	}
	return fmt.Sprintf("server full: it allows %d connections", s.cfg.MaxConns)
}

// hello answers a client's handshake.
func (s *Server) hello(c *Conn, h control) {
	if c.approving {
		s.e.fail(c, errors.New("gonetic: unexpected hello message"))
		return
	}
	reason := checkHello(s.e.factory, h)
	if reason == "" && len(h.data) > MaxHelloBytes {
		reason = helloTooBig(len(h.data))
	}
	var grant *token.Grant
	if reason == "" {
		reason, grant = s.checkToken(c, h)
	}
	if reason == "" && s.e.acceptedOpen() >= s.cfg.MaxConns {
		reason = s.fullReason()
	}
	if reason != "" {
		s.e.dropHandshaking(c)
		s.refuse(c, reason)
		return
	}
	if grant != nil {
		if err := s.startSession(c, grant, h.random); err != nil {
			s.e.fail(c, err)
			return
		}
	}
	switch {
	case s.cfg.Approve != nil:
		s.approve(c, Hello{Addr: c.addr, Data: h.data, Grant: grant})
	case grant != nil:
		s.admit(c, grant)
	default:
		s.admit(c, nil)
	}
}

// admit opens a connection whose hello passed: it gets its handler and
// identity, and the client its welcome.
func (s *Server) admit(c *Conn, identity any) {
	if c.rx.Load() != nil && !c.heardSealed.Load() {
		// A sealed connection opens once the client showed that it holds
		// the token's keys, not only its ticket, which travels in clear
		// and can be copied: the welcome, and OnConnect, wait for the
		// client's first sealed payload (proven). Over ENet that payload
		// also shows that the client receives at its address.
		c.awaitingProof, c.provenIdentity = true, identity
		return
	}
	s.e.dropHandshaking(c)
	if s.e.acceptedOpen() >= s.cfg.MaxConns { // others opened during its approval
		s.refuse(c, s.fullReason())
		return
	}
	hnd := s.next
	s.next = nil
	if hnd == nil && s.cfg.NewHandler != nil {
		hnd = s.cfg.NewHandler()
	}
	if err := s.e.bind(c, hnd); err != nil {
		// Listen checked a handler of NewHandler's; this one differs.
		s.refuse(c, "the server's handler is broken")
		s.e.log.Error("gonetic: cannot attach handler", "err", err)
		return
	}
	c.mu.Lock()
	c.identity = identity
	err := c.sendControl(control{kind: ctlWelcome, version: ProtocolVersion})
	c.mu.Unlock()
	if err != nil {
		s.e.fail(c, err)
		return
	}
	s.e.log.Info("gonetic: accepted", "conn", c.String())
	s.e.opened(c)
}

// proven admits a connection that Approve accepted before its client's
// first sealed payload came (admit).
func (s *Server) proven(c *Conn) {
	if !c.awaitingProof || c.State() != Handshaking {
		return
	}
	identity := c.provenIdentity
	c.awaitingProof, c.provenIdentity = false, nil
	s.admit(c, identity)
}

// refuse tells a handshaking peer why it is refused and closes the link.
// Before the peer showed it receives at its address (Conn.receives), the
// refusal is no longer than what came from it, its reason cut to fit: a
// hello with a forged source address must not make the server send its
// victim more than the forger sent.
func (s *Server) refuse(c *Conn, reason string) {
	reason = cutReason(reason)
	s.e.log.Info("gonetic: refused", "addr", c.addr, "reason", reason)
	c.mu.Lock()
	if c.state == Handshaking {
		c.state = Closing
		c.reason = reason
		told := reason
		if !c.receives() {
			told = s.fitReason(c, reason)
		}
		_ = c.sendControl(control{kind: ctlRefuse, reason: told})
		if q, ok := c.link.(transport.QuietCloser); ok && !c.receives() {
			q.CloseQuiet()
		} else {
			c.link.Close()
		}
	}
	c.mu.Unlock()
	if s.e.events != nil {
		s.e.events.Push(Refused{Addr: c.addr, Reason: fmt.Errorf("%w: %s", ErrRefused, reason)})
	}
}

// fitReason cuts a refusal's reason so that the refusal, sealed or not, is
// no longer than the peer sent beyond what it was sent already
// (Conn.owed); an empty reason when nothing is left. c.mu is held.
func (s *Server) fitReason(c *Conn, reason string) string {
	return cutReasonTo(reason, c.owed()-replyOverhead)
}

// Update waits at most timeout for network activity (0: never waits),
// then delivers everything that arrived: handler methods run now, on the
// calling goroutine, and events are queued for Poll. Call it every frame.
// An adapter that can (ENet: see its package doc) does its network work
// in Update too, so that what reached the socket by then is delivered, and
// sends then what was sent since the last Update; what is sent between
// two Updates leaves at the next one, or within a millisecond.
func (s *Server) Update(timeout time.Duration) error { return s.e.update(timeout) }

// Poll returns the next event, or false when there is none (or events are
// off: see Config.EventQueue). It allocates nothing.
func (s *Server) Poll() (Event, bool) { return s.e.poll() }

// NumConns is the number of open connections, those the server dialed
// (Connect) included.
func (s *Server) NumConns() int {
	return s.e.numOpen()
}

// Connections yields the open connections, except exclude (which may be
// nil), in the order they opened. It ranges over the connections open when
// it starts, without holding a lock: the loop body may send, disconnect or
// call Update. It allocates nothing per connection.
func (s *Server) Connections(exclude *Conn) iter.Seq[*Conn] { return s.e.connections(exclude) }

// Handlers yields the handlers of the open connections, except exclude's,
// as Connections does.
func (s *Server) Handlers(exclude *Conn) iter.Seq[any] {
	return func(yield func(any) bool) {
		for c := range s.e.connections(exclude) {
			if h := c.Handler(); h != nil && !yield(h) {
				return
			}
		}
	}
}

// SendTo sends msg to every connection that to yields: it encodes msg
// once, and allocates nothing per recipient. to may be Connections(exclude),
// or any set the game keeps (an area of interest, a team). It tries every
// connection and returns the first error, if any, naming the connection;
// one that is not open is skipped without an error.
func (s *Server) SendTo(msg any, to iter.Seq[*Conn]) error {
	s.bmu <- struct{}{}
	defer func() { <-s.bmu }()
	buf, t, err := s.enc.Encode(s.buf[:0], msg)
	s.buf = buf
	if err != nil {
		return err
	}
	// A range loop's body would be a closure allocated on every call; the
	// yield made once at Listen keeps its state in s instead.
	s.sendT, s.sendErr = t, nil
	to(s.sendOne)
	err, s.sendT, s.sendErr = s.sendErr, nil, nil
	return err
}

// sendOneTo is SendTo's yield, bound once at Listen as s.sendOne. bmu is
// held.
func (s *Server) sendOneTo(c *Conn) bool {
	var err error
	if !s.sendT.SentBy().Allows(sendWay(c.dialed)) {
		err = c.directionError(s.sendT)
	} else {
		err = c.sendEncoded(s.sendT, s.buf)
	}
	if err != nil && s.sendErr == nil && !errors.Is(err, ErrClosed) && !errors.Is(err, ErrNotConnected) {
		s.sendErr = fmt.Errorf("gonetic: send to %v: %w", c, err)
	}
	return true
}

// Broadcast sends msg to every open connection except exclude (which may
// be nil): SendTo(msg, Connections(exclude)), pygnetic's broadcast.
func (s *Server) Broadcast(msg any, exclude *Conn) error {
	return s.SendTo(msg, s.e.connections(exclude))
}

// Shutdown stops accepting, disconnects every connection with reason
// (queued messages are delivered first; the connections the server
// dialed too, and dials in progress are cancelled), runs Update until all of them
// have ended or ctx is done, and then closes the server. It may be called
// from any goroutine: while it runs, its Updates and the game loop's take
// turns instead of failing with ErrConcurrentUpdate, so handlers get their
// OnDisconnect one at a time, from whichever Update delivers it.
func (s *Server) Shutdown(ctx context.Context, reason string) error {
	return s.e.shutdown(ctx, reason, s.Close)
}

// Close closes the server at once: connections, those it dialed
// included, are dropped without delivering what is queued, dials in
// progress are cancelled, and handlers are not called. It waits for the
// server's goroutines and is idempotent; it returns the listeners' errors
// on closing, if any, the first time.
func (s *Server) Close() error {
	var errs []error
	s.e.closeOnce.Do(func() {
		s.lmu.Lock()
		s.e.markClosed()
		s.lmu.Unlock()
		s.e.cancel()
		s.e.abortAll()
		for _, l := range s.listeners {
			if err := l.l.Close(); err != nil {
				errs = append(errs, fmt.Errorf("gonetic: close the %s listener: %w", l.t.Name(), err))
			}
		}
		s.e.wg.Wait()
		s.e.timer.Stop()
	})
	return errors.Join(errs...)
}
