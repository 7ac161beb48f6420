package net

import (
	"sync"
	"time"
)

// itemKind says what an inbox item reports.
type itemKind uint8

const (
	itemPayload  itemKind = iota // a payload arrived
	itemClosed                   // the link ended (err says why)
	itemOpened                   // a server accepted a link: start its handshake clock
	itemApproved                 // ServerConfig.Approve returned (Conn.approval)
	itemRejected                 // a sealed payload ends the connection (Conn.sealFail)
	itemProven                   // a server's first sealed payload from the client opened
)

// item is one thing that happened on one connection, waiting for Update.
type item struct {
	conn     *Conn
	off, len uint32 // the payload, in the batch's data
	kind     itemKind
	channel  uint8
}

// maxItems bounds the items waiting for Update, as limit bounds their
// bytes: past it pushes wait. It keeps the item slices from growing (and
// being copied) without end when Update falls behind.
const maxItems = 1 << 16

// inbox hands what adapter goroutines receive to the goroutine that calls
// Update: a lock-protected pair of slices plus a one-slot wake-up channel.
// Payload bytes are copied into one growing slab, so steady state allocates
// nothing; Update swaps the slabs.
type inbox struct {
	wake chan struct{} // one slot: "something arrived since you last looked"

	mu     sync.Mutex // guards everything below
	space  sync.Cond  // signalled when data shrinks or the inbox closes
	items  []item
	data   []byte
	limit  int  // bytes of data above which pushes wait (backpressure)
	closed bool // pushes are dropped, waits end
}

func newInbox(limit int) *inbox {
	in := &inbox{wake: make(chan struct{}, 1), limit: limit,
		items: make([]item, 0, 1024), data: make([]byte, 0, 64<<10)}
	in.space.L = &in.mu
	return in
}

// push queues one item; payload is copied. A payload push waits while the
// inbox holds more than its limits, which stops the adapter reading.
func (in *inbox) push(c *Conn, kind itemKind, channel uint8, payload []byte) {
	in.mu.Lock()
	for kind == itemPayload && in.fullLocked(len(payload)) {
		in.space.Wait()
	}
	in.appendLocked(c, kind, channel, payload)
}

// tryPush queues a payload as push does, or reports false at once when
// push would wait.
func (in *inbox) tryPush(c *Conn, channel uint8, payload []byte) bool {
	in.mu.Lock()
	if in.fullLocked(len(payload)) {
		in.mu.Unlock()
		return false
	}
	in.appendLocked(c, itemPayload, channel, payload)
	return true
}

// fullLocked reports whether a payload of n bytes must wait for room.
func (in *inbox) fullLocked(n int) bool {
	return len(in.items) > 0 && !in.closed && (len(in.data)+n > in.limit || len(in.items) >= maxItems)
}

// appendLocked queues an item, unlocks, and wakes Update if it may sleep.
func (in *inbox) appendLocked(c *Conn, kind itemKind, channel uint8, payload []byte) {
	if in.closed {
		in.mu.Unlock()
		return
	}
	wasEmpty := len(in.items) == 0
	in.items = append(in.items, item{conn: c, kind: kind, channel: channel, off: uint32(len(in.data)), len: uint32(len(payload))})
	in.data = append(in.data, payload...)
	in.mu.Unlock()
	if wasEmpty {
		select {
		case in.wake <- struct{}{}:
		default:
		}
	}
}

// take waits up to timeout for at least one item, then swaps everything
// queued with the caller's (processed) buffers and returns it.
func (in *inbox) take(timeout time.Duration, timer *time.Timer, items []item, data []byte) ([]item, []byte) {
	if timeout > 0 {
		in.mu.Lock()
		empty := len(in.items) == 0
		in.mu.Unlock()
		if empty {
			timer.Reset(timeout)
			select {
			case <-in.wake:
			case <-timer.C:
			}
			timer.Stop()
		}
	}
	select { // a token left by what we are about to take would wake us for nothing
	case <-in.wake:
	default:
	}
	in.mu.Lock()
	items, in.items = in.items, items[:0]
	data, in.data = in.data, data[:0]
	in.mu.Unlock()
	in.space.Broadcast()
	return items, data
}

// close drops every later push and releases waiting pushers.
func (in *inbox) close() {
	in.mu.Lock()
	in.closed = true
	in.mu.Unlock()
	in.space.Broadcast()
	select {
	case in.wake <- struct{}{}:
	default:
	}
}

// wakeUp ends a wait in take without adding anything.
func (in *inbox) wakeUp() {
	select {
	case in.wake <- struct{}{}:
	default:
	}
}
