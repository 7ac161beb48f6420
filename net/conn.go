package net

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gonetic/gonetic/handler"
	"github.com/gonetic/gonetic/message"
	"github.com/gonetic/gonetic/net/transport"
	"github.com/gonetic/gonetic/token"
)

// State is where a connection is in its life.
type State int32

// Connection states, in order.
const (
	Connecting  State = iota // a client is dialling
	Handshaking              // the link is up, the handshake is not done
	Open                     // messages flow
	Closing                  // Disconnect was called or the peer said bye
	Closed                   // the end was reported to the handler, or Close dropped it
)

// String returns the state's name: "connecting", "handshaking", "open",
// "closing" or "closed".
func (s State) String() string {
	switch s {
	case Connecting:
		return "connecting"
	case Handshaking:
		return "handshaking"
	case Open:
		return "open"
	case Closing:
		return "closing"
	case Closed:
		return "closed"
	}
	return fmt.Sprintf("state(%d)", int32(s))
}

// Conn is one connection, on a Server (one per accepted peer, and one per
// server it connects to with Server.Connect) or a Client (one per server
// it connects to).
//
// Send, SendArgs, Disconnect, State, Addr, ID, Identity, Stats, ServerTime and
// Clock may be called from any goroutine. The handler is called only inside Update.
type Conn struct {
	ep   *endpoint
	id   uint64
	addr string
	// dialed: Client.Connect or Server.Connect made it, and it plays the
	// client's part of the handshake (accepted); set at creation.
	dialed bool

	mu    sync.Mutex // guards state, link, enc, buf, reason, and the send path
	state State
	link  transport.Link
	enc   *message.Encoder
	ctlW  message.Writer
	buf   []byte
	// why this side is closing (Disconnect's reason), sent in bye
	reason string
	// what ServerConfig.Approve returned for it; set before it opens
	identity any

	// Read and written only by the goroutine in Update.
	table       *handler.Table
	peerReason  string     // the reason the peer gave in bye or refuse
	peerBye     bool       // the peer said bye
	early       []earlyMsg // messages that overtook the welcome (client)
	earlyBytes  int        // their bytes, earlyOverhead each included
	refused     bool       // the peer refused our handshake
	failure     error      // a local protocol failure that closed the link
	deadline    time.Time  // handshake deadline
	everOpened  bool
	closeReason error  // what OnDisconnect got
	linkErr     error  // what the adapter's Closed reported; set before itemClosed is queued
	hello       []byte // a client's hello data (WithHello); set before its dial starts
	// The peer's host while a server counts it among that host's
	// handshakes (Server.enterHandshake); set in accept, before the link
	// reaches Update, then Update only.
	halfOpenHost string

	// A server's approval in progress (approve.go).
	approving     bool               // Approve runs for it; Update only
	cancelApprove context.CancelFunc // ends Approve's ctx; Update only
	approval      approval           // Approve's outcome; written before itemApproved is queued

	cancelDial context.CancelFunc // a client's dial in progress; guarded by mu

	// Sealing (seal.go). tx, sealBuf: guarded by mu, set once keyed. rx
	// is set once; from then on only the Sink's goroutine uses it, as it
	// does early0 (a client got a sealed payload ahead of the session,
	// and ends). tok and random are a client's, set before its dial
	// starts.
	tx      *sealer
	sealBuf []byte
	rx      atomic.Pointer[opener]
	// A server's: a sealed payload from the client opened, so it holds
	// the token's keys and received the session at its address (set by
	// the Sink), and the identity of an approved connection that waits
	// for that (Update).
	heardSealed    atomic.Bool
	awaitingProof  bool
	provenIdentity any
	// Bytes of the payloads the peer sent (counted by the Sink, before
	// anything else), and of the control payloads sent to it (guarded by
	// mu): what a server may answer a peer in its handshake (owed).
	bytesIn   atomic.Int64
	bytesOut  int
	tok       *token.Public
	random    []byte
	early0    bool
	sealFail  error         // why the Sink ended it; set before itemRejected is queued
	rejectedN atomic.Uint64 // Stats.Rejected
	due       bool          // the flusher has it in a list (batch.go); guarded by mu
	msgsOut   atomic.Uint64 // messages in the sealed batches the adapter took

	pingR    message.Reader // guarded by mu
	heard    atomic.Uint64  // payloads received, pings included: liveness
	heardAt  uint64         // heard at the last liveness check (Update only)
	quietFor int            // liveness checks in a row that heard nothing (Update only)
	rtt      atomic.Int64   // smoothed ping RTT, ns
	rttVar   atomic.Int64

	// The server's clock as a client estimates it (clock.go). clockMu is
	// taken inside mu, never the other way: ServerTime takes it alone.
	clockMu  sync.Mutex                // guards clock, samples, lastTime
	clock    Clock                     // the estimate; Samples counts samples
	samples  [clockSamples]clockSample // the last samples, a ring
	lastTime int64                     // the last ServerTime returned, ns

	msgsIn   atomic.Uint64
	ctlSent  atomic.Uint64 // control payloads sent, left out of MessagesSent
	ctlRecvd atomic.Uint64
}

// ID is a number unique among this process's connections.
func (c *Conn) ID() uint64 { return c.id }

// Addr is the peer's address.
func (c *Conn) Addr() string { return c.addr }

// State is the connection's state now.
func (c *Conn) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// Err is why the connection ended, the *DisconnectError its handler's
// OnDisconnect gets, once its State is Closed; nil before.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeReason
}

// Connected reports whether the connection is open.
func (c *Conn) Connected() bool { return c.State() == Open }

// Handler is the handler attached to the connection, or nil.
func (c *Conn) Handler() any {
	if t := c.table; t != nil {
		return t.Handler
	}
	return nil
}

// String names the connection in logs: "conn#ID(address)".
func (c *Conn) String() string { return fmt.Sprintf("conn#%d(%s)", c.id, c.addr) }

// Send sends a message: a registered struct, a pointer to one (which
// avoids a copy; Send does not keep it), or a message.Value. It returns
// once the message is queued: the adapter sends it soon after, on the
// type's channel with the type's delivery mode (message.Channel and
// message.Deliver at registration; adapters over one stream, TCP, deliver
// every message reliably and in order). A type the registry says the
// other side sends (message.SentBy) is refused with message.ErrDirection. When the adapter's send
// queue for the connection is full (the peer is not keeping up), the
// error matches transport.ErrQueueFull, whatever the adapter: call Update
// (or send less) and send again. Once the connection is closing, whichever
// side ended it, the error matches ErrClosed.
//
// On a sealed connection (Sealed), Send adds the message to a batch of
// its channel and delivery mode, which is sealed and handed to the
// adapter as one payload: soon after, from a goroutine of the endpoint's,
// or by the end of the next Update, whichever comes first (docs/PROTOCOL.md,
// "Sealed connections"). Accepted means it will go: a batch the adapter's
// full queue refuses stays, and goes again by the end of the next Update,
// and Send reports ErrQueueFull only when the message's batch is full and
// the adapter still refuses it. Should the adapter refuse a
// batch for another reason, the connection ends with that reason. What
// Disconnect finds still waiting for a full queue is lost, as its bye is.
func (c *Conn) Send(msg any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != Open {
		return c.notOpen()
	}
	buf, t, err := c.enc.Encode(c.buf[:0], msg)
	c.buf = buf
	if err != nil {
		return c.encodeError(t, err)
	}
	return c.linkSend(t.Channel(), t.Delivery(), buf)
}

// SendArgs sends a message of the named type built from field values in
// order, as pygnetic's send(name, *args); the count must match the type's
// fields.
func (c *Conn) SendArgs(name string, args ...any) error {
	t := c.ep.factory.ByName(name)
	if t == nil {
		return fmt.Errorf("%w: %q", message.ErrUnknownType, name)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != Open {
		return c.notOpen()
	}
	buf, err := c.enc.EncodeArgs(c.buf[:0], t, args...)
	c.buf = buf
	if err != nil {
		return c.encodeError(t, err)
	}
	return c.linkSend(t.Channel(), t.Delivery(), buf)
}

// encodeError is err, which encoding a message of type t gave, said for a
// server's dialed connection when it is a matter of direction: the server
// may well send t to the others.
func (c *Conn) encodeError(t *message.Type, err error) error {
	if c.dialed && c.ep.server != nil && t != nil && errors.Is(err, message.ErrDirection) {
		return c.directionError(t)
	}
	return err
}

// directionError is the error of sending t on a server's dialed
// connection, which sends as a client does.
func (c *Conn) directionError(t *message.Type) error {
	return fmt.Errorf("gonetic: %v was dialed by this server (Server.Connect) and sends as a client does: %w: %s is sent %s only (message.SentBy); register it both ways to send it between servers",
		c, message.ErrDirection, t.Name(), t.SentBy())
}

// sendEncoded sends a payload encoded elsewhere (Broadcast).
func (c *Conn) sendEncoded(t *message.Type, payload []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != Open {
		return c.notOpen()
	}
	return c.linkSend(t.Channel(), t.Delivery(), payload)
}

// linkSend sends a message on the link; c.mu is held. The adapter refuses
// with transport.ErrClosed once the link is closing (the peer ended it),
// which Update learns of only later: that is ErrClosed too.
func (c *Conn) linkSend(channel uint8, d transport.Delivery, payload []byte) error {
	err := c.send(channel, d, payload)
	if err != nil && errors.Is(err, transport.ErrClosed) {
		return errLinkClosed
	}
	return err
}

// send sends a payload on the link, sealed once the connection has keys;
// c.mu is held.
func (c *Conn) send(channel uint8, d transport.Delivery, payload []byte) error {
	if c.tx != nil {
		if err := c.sealedAppend(channel, d, payload, true); err != nil {
			return err
		}
		c.schedule()
		return nil
	}
	return c.link.Send(channel, d, payload)
}

// errLinkClosed matches ErrClosed and transport.ErrClosed.
var errLinkClosed = fmt.Errorf("%w (%w)", ErrClosed, transport.ErrClosed)

func (c *Conn) notOpen() error {
	if c.state < Open {
		return ErrNotConnected
	}
	return ErrClosed
}

// sendControl sends a control payload; c.mu is held.
func (c *Conn) sendControl(ctl control) error {
	if c.ctlW == nil {
		c.ctlW = ctlCodec.NewWriter()
	}
	c.buf = appendControl(c.ctlW, c.buf[:0], ctl)
	c.ctlSent.Add(1)
	c.bytesOut += len(c.buf)
	if c.tx != nil {
		return c.sealedControl(c.buf)
	}
	return c.link.Send(0, transport.Reliable, c.buf)
}

// Disconnect ends the connection: everything already sent is delivered
// first, then the peer is told reason and both handlers get OnDisconnect.
// It returns at once. Calling it again, or on a closed connection, does
// nothing.
func (c *Conn) Disconnect(reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeLocked(reason)
}

// closeLocked sends bye (when there is a link) and closes the link
// gracefully. c.mu is held.
func (c *Conn) closeLocked(reason string) {
	reason = cutReason(reason) // as the peer gets it
	switch c.state {
	case Closing, Closed:
		return
	case Connecting:
		// The dialler sees the state and closes the link it gets.
		c.state = Closing
		c.reason = reason
		if c.cancelDial != nil {
			c.cancelDial()
		}
		return
	}
	told, tell := reason, true
	if c.accepted() && c.state == Handshaking && !c.receives() {
		// A peer that has not shown it receives gets no more than it
		// sent, as a refusal (Server.fitReason): a forged datagram must
		// not buy a longer protocol error; nothing when even an empty
		// bye does not fit.
		told, tell = cutReasonTo(reason, c.owed()-replyOverhead), c.owed() >= replyOverhead
	}
	c.state = Closing
	c.reason = reason
	if tell {
		_ = c.sendControl(control{kind: ctlBye, reason: told})
	}
	c.link.Close()
}

// abort closes at once, without telling the peer or the handler (Close).
func (c *Conn) abort() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == Closed {
		return
	}
	c.state = Closed
	if c.link != nil {
		c.link.Abort()
	}
}

// Stats are a connection's counters.
type Stats struct {
	// Bytes the adapter handed to and read from the operating system,
	// framing and handshake included.
	BytesSent, BytesReceived uint64
	// Messages sent (handed to the operating system; on a sealed
	// connection, in batches handed to the adapter) and received
	// (delivered by Update); handshake and control messages not counted.
	MessagesSent, MessagesReceived uint64
	// RTT and its variance are the round trip of gonetic's own pings
	// (Config.PingInterval), answered by the peer's network goroutine and
	// smoothed as TCP does (RFC 6298): the same measure on every adapter,
	// so that lag compensation does not change when a game swaps one. 0
	// until the first pong: on a client, that of the ping it sends with
	// its hello, so from OnConnect on.
	RTT, RTTVariance time.Duration
	// LinkRTT and LinkRTTVariance are the adapter's own measure where it
	// has one (ENet's, from its acknowledgements, in whole milliseconds);
	// 0 elsewhere.
	LinkRTT, LinkRTTVariance time.Duration
	// PacketLoss is the adapter's loss estimate, 0 to 1 (ENet).
	PacketLoss float64
	// Rejected counts the payloads of a sealed connection (Conn.Sealed)
	// that were dropped, never delivered, because they failed to open
	// (forged or corrupted) or came again or too late (replayed): only
	// sequenced and unsequenced ones on an adapter that may really lose
	// or reorder them (transport.Lossy: ENet). Anywhere else such a
	// payload ends the connection instead.
	Rejected uint64
}

// Stats returns the connection's counters.
func (c *Conn) Stats() Stats {
	c.mu.Lock()
	link, sealed := c.link, c.tx != nil
	c.mu.Unlock()
	var ls transport.Stats
	if link != nil {
		ls = link.Stats()
	}
	sent := ls.PayloadsSent
	if ctl := c.ctlSent.Load(); sealed {
		sent = c.msgsOut.Load() // a payload carries a batch of them
	} else if sent > ctl {
		sent -= ctl
	} else {
		sent = 0
	}
	st := Stats{
		BytesSent:        ls.BytesSent,
		BytesReceived:    ls.BytesReceived,
		MessagesSent:     sent,
		MessagesReceived: c.msgsIn.Load(),
		RTT:              time.Duration(c.rtt.Load()),
		RTTVariance:      time.Duration(c.rttVar.Load()),
		LinkRTT:          time.Duration(ls.RTT),
		LinkRTTVariance:  time.Duration(ls.RTTVariance),
		PacketLoss:       ls.PacketLoss,
		Rejected:         c.rejectedN.Load(),
	}
	return st
}

// connSink is the transport.Sink of one connection: it queues what the
// adapter reports for Update.
type connSink Conn

var _ transport.TrySink = (*connSink)(nil)

func (s *connSink) Receive(channel uint8, payload []byte) { s.take(channel, payload, true) }

// TryReceive is Receive that reports false instead of waiting for room in
// the inbox (transport.TrySink).
func (s *connSink) TryReceive(channel uint8, payload []byte) bool {
	return s.take(channel, payload, false)
}

// take answers a ping or queues a payload for Update, waiting for room in
// the inbox when wait is set, else reporting false when there is none.
func (s *connSink) take(channel uint8, payload []byte, wait bool) bool {
	c := (*Conn)(s)
	c.bytesIn.Add(int64(len(payload)))
	if o := c.rx.Load(); o != nil {
		return c.takeSealed(o, channel, payload, wait)
	}
	if c.tok != nil {
		return c.takeBeforeSession(channel, payload, wait)
	}
	return c.takePlain(channel, payload, wait)
}

// takePlain is take for a payload in clear, or opened.
func (c *Conn) takePlain(channel uint8, payload []byte, wait bool) bool {
	if k := pingKind(payload); k != "" && c.pingPong(k, payload) {
		c.heard.Add(1)
		return true
	}
	if wait {
		c.ep.inbox.push(c, itemPayload, channel, payload)
	} else if !c.ep.inbox.tryPush(c, channel, payload) {
		return false
	}
	c.heard.Add(1)
	return true
}

// pingPong answers a ping, or takes the RTT and the server's clock from a
// pong, on the adapter's goroutine: the RTT does not include the time
// until the next Update. It reports false for a malformed one, which then
// goes to Update to end the connection as any malformed control message
// does.
func (c *Conn) pingPong(kind string, payload []byte) bool {
	var arrived time.Duration
	if kind == ctlPong {
		arrived = time.Since(c.ep.epoch) // before the lock, which a Send may hold
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pingR == nil {
		c.pingR = ctlCodec.NewReader()
	}
	ctl, err := parseControl(c.pingR, payload[1:])
	if err != nil {
		return false
	}
	c.ctlRecvd.Add(1)
	c.pingPongLocked(ctl, arrived)
	return true
}

// pingPongLocked answers a ping with our clock, or takes the RTT and the
// server's clock from a pong that arrived at arrived (since the endpoint's
// start). c.mu is held.
func (c *Conn) pingPongLocked(ctl control, arrived time.Duration) {
	if ctl.kind == ctlPing {
		if c.state == Open || c.state == Handshaking && c.mayAnswer(maxPongBytes) {
			_ = c.sendControl(control{kind: ctlPong, stamp: ctl.stamp, clock: uint64(c.ep.now())})
		}
		return
	}
	rtt := time.Duration(uint64(arrived) - ctl.stamp)
	if rtt < 0 || rtt > time.Hour {
		return // not a stamp of ours
	}
	if ctl.hasClock {
		c.clockSample(ctl.stamp, arrived, ctl.clock)
	}
	// Smoothed as TCP and ENet do: srtt += (rtt-srtt)/8, var += (|d|-var)/4.
	srtt := time.Duration(c.rtt.Load())
	if srtt == 0 {
		c.rtt.Store(int64(rtt))
		c.rttVar.Store(int64(rtt / 2))
		return
	}
	d := rtt - srtt
	c.rtt.Store(int64(srtt + d/8))
	v := time.Duration(c.rttVar.Load())
	c.rttVar.Store(int64(v + (max(d, -d)-v)/4))
}

// ping sends a ping stamped with the time since the endpoint started.
func (c *Conn) ping() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == Open {
		_ = c.sendControl(control{kind: ctlPing, stamp: uint64(time.Since(c.ep.epoch))})
	}
}

func (s *connSink) Closed(err error) {
	c := (*Conn)(s)
	c.linkErr = err // read by Update after it takes the item: the inbox lock orders them
	c.ep.inbox.push(c, itemClosed, 0, nil)
}

// A peer in its handshake has not shown that it receives at its address
// (a datagram's source can be forged), so a server answers it with no
// more bytes than it received from it: replyOverhead is what a refusal
// costs beyond its reason's text, sealed (control encoding 11 bytes, seal
// header and tag 19, a record's length 2), maxPongBytes a whole pong,
// sealed.
const (
	replyOverhead = 32
	maxPongBytes  = 64
)

// owed is how many more payload bytes the peer sent than it was sent in
// control payloads, the only ones a connection sends in its handshake.
// c.mu is held.
func (c *Conn) owed() int {
	return int(c.bytesIn.Load()) - c.bytesOut
}

// mayAnswer reports whether a reply of n bytes may go to the peer: always
// to an accepted peer once it is open or showed it receives, and to one in
// its handshake while it sent more than n bytes beyond what it was sent. A
// dialed connection answers its server freely. c.mu is held.
func (c *Conn) mayAnswer(n int) bool {
	return c.dialed || c.state == Open || c.receives() || c.owed() >= n
}

// receives reports whether a server's peer has shown that it receives at
// its address: its link's own handshake shows it on a stream (TCP's
// three-way handshake, and so WebSocket's), a sealed payload from the
// client (which needed the session to seal it) on a lossy link (ENet,
// whose datagrams' source can be forged).
func (c *Conn) receives() bool {
	_, lossy := c.link.(transport.Lossy)
	return !lossy || c.heardSealed.Load()
}
