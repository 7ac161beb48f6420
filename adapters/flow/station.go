package flow

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gonetic/gonetic/message"
	gnet "github.com/gonetic/gonetic/net"
)

// Station runs flows over the connections of a net/ Server or Client,
// beside game messages, whatever their network adapter. Flow frames are
// the message types Register adds, on their own channel; incoming ones
// are handled inside Update (queued for the flow's goroutine, never run
// there), so flows over a Station move only while the game calls Update.
//
// Over one connection a flow sends its packets in chunks of at most
// Config.ChunkSize bytes, and all flows together keep at most
// Config.InFlight bytes sent but not yet taken in by the peer's Update:
// a game message sent meanwhile goes out after at most that much bulk
// data, however large the flows. They also send at most Config.Rate
// bytes a second, so that the game's goroutines find a CPU free.
//
// If the Server or Client has events on (gnet.Config.EventQueue), flow
// frames are also queued as Received events, whose type names start with
// "flow_": skip them.
//
// All methods are safe for concurrent use, except Attach's rule for when
// it may be called.
type Station struct {
	ep     *endpoint
	server bool // attached to a Server: the flows this end opens have even ids

	mu       sync.Mutex // guards the fields below
	sessions map[*gnet.Conn]*session
	watching bool          // the watch goroutine runs
	quit     chan struct{} // closed by Close: stops the watch goroutine
	closed   bool
}

// Attach starts a Station on d, a *gnet.Server or *gnet.Client made with
// factory f, on which Register was called (on both ends). Flows then go
// both ways: this end serves the handlers registered with Handle and
// HandleFunc, and calls the other end's through Over. Call Attach before
// d's first Update, from the goroutine that calls Update (the rule of
// gnet.On, which it uses).
//
// cfg.Codec must be nil (f's codec is used) or f's codec. Close the
// Station when done: it has goroutines of its own.
func Attach(d gnet.Dispatcher, f *message.Factory, cfg Config) (*Station, error) {
	var server bool
	switch d.(type) {
	case *gnet.Server:
		server = true
	case *gnet.Client:
	default:
		return nil, fmt.Errorf("flow: Attach needs a *gnet.Server or *gnet.Client, not %T", d)
	}
	if f == nil {
		return nil, errors.New("flow: Attach needs the factory the Server or Client was made with")
	}
	if cfg.Codec == nil {
		cfg.Codec = f.Codec()
	} else if cfg.Codec.Name() != f.Codec().Name() {
		return nil, fmt.Errorf("flow: Config.Codec is %q but the connection's codec is %q", cfg.Codec.Name(), f.Codec().Name())
	}
	cfg, err := cfg.withDefaults(DefaultStationWindow, DefaultStationChunkSize, DefaultStationRate)
	if err != nil {
		return nil, err
	}
	for _, v := range []any{openMsg{}, dataMsg{}, creditMsg{}, endMsg{}, failMsg{}, ackMsg{}} {
		if f.TypeOf(v) == nil {
			return nil, errNotRegistered
		}
	}
	st := &Station{ep: newEndpoint(cfg), server: server, sessions: make(map[*gnet.Conn]*session), quit: make(chan struct{})}
	err = errors.Join(
		gnet.On(d, func(c *gnet.Conn, m openMsg) {
			st.receive(c, &frame{kind: kOpen, flow: m.Flow, text: m.Name, flags: m.Flags, data: m.Header})
		}),
		gnet.On(d, func(c *gnet.Conn, m dataMsg) {
			st.receive(c, &frame{kind: kData, flow: m.Flow, flags: m.Flags, data: m.Chunk})
		}),
		gnet.On(d, func(c *gnet.Conn, m creditMsg) { st.receive(c, &frame{kind: kCredit, flow: m.Flow, n: m.Bytes}) }),
		gnet.On(d, func(c *gnet.Conn, m endMsg) {
			st.receive(c, &frame{kind: kEnd, flow: m.Flow, flags: m.Flags, data: m.Value})
		}),
		gnet.On(d, func(c *gnet.Conn, m failMsg) {
			st.receive(c, &frame{kind: kFail, flow: m.Flow, n: m.Code, text: m.Message})
		}),
		gnet.On(d, func(c *gnet.Conn, m ackMsg) { st.receive(c, &frame{kind: kAck, n: m.Bytes}) }),
	)
	if err != nil {
		return nil, fmt.Errorf("flow: attach: %w", err)
	}
	return st, nil
}

// Handle registers a handler struct for flows opened with this name: for
// each flow, newHandler builds one with the flow and its reply channel,
// then HandleFlow runs on a goroutine of its own. A name can be
// registered once. Handlers may be added at any time.
func (st *Station) Handle(name string, newHandler func(f *Flow, r *Reply) Handler) error {
	return st.ep.handle(name, newHandler)
}

// HandleFunc registers a handler function for flows opened with this
// name; it runs on a goroutine of its own, once per flow.
func (st *Station) HandleFunc(name string, fn HandlerFunc) error {
	if fn == nil {
		return fmt.Errorf("flow: nil handler for %q", name)
	}
	return st.ep.handle(name, fn.constructor())
}

// Over is the Caller that opens flows over connection c (one of the
// attached Server's or Client's): pass it to Call.
func (st *Station) Over(c *gnet.Conn) Caller { return over{st, c} }

type over struct {
	st *Station
	c  *gnet.Conn
}

func (o over) session() (*session, error) {
	if o.c == nil {
		return nil, errors.New("flow: Over(nil)")
	}
	if o.c.State() != gnet.Open {
		return nil, &Error{Code: CodeConnLost, Message: fmt.Sprintf("the connection is %v", o.c.State())}
	}
	s := o.st.session(o.c)
	if s == nil {
		return nil, &Error{Code: CodeClosed, Message: "the station is closed", Err: ErrClosed}
	}
	return s, nil
}

// session returns c's session, made on first use; nil once closed.
func (st *Station) session(c *gnet.Conn) *session {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return nil
	}
	s := st.sessions[c]
	if s != nil {
		return s
	}
	s = newSession(st.ep, netWire{c, &st.ep.pool}, !st.server, c.Addr())
	s.conn = c
	s.acks = true
	s.limit = int64(max(st.ep.cfg.InFlight, 0))
	st.sessions[c] = s
	if !st.watching && st.ep.spawn(st.watch) {
		st.watching = true
	}
	return s
}

// receive takes a frame from Update.
func (st *Station) receive(c *gnet.Conn, fr *frame) {
	s := st.session(c)
	if s == nil {
		if fr.kind == kOpen {
			_ = c.Send(&failMsg{Flow: fr.flow, Code: uint64(CodeClosing), Message: "the station is closed"})
		}
		return
	}
	s.receive(fr)
}

// watch ends the flows of connections that closed. net/ tells only the
// connection's handler of a disconnect, so this looks every
// DefaultWatchInterval while some connection has flows.
func (st *Station) watch() {
	t := time.NewTicker(DefaultWatchInterval)
	defer t.Stop()
	for {
		select {
		case <-st.quit:
			return
		case <-t.C:
		}
		var gone []*session
		st.mu.Lock()
		for c, s := range st.sessions {
			if c.State() > gnet.Open {
				gone = append(gone, s)
				delete(st.sessions, c)
			}
		}
		if len(st.sessions) == 0 {
			st.watching = false
			st.mu.Unlock()
			for _, s := range gone {
				s.lost(nil)
			}
			return
		}
		st.mu.Unlock()
		for _, s := range gone {
			s.lost(nil)
		}
	}
}

// Shutdown refuses new flows, waits until the running handlers have
// ended or ctx is done, then closes the Station.
func (st *Station) Shutdown(ctx context.Context) error {
	idle := st.ep.drain()
	var err error
	select {
	case <-idle:
	case <-ctx.Done():
		err = fmt.Errorf("flow: shutdown: %w", ctx.Err())
	}
	st.Close()
	return err
}

// Close ends every flow at once (their peers are told the Station is
// closing), then waits for the Station's goroutines: handlers must return
// once their Flow's context is done. Idempotent. The attached Server or
// Client is not closed.
func (st *Station) Close() error {
	if !st.ep.shut() {
		return nil
	}
	st.mu.Lock()
	st.closed = true
	close(st.quit)
	sessions := make([]*session, 0, len(st.sessions))
	for _, s := range st.sessions {
		sessions = append(sessions, s)
	}
	st.sessions = nil
	st.mu.Unlock()
	for _, s := range sessions {
		s.closeFlows(CodeClosing, "the station closed")
	}
	st.ep.wait()
	return nil
}

// netWire sends frames as messages of a net/ connection.
type netWire struct {
	c    *gnet.Conn
	pool *bufPool
}

func (w netWire) send(fr *frame) error { return w.c.Send(fr.toMsg()) }

func (w netWire) sendData(id, flags uint64, buf []byte) error {
	err := w.c.Send(&dataMsg{Flow: id, Flags: flags, Chunk: buf[headroom:]}) // copies
	w.pool.put(buf)
	return err
}
