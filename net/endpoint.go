package net

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gonetic/gonetic/event"
	"github.com/gonetic/gonetic/handler"
	"github.com/gonetic/gonetic/message"
	"github.com/gonetic/gonetic/net/transport"
)

// Event is a typed event; see package event. The concrete types are
// Connected, Accepted, Disconnected, Refused and Received.
type Event = event.Event

// The event types, for a type switch on what Poll returns.
type (
	Connected    = event.Connected[*Conn]
	Accepted     = event.Accepted[*Conn]
	Disconnected = event.Disconnected[*Conn]
	Refused      = event.Refused
	Received     = event.Received[*Conn]
)

var connIDs atomic.Uint64 // connection ids, unique in the process

// endpoint is what Server and Client share: the inbox, Update, dispatch.
type endpoint struct {
	cfg     Config
	factory *message.Factory
	tcfg    transport.Config
	inbox   *inbox
	server  *Server // nil on a client
	log     *slog.Logger
	closed  atomic.Bool
	// dmu orders the start of a dial (connect) against Close and Shutdown:
	// a dial either sees closed or shuttingDown, or is among e.conns and
	// counted in wg before they look.
	dmu sync.Mutex
	// umu is held by the goroutine in Update: Update is for one goroutine
	// at a time, and a second one gets ErrConcurrentUpdate, except while
	// Shutdown runs: its Updates and the game loop's then take turns.
	umu          sync.Mutex
	shuttingDown atomic.Bool
	closeOnce    sync.Once
	wg           sync.WaitGroup // goroutines we started (dials)
	// ctx is cancelled by Close: every dial derives from it, so that Close
	// does not wait for a connect that nobody wants any more.
	ctx    context.Context
	cancel context.CancelFunc

	mu    sync.Mutex // guards conns, open, the dialed counts, and handlers' view of them
	conns map[*Conn]struct{}
	open  []*Conn // open connections, in the order they opened
	// How many of conns and of open were dialed (Conn.dialed): a server's
	// MaxConns and half-open bounds count only the accepted ones.
	dialedConns, dialedOpen int
	// pollers are the listener and links whose adapter Update lets do its
	// network work on the Update goroutine (transport.Poller). Copy on
	// write under mu; Update reads it without locking.
	pollers atomic.Pointer[[]transport.Poller]
	// flusher sends sealed connections' batches (batch.go); started with
	// the first sealed connection, under mu.
	flusher atomic.Pointer[flusher]

	// Only the goroutine in Update touches the fields below.
	timer       *time.Timer
	flushing    []*Conn // flushSealed's list
	batch       []item
	data        []byte
	pos         int              // next item of batch to process
	dec         *message.Decoder // accepted connections' messages: what clients send
	dialDec     *message.Decoder // dialed connections': what servers send
	ctlR        message.Reader
	events      *event.Queue[Event]
	funcs       []func(message.Reader) error // On[T] handlers by type id-1
	funcConn    *Conn                        // the Conn an On[T] call is for
	handshaking []*Conn
	epoch       time.Time // ping stamps count from here
	// wall0 is the wall clock at epoch, ns since the Unix epoch: the
	// endpoint's clock is wall0 plus the monotonic time since epoch (now).
	// Atomic for the test hook that shifts it (export_test.go).
	wall0    atomic.Int64
	nextPing time.Time
}

func newEndpoint(cfg Config) (*endpoint, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	cfg.Factory.Freeze()
	e := &endpoint{
		cfg:     cfg,
		factory: cfg.Factory,
		tcfg:    transport.Config{Channels: cfg.Factory.Channels(), MaxPayload: cfg.MaxMessageSize},
		inbox:   newInbox(cfg.InboxBytes),
		log:     cfg.Logger,
		conns:   make(map[*Conn]struct{}),
		timer:   time.NewTimer(time.Hour),
		dec:     cfg.Factory.NewDecoder(),
		dialDec: cfg.Factory.NewDecoder(),
		ctlR:    ctlCodec.NewReader(),
		funcs:   make([]func(message.Reader) error, cfg.Factory.Len()),
		epoch:   time.Now(),
	}
	e.wall0.Store(e.epoch.UnixNano())
	e.ctx, e.cancel = context.WithCancel(context.Background())
	e.nextPing = e.epoch.Add(cfg.PingInterval)
	e.timer.Stop()
	e.dec.SetDirection(message.ClientToServer)
	e.dialDec.SetDirection(message.ServerToClient)
	if cfg.EventQueue > 0 {
		e.events = event.NewQueue[Event](cfg.EventQueue)
	}
	return e, nil
}

// The role in the handshake is the connection's, not the endpoint's: a
// connection a server accepted plays the server's part (it answers the
// hello, its clock is the reference, it answers a peer in its handshake
// with no more than it received), and a dialed one, a client's or a
// server's (Server.Connect), the client's (it sends the hello, checks the
// welcome, estimates the remote clock). Message directions follow the
// role: a connection's encoder refuses types the registry says the other
// role sends (message.SentBy), and its decoder rejects a message in the
// wrong direction before decoding it.

// sendWay is the direction of what a connection sends in its role; it
// receives the other (e.dec, e.dialDec).
func sendWay(dialed bool) message.Direction {
	if dialed {
		return message.ClientToServer
	}
	return message.ServerToClient
}

// accepted reports whether c came through one of a server's listeners,
// and so plays the server's part; false for a dialed connection.
func (c *Conn) accepted() bool { return !c.dialed }

// newConn makes a connection, accepted or dialed, and counts it among
// the endpoint's.
func (e *endpoint) newConn(addr string, state State, dialed bool) *Conn {
	enc := e.factory.NewEncoder()
	enc.SetDirection(sendWay(dialed))
	c := &Conn{ep: e, id: connIDs.Add(1), addr: addr, state: state, enc: enc, dialed: dialed}
	e.mu.Lock()
	e.conns[c] = struct{}{}
	if dialed {
		e.dialedConns++
	}
	e.mu.Unlock()
	return c
}

// addPoller lets p do its network work in Update (transport.Poller).
func (e *endpoint) addPoller(p transport.Poller) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var list []transport.Poller
	if old := e.pollers.Load(); old != nil {
		list = slices.Clone(*old)
	}
	list = append(list, p)
	e.pollers.Store(&list)
}

// removePoller undoes addPoller.
func (e *endpoint) removePoller(p transport.Poller) {
	e.mu.Lock()
	defer e.mu.Unlock()
	old := e.pollers.Load()
	if old == nil {
		return
	}
	if i := slices.Index(*old, p); i >= 0 {
		list := slices.Delete(slices.Clone(*old), i, i+1)
		e.pollers.Store(&list)
	}
}

// pollNetwork sends the sealed batches still pending, and has the
// adapters that can (ENet) send what is queued and receive what arrived
// on this goroutine, sparing a wake-up of their own goroutine: before
// Update looks at the inbox, and after its handlers ran.
func (e *endpoint) pollNetwork() {
	e.flushSealed()
	if list := e.pollers.Load(); list != nil {
		for _, p := range *list {
			p.Poll()
		}
	}
}

// update is Server.Update and Client.Update.
func (e *endpoint) update(timeout time.Duration) error {
	if e.closed.Load() {
		return ErrClosed
	}
	if !e.umu.TryLock() {
		if !e.shuttingDown.Load() {
			return ErrConcurrentUpdate
		}
		e.umu.Lock()
	}
	defer e.umu.Unlock()
	if e.pos >= len(e.batch) {
		if e.events != nil && e.events.Full() {
			// Nothing can be delivered until the game drains events: wait
			// out the timeout as if nothing arrived, so that a loop that
			// runs Update to a deadline does not spin. The network waits.
			if timeout > 0 {
				e.timer.Reset(timeout)
				<-e.timer.C
			}
			return nil
		}
		e.pollNetwork()
		e.batch, e.data = e.inbox.take(timeout, e.timer, e.batch, e.data)
		e.pos = 0
		if len(e.batch) == 0 && timeout <= 0 {
			// A game that spins on Update(0) would otherwise keep its P
			// from the adapters' goroutines, which do the network work,
			// until the runtime preempts it (10 ms): with one P, nothing
			// would arrive in between.
			runtime.Gosched()
		}
	}
	if e.pos < len(e.batch) {
		defer e.pollNetwork() // the handlers' replies leave now
	}
	for e.pos < len(e.batch) {
		if e.events != nil && e.events.Full() {
			break
		}
		it := &e.batch[e.pos]
		e.pos++
		switch it.kind {
		case itemPayload:
			e.receive(it.conn, it.channel, e.data[it.off:it.off+it.len])
		case itemClosed:
			e.closed1(it.conn, it.conn.linkErr)
		case itemOpened:
			if s := it.conn.State(); s == Handshaking || s == Connecting {
				e.handshaking = append(e.handshaking, it.conn)
			}
		case itemApproved:
			e.server.approved(it.conn)
		case itemProven:
			e.server.proven(it.conn)
		case itemRejected:
			e.fail(it.conn, it.conn.sealFail)
		}
		it.conn = nil
	}
	if len(e.handshaking) > 0 {
		e.expireHandshakes()
	}
	if e.cfg.PingInterval > 0 {
		if now := time.Now(); !now.Before(e.nextPing) {
			e.nextPing = now.Add(e.cfg.PingInterval)
			e.keepAlive()
		}
	}
	return nil
}

// keepAlive pings every open connection and ends those that were silent
// for Config.Timeout. It runs once per PingInterval.
func (e *endpoint) keepAlive() {
	e.mu.Lock()
	open := e.open
	e.mu.Unlock()
	limit := int(e.cfg.Timeout / e.cfg.PingInterval)
	for _, c := range open {
		if c.State() != Open {
			continue
		}
		if h := c.heard.Load(); h != c.heardAt {
			c.heardAt, c.quietFor = h, 0
		} else if c.quietFor++; c.quietFor >= limit {
			e.timedOut(c, fmt.Sprintf("timed out: nothing heard from the peer for %v", e.cfg.Timeout))
			continue
		}
		c.ping()
	}
}

// timedOut ends a connection whose peer went silent. The game hears of it
// now: the link's graceful close (which tries to deliver the bye) may take
// the adapter's close timeout with a peer that does not answer.
func (e *endpoint) timedOut(c *Conn, reason string) {
	e.log.Info("gonetic: disconnecting a silent peer", "conn", c.String(), "reason", reason)
	c.mu.Lock()
	c.failure = ErrTimeout
	c.closeLocked(reason)
	c.mu.Unlock()
	e.report(c, nil)
}

// receive handles one payload.
func (e *endpoint) receive(c *Conn, channel uint8, p []byte) {
	c.mu.Lock()
	state := c.state
	c.mu.Unlock()
	if state == Closed {
		return
	}
	if len(p) > 0 && p[0] == controlMark {
		c.ctlRecvd.Add(1)
		ctl, err := parseControl(e.ctlR, p[1:])
		if err != nil {
			e.fail(c, err)
			return
		}
		e.control(c, state, ctl)
		return
	}
	switch {
	case state == Handshaking && c.dialed:
		// On adapters that order each channel apart (ENet), a message on
		// another channel can overtake the server's welcome: keep it for
		// when the welcome comes. It arrived and waits for Update, as what
		// the inbox holds, so InboxBytes bounds it: a server that sends
		// from OnConnect on fills it for as long as a lost welcome takes
		// to be resent.
		c.earlyBytes += len(p) + earlyOverhead
		if c.earlyBytes > e.cfg.InboxBytes {
			e.fail(c, fmt.Errorf("gonetic: more than %d bytes of messages before the server's welcome (Config.InboxBytes)", e.cfg.InboxBytes))
			return
		}
		c.early = append(c.early, earlyMsg{channel, append([]byte(nil), p...)})
		return
	case state == Handshaking:
		e.fail(c, errors.New("gonetic: message before the handshake finished"))
		return
	case state == Closing && c.peerReason == "" && !c.peerBye:
		return // we said bye: what the peer sends now is not wanted
	}
	// Open, or the peer said bye: a message on another channel may still
	// arrive after its bye, and it was sent before it.
	e.dispatch(c, p)
}

// earlyOverhead is what a message kept before the welcome costs beyond
// its bytes: its earlyMsg.
const earlyOverhead = 32

// earlyMsg is a message that overtook the welcome.
type earlyMsg struct {
	channel uint8
	payload []byte
}

// dispatch decodes one message and hands it to its handler and the event
// queue. A message is checked whole before any of them sees it: a peer's
// malformed message ends its connection and reaches no game code.
func (e *endpoint) dispatch(c *Conn, p []byte) {
	dec := e.dec
	if c.dialed {
		dec = e.dialDec
	}
	t, err := dec.Begin(p)
	if err != nil {
		e.fail(c, err)
		return
	}
	// The handler's method for the type, else an On function for it. The
	// call decodes, checks the end of the message, and only then calls.
	call := c.table.Call(t.ID())
	if call == nil {
		call = e.funcs[t.ID()-1]
	}
	if call != nil {
		e.funcConn = c
		err := call(dec.Reader())
		e.funcConn = nil
		if err != nil {
			e.fail(c, err)
			return
		}
		c.msgsIn.Add(1)
		if e.events == nil {
			return
		}
		t, _ = dec.Begin(p) // decode again, boxed, for the event
	}
	// The boxed value for OnReceive and the event; with neither, the
	// message must still be valid.
	msg, err := dec.Rest(t)
	if err != nil {
		e.fail(c, err)
		return
	}
	if call != nil {
		e.events.Push(Received{Conn: c, Type: t, Msg: msg})
		return
	}
	c.msgsIn.Add(1)
	if c.table.OnReceive != nil {
		c.table.OnReceive(msg)
	}
	if e.events != nil {
		e.events.Push(Received{Conn: c, Type: t, Msg: msg})
	}
}

// control handles a control payload.
func (e *endpoint) control(c *Conn, state State, ctl control) {
	switch ctl.kind {
	case ctlBye:
		c.mu.Lock()
		c.peerReason = ctl.reason
		c.peerBye = true
		if c.state == Open && e.tcfg.Channels > 1 {
			// The peer closes its link right after its bye, once all it
			// sent before is through. Closing ours now could cut that
			// short: on an adapter that orders each channel apart (ENet),
			// messages on other channels may still be on their way, and
			// ENet drops what is not through at both ends when either
			// disconnects. So the peer ends the link, or the adapter's
			// own liveness does if the peer is gone (ENet's timeout; over
			// a stream, the peer's close timeout). Not Config.Timeout: a
			// peer that said bye sends nothing more, and what it still
			// has on its way can take longer than that under loss. On
			// one channel, the bye came after all the peer sent.
			c.state = Closing
		} else if c.state == Open || c.state == Handshaking {
			c.state = Closing
			c.link.Close()
		}
		c.mu.Unlock()
	case ctlPing, ctlPong:
		// Another encoder's ping (pingKind takes only the usual bytes on
		// the adapter's goroutine): as good as ours, but answered here.
		c.mu.Lock()
		c.pingPongLocked(ctl, time.Since(e.epoch))
		c.mu.Unlock()
	case ctlRefuse:
		// A server over its bound refuses before our hello, which can come
		// before the dialler marks the connection Handshaking.
		if c.accepted() || (state != Handshaking && state != Connecting) {
			e.fail(c, errors.New("gonetic: unexpected refuse message"))
			return
		}
		c.mu.Lock()
		c.peerReason = ctl.reason
		c.refused = true
		c.state = Closing
		if c.link != nil { // else the dialler closes the link it gets
			c.link.Close()
		}
		c.mu.Unlock()
	case ctlHello:
		if c.dialed || state != Handshaking {
			e.fail(c, errors.New("gonetic: unexpected hello message"))
			return
		}
		e.server.hello(c, ctl)
	case ctlWelcome:
		if c.accepted() || state != Handshaking {
			e.fail(c, errors.New("gonetic: unexpected welcome message"))
			return
		}
		if ctl.version != ProtocolVersion {
			e.fail(c, errors.New("gonetic: server welcomed us with another protocol version"))
			return
		}
		if c.tok != nil && !c.Sealed() {
			// Our token's keys never served: the server (or whoever
			// answered for it) did not open our ticket.
			e.fail(c, errors.New("gonetic: the server welcomed us without sealing the connection"))
			return
		}
		e.opened(c)
	case ctlSession:
		// A client with a token takes it on its Sink's goroutine, before
		// it has keys; any other is unexpected.
		e.fail(c, errors.New("gonetic: unexpected session message"))
	}
}

// opened moves a connection to Open and tells its handler.
func (e *endpoint) opened(c *Conn) {
	c.mu.Lock()
	if c.state != Handshaking {
		c.mu.Unlock()
		return
	}
	c.state = Open
	c.mu.Unlock()
	c.everOpened = true
	e.dropHandshaking(c)
	e.mu.Lock()
	e.open = append(e.open, c)
	if c.dialed {
		e.dialedOpen++
	}
	e.mu.Unlock()
	if e.events != nil {
		if c.accepted() {
			e.events.Push(Accepted{Conn: c})
		} else {
			e.events.Push(Connected{Conn: c})
		}
	}
	if c.table.OnConnect != nil {
		c.table.OnConnect()
	}
	early := c.early
	c.early, c.earlyBytes = nil, 0
	for _, m := range early {
		if c.State() != Open {
			break
		}
		e.dispatch(c, m.payload)
	}
}

// fail ends a connection because of a protocol error on this side; the
// peer is told why.
func (e *endpoint) fail(c *Conn, err error) {
	reason := cutReason("protocol error: " + err.Error())
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == Closing || c.state == Closed {
		// Already ending, for a reason of its own (an adapter's farewell
		// while what came before it still waited in the inbox): that
		// reason stands, and what the peer sends now is not acted on.
		return
	}
	e.log.Info("gonetic: disconnecting peer after a protocol error", "conn", c.String(), "reason", reason)
	if c.failure == nil {
		c.failure = err
	}
	c.closeLocked(reason)
}

// closed1 handles the end of a link: the connection leaves the endpoint,
// and its end is reported unless it was already (timedOut).
func (e *endpoint) closed1(c *Conn, err error) {
	c.mu.Lock()
	link := c.link
	c.mu.Unlock()
	if p, ok := link.(transport.Poller); ok && c.dialed {
		e.removePoller(p)
	}
	e.report(c, err)
	if e.server != nil {
		e.server.leftHandshake(c)
	}
	e.mu.Lock()
	if _, ok := e.conns[c]; ok && c.dialed {
		e.dialedConns--
	}
	delete(e.conns, c)
	e.mu.Unlock()
}

// report moves c to Closed and tells the game why it ended, once. err is
// what the adapter reported when the link closed (nil when it has not).
func (e *endpoint) report(c *Conn, err error) {
	c.mu.Lock()
	if c.state == Closed {
		c.mu.Unlock()
		return
	}
	reason := c.endReason(err)
	c.state, c.closeReason = Closed, reason
	c.mu.Unlock()
	e.dropHandshaking(c)
	if c.cancelApprove != nil {
		c.cancelApprove() // nobody waits for the answer any more
	}
	e.mu.Lock()
	if i := slices.Index(e.open, c); i >= 0 {
		// Copy on write: senders range over the old slice unlocked.
		e.open = slices.Delete(slices.Clone(e.open), i, i+1)
		if c.dialed {
			e.dialedOpen--
		}
	}
	e.mu.Unlock()

	if c.accepted() && !c.everOpened {
		// Never accepted: no handler saw it. Refusals were reported when sent.
		return
	}
	e.log.Debug("gonetic: connection closed", "conn", c.String(), "reason", reason)
	if e.events != nil {
		e.events.Push(Disconnected{Conn: c, Reason: reason})
	}
	if c.table != nil && c.table.OnDisconnect != nil {
		c.table.OnDisconnect(reason)
	}
}

// dropHandshaking marks the end of c's handshake: it opens, is refused or
// timed out.
func (e *endpoint) dropHandshaking(c *Conn) {
	if e.server != nil {
		e.server.leftHandshake(c)
	}
	for i, o := range e.handshaking {
		if o == c {
			e.handshaking = append(e.handshaking[:i], e.handshaking[i+1:]...)
			return
		}
	}
}

func (e *endpoint) expireHandshakes() {
	now := time.Now()
	for _, c := range append([]*Conn(nil), e.handshaking...) {
		if now.After(c.deadline) {
			e.dropHandshaking(c)
			if c.accepted() {
				e.server.refuse(c, "handshake timed out after "+e.cfg.HandshakeTimeout.String())
			} else {
				e.timedOut(c, "handshake timed out after "+e.cfg.HandshakeTimeout.String())
			}
		}
	}
}

// poll returns the next event.
func (e *endpoint) poll() (Event, bool) {
	if e.events == nil {
		return nil, false
	}
	return e.events.Poll()
}

// connections yields the open connections except exclude, from the
// copy-on-write slice of open connections as it is when the loop starts.
func (e *endpoint) connections(exclude *Conn) iter.Seq[*Conn] {
	return func(yield func(*Conn) bool) {
		e.mu.Lock()
		open := e.open
		e.mu.Unlock()
		for _, c := range open {
			if c != exclude && !yield(c) {
				return
			}
		}
	}
}

// bind attaches handler h to c.
func (e *endpoint) bind(c *Conn, h any) error {
	t, err := handler.Bind(h, e.factory)
	if err != nil {
		return err
	}
	if b, ok := h.(interface{ base() *Handler }); ok {
		hb := b.base()
		hb.conn = c
		hb.server = e.server
	}
	c.table = t
	return nil
}

// shutdown disconnects every connection with reason and runs Update until
// all have ended or ctx is done; then it calls closeFn (Server.Close or
// Client.Close). From another goroutine than the game loop's, its Updates
// and the loop's take turns (see umu).
func (e *endpoint) shutdown(ctx context.Context, reason string, closeFn func() error) error {
	if e.closed.Load() {
		return nil
	}
	e.dmu.Lock() // a dial that starts now is among those closeAll ends
	e.shuttingDown.Store(true)
	e.dmu.Unlock()
	e.closeAll(reason)
	for e.live() > 0 {
		if err := ctx.Err(); err != nil {
			n := e.live()
			_ = closeFn()
			return fmt.Errorf("gonetic: shutdown: %d connections still closing: %w", n, err)
		}
		if err := e.update(10 * time.Millisecond); err != nil {
			break
		}
	}
	return closeFn()
}

// closeAll disconnects every connection with reason.
func (e *endpoint) closeAll(reason string) {
	e.mu.Lock()
	all := make([]*Conn, 0, len(e.conns))
	for c := range e.conns {
		all = append(all, c)
	}
	e.mu.Unlock()
	for _, c := range all {
		c.Disconnect(reason)
	}
}

// numOpen is the number of open connections (NumConns).
func (e *endpoint) numOpen() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.open)
}

// acceptedOpen is the number of open connections a server accepted: what
// MaxConns bounds.
func (e *endpoint) acceptedOpen() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.open) - e.dialedOpen
}

// acceptedLive is the number of accepted connections not yet ended.
func (e *endpoint) acceptedLive() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.conns) - e.dialedConns
}

// live is the number of connections not yet ended, open or not.
func (e *endpoint) live() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.conns)
}

// abortAll aborts every link and stops the inbox.
func (e *endpoint) abortAll() {
	e.mu.Lock()
	all := make([]*Conn, 0, len(e.conns))
	for c := range e.conns {
		all = append(all, c)
	}
	e.mu.Unlock()
	for _, c := range all {
		c.abort()
	}
	e.stopFlusher()
	e.inbox.close()
}

// endReason is the DisconnectError of c's end; c.mu is held, on the
// Update goroutine. err is what the adapter reported.
func (c *Conn) endReason(err error) *DisconnectError {
	// The same ending gives the same DisconnectError on every adapter: a
	// peer's bye or refusal carries its reason and nothing of how the link
	// then closed (EOF on TCP, a disconnect event on ENet).
	local := c.reason
	var reason *DisconnectError
	switch {
	case c.refused:
		reason = &DisconnectError{Remote: true, Reason: c.peerReason, Err: ErrRefused}
	case c.failure != nil:
		reason = &DisconnectError{Reason: local, Err: c.failure}
	case local != "":
		reason = &DisconnectError{Reason: local}
	case c.peerBye:
		reason = &DisconnectError{Remote: true, Reason: c.peerReason}
	case errors.Is(err, io.EOF):
		reason = &DisconnectError{Remote: true, Err: err}
	case err != nil:
		reason = &DisconnectError{Err: err}
	default:
		reason = &DisconnectError{Err: io.EOF}
	}
	return reason
}
