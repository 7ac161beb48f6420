package net

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"sync"

	"github.com/gonetic/gonetic/net/transport"
)

// Batches (docs/PROTOCOL.md, "Sealed connections"): a sealed connection
// seals several payloads of one (channel, delivery) stream at once, each a
// record uvarint(length) payload, so that the seal's fixed cost (~200 ns
// each way, docs/PERF.md) is paid per batch, not per message. Send adds a
// record to its stream's batch; the batch leaves when the next record
// would take it over its cap, from the endpoint's flusher goroutine (woken
// by a Send into an empty batch), at Update's flush points, and at once
// for a control payload.

const (
	// unreliableCap keeps a sequenced or unsequenced batch in one ENet
	// datagram (1,372 bytes of payload at its default MTU, less the seal):
	// a lost datagram loses one batch, and no batch needs fragments.
	unreliableCap = 1200
	// reliableCap is large enough that the seal's fixed cost vanishes
	// (~200 ns against ~1 µs per KiB of AEAD), small enough to leave soon.
	reliableCap = 16 << 10
	// sealOverhead is the most a seal adds to its plaintext: channel,
	// delivery, a counter of 10 bytes, the tag.
	sealOverhead = 2 + binary.MaxVarintLen64 + tagSize
)

// batch is the pending plaintext of one stream.
type batch struct {
	plain []byte // records, uvarint(length) payload each
	msgs  uint64 // how many of them are messages, not control (Stats.MessagesSent)
}

// uvarintLen is the length of x's shortest uvarint.
func uvarintLen(x uint64) int { return (bits.Len64(x|1) + 6) / 7 }

// validRecords reports whether plain is one or more records, each a
// length of at least 1 in its shortest uvarint form and that many bytes.
func validRecords(plain []byte) bool {
	if len(plain) == 0 {
		return false
	}
	for len(plain) > 0 {
		n, w := binary.Uvarint(plain)
		if w <= 0 || n == 0 || w != uvarintLen(n) || n > uint64(len(plain)-w) {
			return false
		}
		plain = plain[w+int(n):]
	}
	return true
}

// nextRecord splits the first record off plain, which validRecords took.
func nextRecord(plain []byte) (rec, rest []byte) {
	n, w := binary.Uvarint(plain)
	return plain[w : w+int(n)], plain[w+int(n):]
}

// sealedAppend adds payload to its stream's batch, first sending what
// must go before it: the batch when payload would take it over its cap,
// and, on a link that carries one ordered stream, another stream's batch,
// so that the peer gets every payload in the order sent. An error means
// payload was not taken. c.mu is held.
func (c *Conn) sealedAppend(ch uint8, d transport.Delivery, payload []byte, msg bool) error {
	s := c.tx
	i := int(ch)*3 + int(d)
	if i >= len(s.next) || !d.Valid() {
		return fmt.Errorf("%w (channel %d, %v)", transport.ErrBadChannel, ch, d)
	}
	rec := uvarintLen(uint64(len(payload))) + len(payload)
	if rec > s.maxPlain {
		return transport.ErrPayloadTooLarge
	}
	b := &s.batches[i]
	limit := reliableCap
	if d != transport.Reliable {
		limit = unreliableCap
	}
	limit = min(limit, s.maxPlain)
	if len(s.order) > 0 && (len(b.plain) > 0 && len(b.plain)+rec > limit || len(b.plain) == 0 && !s.lossy) {
		if err := c.flushSealed(); err != nil {
			return err
		}
	}
	if len(b.plain) == 0 {
		s.order = append(s.order, i)
	}
	b.plain = binary.AppendUvarint(b.plain, uint64(len(payload)))
	b.plain = append(b.plain, payload...)
	if msg {
		b.msgs++
	}
	return nil
}

// flushSealed seals and sends the pending batches, in the order their
// first records came; c.mu is held. A batch the adapter refuses for a full
// queue stays, with those after it, for the next flush, its counter not
// used; one refused otherwise is dropped: the link is closing, or the
// connection ends, since Send accepted its messages. It returns the first
// refusal.
func (c *Conn) flushSealed() error {
	s := c.tx
	var first error
	done := 0
	for _, i := range s.order {
		b := &s.batches[i]
		err := c.sealedSend(uint8(i/3), transport.Delivery(i%3), b.plain)
		if errors.Is(err, transport.ErrQueueFull) {
			first = err
			break
		}
		if err == nil {
			c.msgsOut.Add(b.msgs)
		} else if first == nil {
			first = err
		}
		b.plain, b.msgs = b.plain[:0], 0
		done++
	}
	s.order = s.order[:copy(s.order, s.order[done:])]
	if first != nil && !errors.Is(first, transport.ErrQueueFull) && !errors.Is(first, transport.ErrClosed) && c.state == Open {
		c.closeLocked("gonetic: a batch of messages could not be sent: " + first.Error())
	}
	return first
}

// sealedControl sends a control payload on a sealed connection: it leaves
// at once, after what its stream (and, on one ordered stream, the
// others) holds. c.mu is held.
func (c *Conn) sealedControl(payload []byte) error {
	if err := c.sealedAppend(0, transport.Reliable, payload, false); err != nil {
		return err
	}
	err := c.flushSealed()
	if errors.Is(err, transport.ErrQueueFull) {
		c.schedule() // it went into the batch: it leaves later
	}
	return err
}

// schedule has the endpoint's flusher send c's batches soon; c.mu is held.
func (c *Conn) schedule() {
	if c.due {
		return
	}
	if f := c.ep.flusher.Load(); f != nil {
		c.due = true
		f.add(c)
	}
}

// flushDue is a flush point's work for c: it sends c's batches and
// reports whether some stay (the adapter's queue is full).
func (c *Conn) flushDue() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.due = false
	if c.tx == nil || len(c.tx.order) == 0 {
		return false
	}
	if errors.Is(c.flushSealed(), transport.ErrQueueFull) {
		c.due = true
		return true
	}
	return false
}

// flusher sends, on one goroutine, the batches of an endpoint's sealed
// connections that a Send started: a server's tick that sends to every
// client in a row wakes it once, and batches fill while it seals. Batches
// the adapter refused for a full queue wait for Update's flush points.
type flusher struct {
	wake chan struct{} // one slot: due connections, or stop
	done chan struct{} // closed when the goroutine returns

	mu      sync.Mutex // guards the fields below; taken inside Conn.mu
	due     []*Conn    // connections to flush, in order
	spare   []*Conn    // the other list, so that steady state allocates nothing
	later   []*Conn    // refused for a full queue: Update retries them
	running bool       // the goroutine is awake or woken, or stopped
	stop    bool
}

// startFlusher starts e's flusher once, unless e is closed.
func (e *endpoint) startFlusher() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.flusher.Load() != nil || e.closed.Load() {
		return
	}
	f := &flusher{wake: make(chan struct{}, 1), done: make(chan struct{})}
	e.flusher.Store(f)
	go f.run()
}

// stopFlusher stops e's flusher, if it started; once no Send can take a
// record (the connections are aborted).
func (e *endpoint) stopFlusher() {
	e.mu.Lock()
	f := e.flusher.Load()
	e.mu.Unlock()
	if f == nil {
		return
	}
	f.mu.Lock()
	f.stop = true
	wake := !f.running
	f.running = true
	f.mu.Unlock()
	if wake {
		f.wake <- struct{}{}
	}
	<-f.done
}

// add makes c due; c.mu is held.
func (f *flusher) add(c *Conn) {
	f.mu.Lock()
	f.due = append(f.due, c)
	wake := !f.running
	f.running = true
	f.mu.Unlock()
	if wake {
		f.wake <- struct{}{}
	}
}

func (f *flusher) run() {
	defer close(f.done)
	for {
		f.mu.Lock()
		for len(f.due) == 0 && !f.stop {
			f.running = false
			f.mu.Unlock()
			<-f.wake
			f.mu.Lock()
		}
		if f.stop {
			f.mu.Unlock()
			return
		}
		due := f.due
		f.due, f.spare = f.spare[:0], nil
		f.mu.Unlock()
		f.flush(due)
		f.mu.Lock()
		f.spare = due[:0]
		f.mu.Unlock()
	}
}

// flush flushes each connection of list, and keeps for Update those the
// adapter refused.
func (f *flusher) flush(list []*Conn) {
	for i, c := range list {
		if c.flushDue() {
			f.mu.Lock()
			f.later = append(f.later, c)
			f.mu.Unlock()
		}
		list[i] = nil
	}
}

// flushSealed is a flush point of Update: the batches still pending leave
// from this goroutine, those the flusher was to send included.
func (e *endpoint) flushSealed() {
	f := e.flusher.Load()
	if f == nil {
		return
	}
	f.mu.Lock()
	if len(f.due) == 0 && len(f.later) == 0 {
		f.mu.Unlock()
		return
	}
	list := append(e.flushing[:0], f.due...)
	list = append(list, f.later...)
	clear(f.due)
	clear(f.later)
	f.due, f.later = f.due[:0], f.later[:0]
	f.mu.Unlock()
	f.flush(list)
	e.flushing = list[:0]
}
