//go:build cgo

package enet

/*
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"github.com/gonetic/gonetic/net/transport"
)

// A link is one peer of a host. Send, Close, Abort and Flush queue work for
// the host's run goroutine; everything ENet is done there.
type link struct {
	h          *host
	slot       uint32
	remote     string
	maxPayload int
	channels   int // negotiated; set before the link is handed out

	mu        sync.Mutex // guards front, scheduled and closing
	front     sendQueue  // filled by Send
	scheduled bool       // on h.ready or h.busy: Send need not schedule again
	closing   bool       // Close, Abort or the end of the link: Send fails

	queued atomic.Int64 // bytes counted against QueueLimit, front and back

	inMu    sync.Mutex // guards in, ended and endErr
	in      recvQueue  // received, not yet taken by deliver
	ended   bool       // the link is over: Closed(endErr) after in
	endErr  error
	inWake  chan struct{} // one slot: deliver has work
	inBytes atomic.Int64  // bytes received and not yet delivered, entryOverhead more per payload
	backlog atomic.Int64  // payloads handed to deliver and not yet delivered
	paused  atomic.Bool   // ENet refuses this peer's packets until deliver drains

	// Owned by the run goroutine.
	c             *C.gn_link
	peer          *C.ENetPeer
	sink          transport.Sink
	try           transport.TrySink // sink, when it can take payloads without blocking
	back          sendQueue         // being handed to ENet
	inBusy        bool
	allIdx        int
	connected     bool
	closeWanted   bool // Close: flush, then disconnect
	disconnecting bool // Close's disconnect started: waiting for the flush (h.flushing), or sent
	done          bool
	connectRes    chan error // dialed link: the outcome of the connect

	bytesSent, bytesRecv, paySent, payRecv atomic.Uint64
	rtt, rttVar                            atomic.Int64
	loss                                   atomic.Uint64 // float64 bits
}

var _ transport.Lossy = (*link)(nil)

// Lossy tells net that ENet may drop, delay or repeat sequenced and
// unsequenced payloads (transport.Lossy).
func (l *link) Lossy() {}

// recvQueue holds received payloads back to back.
type recvQueue struct {
	data []byte
	ents []recvEntry
}

type recvEntry struct {
	n  uint32
	ch uint8
}

func (q *recvQueue) reset() {
	q.data, q.ents = q.data[:0], q.ents[:0]
	if cap(q.data) > shrinkAbove {
		q.data = nil
	}
	if cap(q.ents) > shrinkAbove/8 {
		q.ents = nil
	}
}

// deliver is the link's receive goroutine: it hands what the host's
// goroutine received to the Sink, in order, then Closed once. A Sink that
// blocks holds up only its own link: past the inbox limit the host pauses
// the peer (ENet stops acknowledging its packets) until deliver drained
// half of it. The host's goroutine gives a TrySink its payloads itself,
// sparing a goroutine switch per packet, while deliver has none left to
// deliver and the sink takes them.
func (l *link) deliver(wg *sync.WaitGroup) {
	defer wg.Done()
	var q recvQueue
	for range l.inWake {
		l.inMu.Lock()
		q, l.in = l.in, q
		ended, err := l.ended, l.endErr
		l.inMu.Unlock()
		off := 0
		for _, e := range q.ents {
			end := off + int(e.n)
			l.sink.Receive(e.ch, q.data[off:end:end])
			off = end
		}
		n := len(q.ents)
		l.backlog.Add(-int64(n))
		q.reset()
		if l.inBytes.Add(-int64(off+n*entryOverhead)) <= l.h.inboxLimit/2 && l.paused.Load() {
			l.paused.Store(false)
			l.h.post(op{kind: opResume, l: l})
		}
		if ended {
			l.sink.Closed(err)
			return
		}
	}
}

func (l *link) wakeDeliver() {
	select {
	case l.inWake <- struct{}{}:
	default:
	}
}

// sendQueue is a link's queue of payloads: a list of chunks, each with
// payloads back to back and one entry per payload. The first chunk is the
// queue's own small one, kept while the queue lives, so that a link that
// sends a little at a time (a server's thousand peers, each sent a few
// messages a frame) takes nothing from the pool; a burst goes on in
// chunks that come from and go back to a pool, so that it neither copies
// the queue as it grows nor leaves a burst's worth of memory per link:
// queueing a million 19-byte payloads at once, doubling one slice cost the
// sender a quarter of its CPU (copying, page faults, garbage collection).
// ENet gets one chunk per gn_send_batch, so a bundle never spans two.
type sendQueue struct {
	head, tail *sendChunk
	next       int        // head's first entry not handed to ENet
	off        int        // its offset in head.data
	own        *sendChunk // the queue's first chunk when it has one; never pooled
}

// sendChunk is a block of a sendQueue.
type sendChunk struct {
	data  []byte
	ents  []C.gn_send
	later *sendChunk
}

// Size of a pooled chunk and of a queue's own one: payload bytes and
// entries, whichever fills first. A payload above chunkBytes gets a chunk
// of its own, not pooled.
const (
	chunkBytes = 16 << 10
	chunkEnts  = 1024
	ownBytes   = 1 << 10
	ownEnts    = 64
)

var chunkPool = sync.Pool{New: func() any {
	return &sendChunk{data: make([]byte, 0, chunkBytes), ents: make([]C.gn_send, 0, chunkEnts)}
}}

func (q *sendQueue) empty() bool { return q.head == nil }

// add appends a copy of payload and its entry.
func (q *sendQueue) add(payload []byte, channel uint8, d transport.Delivery) {
	e := C.gn_send{length: C.uint32_t(len(payload)), channel: C.uint8_t(channel), delivery: C.uint8_t(d)}
	t := q.tail
	if t == nil || len(t.ents) == cap(t.ents) || len(payload) > cap(t.data)-len(t.data) {
		switch {
		case len(payload) > chunkBytes:
			t = &sendChunk{data: make([]byte, 0, len(payload)), ents: make([]C.gn_send, 0, 1)}
		case q.head == nil && len(payload) <= ownBytes:
			if q.own == nil {
				q.own = &sendChunk{data: make([]byte, 0, ownBytes), ents: make([]C.gn_send, 0, ownEnts)}
			}
			t = q.own
		default:
			t = chunkPool.Get().(*sendChunk)
		}
		if q.tail == nil {
			q.head = t
		} else {
			q.tail.later = t
		}
		q.tail = t
	}
	t.data = append(t.data, payload...)
	t.ents = append(t.ents, e)
}

// pop drops the head chunk, handed to ENet or not: the queue's own one
// is kept for the next time the queue is empty, a pooled one goes back.
func (q *sendQueue) pop() {
	c := q.head
	q.head, c.later = c.later, nil
	if q.head == nil {
		q.tail = nil
	}
	q.next, q.off = 0, 0
	c.data, c.ents = c.data[:0], c.ents[:0]
	if c != q.own && cap(c.data) == chunkBytes {
		chunkPool.Put(c)
	}
}

// reset drops everything queued.
func (q *sendQueue) reset() {
	for q.head != nil {
		q.pop()
	}
}

// shrinkAbove is the capacity past which a drained receive queue gives its
// memory back rather than keep a burst's worth per link.
const shrinkAbove = 4 << 20

// Send queues a copy of payload; any goroutine. It never blocks on the
// network and fails with ErrQueueFull when Options.QueueLimit bytes wait.
func (l *link) Send(channel uint8, d transport.Delivery, payload []byte) error {
	if int(channel) >= l.channels {
		return transport.ErrBadChannel
	}
	if len(payload) > l.maxPayload {
		return transport.ErrPayloadTooLarge
	}
	if !d.Valid() {
		return fmt.Errorf("enet: unknown delivery %v", d)
	}
	cost := int64(len(payload) + entryOverhead)
	l.mu.Lock()
	if l.closing {
		l.mu.Unlock()
		return transport.ErrClosed
	}
	if l.queued.Load()+cost > l.h.queueLimit {
		l.mu.Unlock()
		return ErrQueueFull
	}
	l.queued.Add(cost)
	l.front.add(payload, channel, d)
	schedule := !l.scheduled
	l.scheduled = true
	l.mu.Unlock()
	if schedule {
		l.h.schedule(l)
	}
	return nil
}

// Flush wakes the host's goroutine, which hands everything queued to ENet
// and sends it; any goroutine. Sends leave on their own: at once, or, on
// a link polled by Update, at the next Poll or within a millisecond.
func (l *link) Flush() { l.h.wake() }

// dropQueued makes Send fail and drops everything queued. Under svc.
func (l *link) dropQueued() {
	l.mu.Lock()
	l.closing = true
	l.front.reset()
	l.mu.Unlock()
	l.back.reset()
	l.queued.Store(0)
}

// Close hands everything queued to ENet, then disconnects once the peer
// acknowledged it all (as enet_peer_disconnect_later does; see
// host.disconnectFlushed); the sink then sees Closed(nil) and the peer
// io.EOF. Any goroutine; returns at once.
func (l *link) Close() {
	l.mu.Lock()
	was := l.closing
	l.closing = true
	l.mu.Unlock()
	if !was {
		l.h.post(op{kind: opClose, l: l})
	}
}

// CloseQuiet is Close for a peer that has not shown it receives at its
// address (transport.QuietCloser): what this side sent and the peer has
// not acknowledged is not resent, and the peer ends at its first
// retransmit timeout without an acknowledgement. Any goroutine; returns
// at once.
func (l *link) CloseQuiet() {
	l.mu.Lock()
	was := l.closing
	l.closing = true
	l.mu.Unlock()
	if !was {
		l.h.post(op{kind: opCloseQuiet, l: l})
	}
}

var _ transport.QuietCloser = (*link)(nil)

// Abort drops what is queued and disconnects at once
// (enet_peer_disconnect_now); the sink sees Closed(nil), the peer
// ErrAborted. Any goroutine; returns at once.
func (l *link) Abort() {
	l.mu.Lock()
	l.closing = true
	l.mu.Unlock()
	l.h.post(op{kind: opAbort, l: l})
}

// Poll services the link's host on the caller's goroutine, unless its
// own goroutine is at it; from then on, Sends wait for the next Poll, one
// millisecond at most (transport.Poller; see the package doc). Any
// goroutine; never blocks.
func (l *link) Poll() { l.h.poll() }

// RemoteAddr is the peer's address as "ip:port". Any goroutine.
func (l *link) RemoteAddr() string { return l.remote }

// Stats returns the link's counters; any goroutine. Bytes are payload
// bytes (ENet's own headers are not counted), sent when handed to ENet.
// RTT, RTTVariance and PacketLoss are ENet's, as of the host's last round.
func (l *link) Stats() transport.Stats {
	return transport.Stats{
		BytesSent:        l.bytesSent.Load(),
		BytesReceived:    l.bytesRecv.Load(),
		PayloadsSent:     l.paySent.Load(),
		PayloadsReceived: l.payRecv.Load(),
		RTT:              l.rtt.Load(),
		RTTVariance:      l.rttVar.Load(),
		PacketLoss:       math.Float64frombits(l.loss.Load()),
	}
}
