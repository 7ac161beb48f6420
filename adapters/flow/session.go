package flow

import (
	"errors"
	"fmt"
	"sync"
	"time"

	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/transport"
)

// wire carries the frames of one connection. Both methods are safe for
// concurrent use and never block on the network.
type wire interface {
	// send sends any frame but flow_data.
	send(fr *frame) error
	// sendData sends a flow_data frame whose chunk is buf[headroom:]; the
	// wire may use buf[:headroom] for its own header. It takes buf, and
	// gives it back to the endpoint's pool once sent.
	sendData(flow, flags uint64, buf []byte) error
}

// headroom is the space left in front of every chunk for a wire's header.
const headroom = 32

// ackEvery is how many flow_data bytes a receiver takes in before it sends
// a flow_ack, on connections that pace (a Station's). Part of the protocol.
const ackEvery = 16 << 10

// session is the flow side of one connection: the flows on it, the
// pacing of what is in flight, and the dispatch of incoming frames.
type session struct {
	ep     *endpoint
	w      wire
	odd    bool       // the flows this side opens have odd ids
	conn   *gnet.Conn // the connection, on a Station
	remote string     // the peer's address
	acks   bool       // send flow_ack for data received
	limit  int64      // pacing: most data bytes unacknowledged; 0 for none
	rate   float64    // pacing: most data bytes a second; 0 for none

	openMu sync.Mutex // keeps flow_open frames in id order

	mu       sync.Mutex // guards the fields below
	flows    map[uint64]*flowState
	nextID   uint64    // next id for a flow opened here
	lastPeer uint64    // highest id of a flow the peer opened
	dead     *Error    // set once the connection is gone
	inflight int64     // data bytes sent and not acknowledged
	tokens   float64   // rate: bytes that may leave now; below 0 by a chunk at most
	tick     time.Time // rate: when tokens was last topped up
	paced    chan struct{}
	unacked  int64 // data bytes received since the last flow_ack
	received int64 // data bytes received in all, on a session that acks (tests watch it)
}

func newSession(ep *endpoint, w wire, odd bool, remote string) *session {
	s := &session{
		ep: ep, w: w, odd: odd, remote: remote,
		rate:  float64(ep.cfg.Rate),
		tick:  time.Now(),
		flows: make(map[uint64]*flowState),
		paced: make(chan struct{}),
	}
	s.nextID = 2
	if odd {
		s.nextID = 1
	}
	return s
}

// flow returns the live flow with the given id, or nil.
func (s *session) flow(id uint64) *flowState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.flows[id]
}

func (s *session) remove(id uint64) {
	s.mu.Lock()
	delete(s.flows, id)
	s.mu.Unlock()
}

// receive handles one incoming frame. It runs on the carrier's goroutine
// (Update for a Station, the adapter's reader for a Server or Client) and
// never blocks: flows queue what arrives within the credit they gave.
func (s *session) receive(fr *frame) {
	switch fr.kind {
	case kOpen:
		s.opened(fr)
	case kData:
		if s.acks {
			s.countAck(len(fr.data))
		}
		if f := s.flow(fr.flow); f != nil {
			f.pushData(fr.flags, fr.data)
		} else {
			s.ep.pool.put(fr.data) // a flow that ended meanwhile
		}
	case kCredit:
		if f := s.flow(fr.flow); f != nil {
			f.out.addCredit(f, fr.n)
		}
	case kEnd:
		if f := s.flow(fr.flow); f != nil {
			f.pushEnd(fr.flags, fr.data)
		}
	case kFail:
		if f := s.flow(fr.flow); f != nil {
			code := Code(min(fr.n, 255))
			if code == 0 || code > CodeClosing {
				code = CodeProtocol
			}
			// What the peer sent before its flow_fail is read first.
			f.finishAfterQueued(&Error{Name: f.name, Code: code, Remote: true, Message: fr.text})
		}
	case kAck:
		s.acked(int64(min(fr.n, 1<<40)))
	}
}

// opened starts the handler of a flow the peer opens.
func (s *session) opened(fr *frame) {
	id := fr.flow
	if hook := s.ep.hookOpened.Load(); hook != nil {
		(*hook)(fr.text)
	}
	refuse := func(code Code, msg string) {
		s.ep.cfg.Logger.Info("flow: refused", "remote", s.remote, "flow", id, "name", fr.text, "reason", msg)
		_ = s.w.send(&frame{kind: kFail, flow: id, n: uint64(code), text: msg})
	}
	s.mu.Lock()
	if s.dead != nil {
		s.mu.Unlock()
		return
	}
	if id == 0 || (id%2 == 1) == s.odd || id <= s.lastPeer {
		s.mu.Unlock()
		refuse(CodeProtocol, fmt.Sprintf("flow id %d: the flows a dialer opens have odd ids, a listener's even, each above the last", id))
		return
	}
	s.lastPeer = id
	s.mu.Unlock()
	comp := Compression(fr.flags & compressionMask)
	if !comp.valid() {
		refuse(CodeProtocol, fmt.Sprintf("unknown compression %d", comp))
		return
	}
	if len(fr.data) > MaxChunkSize {
		refuse(CodeTooLarge, fmt.Sprintf("header of %d bytes, more than %d", len(fr.data), MaxChunkSize))
		return
	}
	nh, code, msg := s.ep.admit(fr.text)
	if code != 0 {
		refuse(code, msg)
		return
	}
	f := newFlow(s, id, fr.text, false, comp)
	f.header = Packet{data: fr.data, value: fr.flags&flagValue != 0, r: f.in.r}
	s.mu.Lock()
	if s.dead != nil {
		s.mu.Unlock()
		f.finish(s.dead)
		s.ep.release()
		return
	}
	s.flows[id] = f
	s.mu.Unlock()
	f.grant()
	go f.runHandler(nh) // counted by admit
}

// open starts a flow from this side.
func (s *session) open(req *Request) (*flowState, error) {
	if !req.Compression.valid() {
		return nil, &Error{Name: req.Name, Code: CodeAborted, Message: fmt.Sprintf("unknown compression %d", req.Compression)}
	}
	s.openMu.Lock()
	defer s.openMu.Unlock()
	s.mu.Lock()
	if s.dead != nil {
		e := *s.dead
		e.Name = req.Name
		s.mu.Unlock()
		return nil, &e
	}
	id := s.nextID
	s.nextID += 2
	f := newFlow(s, id, req.Name, true, req.Compression)
	s.flows[id] = f
	s.mu.Unlock()

	header, value, err := f.out.encode(req.Header)
	if err == nil && len(header) > MaxChunkSize {
		err = fmt.Errorf("%w: header of %d bytes, more than %d", ErrTooLarge, len(header), MaxChunkSize)
	}
	if err != nil {
		code := CodeAborted
		if errors.Is(err, ErrTooLarge) {
			code = CodeTooLarge
		}
		e := &Error{Name: req.Name, Code: code, Message: "header: " + err.Error(), Err: err}
		f.finish(e)
		return nil, e
	}
	flags := uint64(req.Compression)
	if value {
		flags |= flagValue
	}
	if err := s.w.send(&frame{kind: kOpen, flow: id, text: req.Name, flags: flags, data: header}); err != nil {
		return nil, f.sendFailed(err)
	}
	f.grant()
	return f, nil
}

// countAck counts received data and acknowledges it every ackEvery bytes.
func (s *session) countAck(n int) {
	s.mu.Lock()
	s.unacked += int64(n)
	s.received += int64(n)
	var ack int64
	if s.unacked >= ackEvery {
		ack, s.unacked = s.unacked, 0
	}
	s.mu.Unlock()
	if ack > 0 {
		_ = s.w.send(&frame{kind: kAck, n: uint64(ack)})
	}
}

// acked releases paced senders.
func (s *session) acked(n int64) {
	s.mu.Lock()
	s.inflight -= n // may dip below 0 until the sender's adjust: fine
	close(s.paced)
	s.paced = make(chan struct{})
	s.mu.Unlock()
}

// pace waits until the connection has room for one more chunk of f, in
// flight (limit) and in time (rate), and reserves ChunkSize bytes of both.
// It returns false if f ended meanwhile.
func (s *session) pace(f *flowState) bool {
	if s.limit <= 0 && s.rate <= 0 {
		return true
	}
	chunk := int64(s.ep.cfg.ChunkSize)
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		s.mu.Lock()
		var wait time.Duration
		if s.rate > 0 {
			now := time.Now()
			// Bursts of up to 10 ms of the rate, so that late timer
			// wake-ups do not lower it; InFlight still bounds the queue.
			s.tokens = min(max(2*float64(chunk), s.rate/100), s.tokens+s.rate*now.Sub(s.tick).Seconds())
			s.tick = now
			if s.tokens < 0 {
				wait = time.Duration(-s.tokens / s.rate * float64(time.Second))
			}
		}
		if s.dead != nil || (wait == 0 && (s.limit <= 0 || s.inflight < s.limit)) {
			s.inflight += chunk
			s.tokens -= float64(chunk)
			s.mu.Unlock()
			return true
		}
		ch := s.paced
		s.mu.Unlock()
		var tick <-chan time.Time
		if wait > 0 {
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			tick = timer.C
		}
		select {
		case <-ch:
		case <-tick:
		case <-f.done:
			return false
		}
	}
}

// adjust corrects a reservation made by pace to the size really sent.
func (s *session) adjust(sent int) {
	if s.limit <= 0 && s.rate <= 0 {
		return
	}
	s.mu.Lock()
	s.inflight += int64(sent) - int64(s.ep.cfg.ChunkSize)
	s.tokens += float64(s.ep.cfg.ChunkSize - sent)
	s.mu.Unlock()
}

// lost ends every flow of a connection that is gone.
func (s *session) lost(cause error) {
	msg := "the connection closed"
	if cause != nil {
		msg = "the connection broke: " + cause.Error()
	}
	s.end(&Error{Code: CodeConnLost, Message: msg, Err: cause})
}

// end ends every flow with e (copied per flow, named after it) and refuses
// new ones. It tells the peer nothing.
func (s *session) end(e *Error) {
	s.mu.Lock()
	if s.dead != nil {
		s.mu.Unlock()
		return
	}
	s.dead = e
	flows := make([]*flowState, 0, len(s.flows))
	for _, f := range s.flows {
		flows = append(flows, f)
	}
	close(s.paced)
	s.paced = make(chan struct{})
	s.mu.Unlock()
	for _, f := range flows {
		if f.opener && f.hasEnd() {
			continue // the handler's verdict arrived: the caller reads it
		}
		fe := *e
		fe.Name = f.name
		f.finish(&fe)
	}
}

// closeFlows ends every flow because this end closes: the peer of each is
// told with code, then the session is ended with CodeClosed locally.
func (s *session) closeFlows(code Code, msg string) {
	s.mu.Lock()
	flows := make([]*flowState, 0, len(s.flows))
	for _, f := range s.flows {
		flows = append(flows, f)
	}
	s.mu.Unlock()
	for _, f := range flows {
		if f.finish(&Error{Name: f.name, Code: CodeClosed, Message: msg, Err: ErrClosed}) {
			_ = s.w.send(&frame{kind: kFail, flow: f.id, n: uint64(code), text: msg})
		}
	}
	s.end(&Error{Code: CodeClosed, Message: msg, Err: ErrClosed})
}

// isGone reports whether a send error means the connection is gone.
func isGone(err error) bool {
	return errors.Is(err, gnet.ErrClosed) || errors.Is(err, gnet.ErrNotConnected) ||
		errors.Is(err, transport.ErrClosed) || errors.Is(err, ErrClosed)
}
