package request

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/net/transport"
)

// Handler answers one request. It runs on the goroutine that called Serve
// or ServeOne, or on one the Server started (see Options.MaxConcurrent).
// request is the handler's own. ctx is done when the Server closes, when
// the context given to the Serve or ServeOne call that took the request is
// done, and, in binary mode, when the client closes its connection (it
// gave up waiting): a handler that may take long should watch it.
//
// A nil error sends reply, which may be empty. An error sends its Error()
// text instead, which a binary-mode client gets as a *RemoteError; a panic
// does the same with "panic: " and the panic value, and the Server keeps
// serving.
type Handler func(ctx context.Context, request []byte) (reply []byte, err error)

// StringHandler adapts a handler of text requests and replies.
func StringHandler(f func(ctx context.Context, request string) (string, error)) Handler {
	return func(ctx context.Context, request []byte) ([]byte, error) {
		reply, err := f(ctx, string(request))
		return []byte(reply), err
	}
}

// Server answers requests with a Handler: one request per connection, one
// reply, then the connection closes. It listens from NewServer on; requests
// wait, one per connection, until Serve, ServeOne or the goroutine of
// Start takes them. A Server has no shared state with any other: a program
// may run many, on different ports.
//
// Every method is safe to call from any goroutine, concurrently, except
// that Close and Shutdown must not be called from a Handler.
type Server struct {
	handler Handler
	opts    Options
	ln      transport.Listener

	queue  chan *pending // unbuffered: a request waits in its link's Receive
	sem    chan struct{} // a slot per running handler; nil: no limit
	inline bool          // one handler at a time, on the serving goroutine

	base     context.Context // parent of every request's context
	cancel   context.CancelFunc
	done     chan struct{} // closed by Close and Shutdown
	draining chan struct{} // closed by Shutdown: refuse waiting requests
	abort    chan struct{} // closed by Close: stop a graceful Shutdown

	onReceive func() // test hook: a request was decoded; nil in production

	wg sync.WaitGroup // the goroutine of Start

	mu         sync.Mutex // guards the fields below
	conns      map[*conn]struct{}
	closed     bool // done is closed: refuse links and requests
	shutting   bool // draining is closed
	started    bool // Start ran
	aborted    bool // abort is closed
	active     int  // requests decoded and not yet finished
	quiet      chan struct{}
	quietShut  bool // quiet is closed
	closeOnce  sync.Once
	closeError error // from closing the listener; set once, by closeOnce
}

// pending is one request, from its arrival to its reply.
type pending struct {
	c       *conn
	request []byte
	ctx     context.Context
	cancel  context.CancelCauseFunc
	replied chan struct{} // closed by finish
}

// errClientGone cancels the context of a request whose client closed its
// connection.
var errClientGone = errors.New("request: the client closed the connection")

// NewServer listens on address ("host:port"; port 0 picks a free one, see
// Addr) and returns a Server that answers requests with h, in the mode
// and within the limits of opts (nil means the defaults). Nothing is
// answered before Serve, ServeOne or Start.
func NewServer(address string, h Handler, opts *Options) (*Server, error) {
	return newServer(address, h, opts, nil)
}

func newServer(address string, h Handler, opts *Options, onReceive func()) (*Server, error) {
	if h == nil {
		return nil, errors.New("request: NewServer needs a non-nil Handler")
	}
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	s := &Server{
		handler:   h,
		opts:      o,
		queue:     make(chan *pending),
		done:      make(chan struct{}),
		draining:  make(chan struct{}),
		abort:     make(chan struct{}),
		onReceive: onReceive,
		conns:     make(map[*conn]struct{}),
	}
	switch n := o.MaxConcurrent; {
	case n <= 1 && n >= 0:
		s.inline = true
		s.sem = make(chan struct{}, 1)
	case n > 1:
		s.sem = make(chan struct{}, n)
	}
	s.base, s.cancel = context.WithCancel(context.Background())

	var topts tcp.Options
	if o.Lines {
		topts.Framing = lineFraming{limit: o.MaxLine}
	}
	cfg := transport.Config{MaxPayload: o.maxPayload()}
	s.ln, err = tcp.New(topts).Listen(address, cfg, s.accept)
	if err != nil {
		s.cancel()
		return nil, fmt.Errorf("request: listen on %s: %w", address, err)
	}
	return s, nil
}

// Addr returns the address the Server listens on, as "host:port".
func (s *Server) Addr() string { return s.ln.Addr() }

// Serve answers requests on the calling goroutine until ctx is done or the
// Server closes, and returns ctx.Err() or ErrServerClosed. With
// Options.MaxConcurrent above 1 or negative it runs handlers on goroutines
// of its own, whose contexts it cancels as it returns; it returns once they
// have. Several Serve calls may run at once; Options.MaxConcurrent bounds
// them all together.
func (s *Server) Serve(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		p, err := s.take(ctx)
		if err != nil {
			return err
		}
		if s.inline {
			s.handle(ctx, p)
			s.release()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer s.release()
			s.handle(ctx, p)
		}()
	}
}

// ServeOne waits for one request, answers it on the calling goroutine and
// returns nil; or returns ctx.Err() or ErrServerClosed if ctx is done or
// the Server closes first. A request whose client has gone by the time it
// is taken is dropped, and ServeOne waits for the next.
func (s *Server) ServeOne(ctx context.Context) error {
	for {
		p, err := s.take(ctx)
		if err != nil {
			return err
		}
		answered := s.handle(ctx, p)
		s.release()
		if answered {
			return nil
		}
	}
}

// Start runs Serve on a goroutine of the Server's own until Close or
// Shutdown, which wait for it. Calling it again, or after Close, does
// nothing.
func (s *Server) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.closed {
		return
	}
	s.started = true
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = s.Serve(s.base)
	}()
}

// Close stops the Server at once: it stops listening, cancels the context
// of every running handler, closes every connection (an answered reply not
// yet sent is lost, a waiting request gets no reply), and waits for the
// handlers and goroutines the Server started, so a handler must return
// when its context is done. Serve and ServeOne return ErrServerClosed.
// Close is idempotent; it stops a Shutdown in progress.
func (s *Server) Close() error {
	s.mu.Lock()
	if !s.aborted {
		s.aborted = true
		close(s.abort)
	}
	s.mu.Unlock()
	return s.stop(nil, false)
}

// Shutdown stops the Server gracefully: it answers requests that arrive or
// wait from now on with an error ("server shutting down"), waits for the
// handlers already running and for their replies to be sent, then closes
// like Close. If ctx is done first, or Close is called, it closes at once
// and returns ctx.Err() (or nil). Like Close, it waits for the goroutines
// the Server started and is idempotent.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.shutting {
		s.shutting = true
		close(s.draining)
	}
	if s.quiet == nil {
		s.quiet = make(chan struct{})
		s.checkQuiet()
	}
	quiet := s.quiet
	s.mu.Unlock()

	select {
	case <-quiet:
	case <-ctx.Done():
		_ = s.Close()
		return ctx.Err()
	case <-s.abort:
		return s.stop(nil, false)
	}
	err := s.stop(ctx.Done(), true)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// stop closes the Server, once. Gracefully, it lets the listener close
// the connections, sending queued replies, until expired is closed or
// Close is called; otherwise it aborts every connection.
func (s *Server) stop(expired <-chan struct{}, graceful bool) error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.done)
		s.cancel()
		if !graceful {
			s.abortConns()
			s.closeError = s.ln.Close()
		} else {
			closed := make(chan struct{})
			go func() {
				s.closeError = s.ln.Close()
				close(closed)
			}()
			select {
			case <-closed:
			case <-expired:
				s.abortConns()
				<-closed
			case <-s.abort:
				s.abortConns()
				<-closed
			}
		}
		s.wg.Wait()
	})
	return s.closeError
}

func (s *Server) abortConns() {
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.link.Abort()
	}
}

// take reserves a handler slot and returns the next request.
func (s *Server) take(ctx context.Context) (*pending, error) {
	if s.sem != nil {
		select {
		case s.sem <- struct{}{}:
		case <-ctx.Done():
			return nil, s.serveError(ctx)
		case <-s.done:
			return nil, ErrServerClosed
		}
	}
	select {
	case p := <-s.queue:
		return p, nil
	case <-ctx.Done():
		s.release()
		return nil, s.serveError(ctx)
	case <-s.done:
		s.release()
		return nil, ErrServerClosed
	}
}

// serveError is ErrServerClosed if the Server is closed, else ctx's error.
func (s *Server) serveError(ctx context.Context) error {
	select {
	case <-s.done:
		return ErrServerClosed
	default:
		return ctx.Err()
	}
}

func (s *Server) release() {
	if s.sem != nil {
		<-s.sem
	}
}

// handle answers p unless its client has gone, and reports whether it did.
// Cancelling serveCtx cancels the handler's context.
func (s *Server) handle(serveCtx context.Context, p *pending) bool {
	defer s.finish(p)
	if p.ctx.Err() != nil {
		return false
	}
	stop := context.AfterFunc(serveCtx, func() { p.cancel(context.Cause(serveCtx)) })
	defer stop()
	reply, err := s.call(p.ctx, p.request)
	s.reply(p.c.link, reply, err)
	return true
}

// call runs the handler, turning a panic into an error.
func (s *Server) call(ctx context.Context, request []byte) (reply []byte, err error) {
	defer func() {
		if v := recover(); v != nil {
			reply, err = nil, &RemoteError{Message: fmt.Sprintf("panic: %v", v)}
		}
	}()
	return s.handler(ctx, request)
}

// reply sends the answer to a request and closes the link gracefully.
func (s *Server) reply(link transport.Link, reply []byte, err error) {
	if err == nil && len(reply) > s.opts.MaxSize {
		err = fmt.Errorf("request: reply of %d bytes exceeds the server's Options.MaxSize of %d", len(reply), s.opts.MaxSize)
	}
	if err != nil {
		s.fail(link, errorMessage(err))
		return
	}
	var frame []byte
	if s.opts.Lines {
		frame = reply
	} else {
		frame = appendOK(make([]byte, 0, len(reply)+frameOverhead), reply)
	}
	_ = link.Send(0, transport.Reliable, frame) // fails only if the client is gone
	link.Close()
}

// fail sends an error answer and closes the link gracefully.
func (s *Server) fail(link transport.Link, message string) {
	message = cut(message, s.opts.MaxSize)
	var frame []byte
	if s.opts.Lines {
		frame = errorLine(message)
	} else {
		frame = appendError(nil, message)
	}
	_ = link.Send(0, transport.Reliable, frame)
	link.Close()
}

// errorMessage is the text sent for a handler's error.
func errorMessage(err error) string {
	if r, ok := err.(*RemoteError); ok {
		return r.Message
	}
	return err.Error()
}

// finish ends p's life: its context, its slot in the count of active
// requests, and the wait of its link's Receive.
func (s *Server) finish(p *pending) {
	p.cancel(nil)
	close(p.replied)
	s.mu.Lock()
	s.active--
	s.checkQuiet()
	s.mu.Unlock()
}

// checkQuiet closes quiet once a Shutdown has no request left to wait
// for. s.mu must be held.
func (s *Server) checkQuiet() {
	if s.quiet != nil && s.active == 0 && !s.quietShut {
		s.quietShut = true
		close(s.quiet)
	}
}

// accept is the listener's Accept: a Sink per connection, none once closed.
func (s *Server) accept(link transport.Link) transport.Sink {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	c := &conn{s: s, link: link}
	s.conns[c] = struct{}{}
	return c
}

var _ transport.Farewell = (*conn)(nil)

// Farewell answers a request over the size limit, or a line over
// Options.MaxLine, with an error before the adapter closes the link
// (transport.Farewell).
func (c *conn) Farewell(err error) {
	what := "request"
	if c.s.opts.Lines {
		what = "request line"
	}
	reason := err.Error()
	if fe, ok := err.(*transport.FrameError); ok {
		reason = fe.Reason
	}
	c.s.fail(c.link, fmt.Sprintf("%s refused: %s", what, reason))
}

// conn is the Sink of one connection. Its methods run on the link's reader
// goroutine, one at a time.
type conn struct {
	s    *Server
	link transport.Link
	p    *pending // the request, once it arrived
	seen bool     // a frame arrived; later ones are ignored
}

// Receive takes the first frame as the request and waits until a serving
// goroutine takes it. In line mode it waits on until the reply is queued:
// a client that half-closes after its line (nc -N) would otherwise close
// the link before the reply could be sent.
func (c *conn) Receive(_ uint8, frame []byte) {
	if c.seen {
		return
	}
	c.seen = true
	s := c.s
	var request []byte
	if s.opts.Lines {
		request = bytes.Clone(frame)
		if request == nil {
			request = []byte{}
		}
	} else {
		r, err := decodeRequest(frame)
		if err != nil {
			s.fail(c.link, "malformed request: "+err.Error())
			return
		}
		if len(r) > s.opts.MaxSize {
			s.fail(c.link, fmt.Sprintf("request refused: %d bytes exceeds the server's limit of %d", len(r), s.opts.MaxSize))
			return
		}
		request = r
	}
	if s.onReceive != nil {
		s.onReceive()
	}

	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		c.link.Abort()
		return
	case s.shutting:
		s.mu.Unlock()
		s.fail(c.link, "server shutting down")
		return
	}
	s.active++
	s.mu.Unlock()

	p := &pending{c: c, request: request, replied: make(chan struct{})}
	p.ctx, p.cancel = context.WithCancelCause(s.base)
	c.p = p
	select {
	case s.queue <- p:
	case <-s.done:
		c.link.Abort()
		s.finish(p)
		return
	case <-s.draining:
		s.fail(c.link, "server shutting down")
		s.finish(p)
		return
	}
	if s.opts.Lines {
		select {
		case <-p.replied:
		case <-s.done:
		}
	}
}

// Closed cancels the request's context: its client is gone, or it was
// answered.
func (c *conn) Closed(error) {
	if c.p != nil {
		c.p.cancel(errClientGone)
	}
	c.s.mu.Lock()
	delete(c.s.conns, c)
	c.s.mu.Unlock()
}
