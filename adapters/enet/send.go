//go:build cgo

package enet

/*
#include "shim.h"
*/
import "C"

import (
	"errors"
	"time"
	"unsafe"
)

// room reports whether ENet may take another packet of l: nothing in
// flight, or fewer packets than InFlight and fewer bytes than
// InFlightBytes, whatever the next packet's size. gn_send_batch applies the
// same test.
func (h *host) room(l *link) bool {
	n := uint64(l.c.created - l.c.released)
	return n == 0 || (n < uint64(h.opts.InFlight) && uint64(l.c.createdBytes-l.c.releasedBytes) < uint64(h.opts.InFlightBytes))
}

// canPump reports whether another round would hand something to ENet at
// once, so the loop should not sleep.
func (h *host) canPump() bool {
	for _, l := range h.busy {
		if l.done {
			continue
		}
		if l.queued.Load() > 0 && h.room(l) {
			return true
		}
		if l.closeWanted && !l.disconnecting && l.queued.Load() == 0 {
			return true
		}
	}
	return false
}

func (h *host) pump() {
	keep := h.busy[:0]
	for _, l := range h.busy {
		if !l.done && h.pumpLink(l) {
			keep = append(keep, l)
		} else {
			l.inBusy = false
		}
	}
	clear(h.busy[len(keep):])
	h.busy = keep
}

// pumpLink hands what the in-flight bound allows of l's queue to ENet and
// starts a requested close once all is handed out. It reports whether l
// stays busy.
func (h *host) pumpLink(l *link) bool {
	for {
		if l.back.empty() {
			l.mu.Lock()
			if l.front.empty() {
				l.scheduled = false
				l.mu.Unlock()
				if l.closeWanted && !l.disconnecting {
					l.disconnecting = true
					if !h.disconnectFlushed(l) {
						h.flushing = append(h.flushing, l)
					}
				}
				return false
			}
			l.front, l.back = l.back, l.front
			l.mu.Unlock()
		}
		if !h.room(l) {
			return true
		}
		q := &l.back
		c := q.head
		var data *C.uint8_t
		if q.off < len(c.data) {
			data = (*C.uint8_t)(unsafe.Pointer(&c.data[q.off]))
		}
		n := int(C.gn_send_batch(l.c, data, &c.ents[q.next], C.int(len(c.ents)-q.next),
			C.uint64_t(h.opts.InFlight), C.uint64_t(h.opts.InFlightBytes), h.sendMode, &h.out.bytes, &h.out.failed))
		bytes, failed := h.out.bytes, h.out.failed
		q.next += n
		h.handed += uint64(n)
		q.off += int(bytes)
		l.paySent.Add(uint64(n))
		l.bytesSent.Add(uint64(bytes))
		l.queued.Add(-int64(int(bytes) + n*entryOverhead))
		if q.next == len(c.ents) {
			q.pop()
		}
		if failed != 0 {
			if l.peer.state == C.ENET_PEER_STATE_CONNECTED {
				C.enet_peer_disconnect_now(l.peer, C.enet_uint32(DisconnectAbort))
				h.finish(l, errors.New("enet: enet_peer_send failed"))
				return false
			}
			l.dropQueued() // the peer is going away; its disconnect event follows
			return false
		}
	}
}

// disconnectFlushed starts the disconnect of a closing link once ENet
// holds nothing of it unsent or unacknowledged, and reports whether the
// link needs no more waiting (disconnecting, or ENet is ending it anyway).
//
// This is enet_peer_disconnect_later done here, between two services, and
// not by ENet: ENet would send the disconnect from inside the service that
// receives the last acknowledgement, after reading the rest of the
// datagrams of that pass. When the peer closes too (gonetic's bye makes
// both ends close), its own disconnect often comes in that same pass; ENet,
// now disconnecting, drops its queued and still unsent disconnect, takes
// the peer's as the end and does not acknowledge it, so the peer waits for
// its timeout (5 s or more) to learn that the link is over. Started here,
// the disconnect is sent at the start of the next service, before anything
// is read, and either the peer acknowledges it or the two cross, and ENet
// ends both links at once.
func (h *host) disconnectFlushed(l *link) bool {
	if l.done {
		return true
	}
	switch C.gn_flushed(l.c) {
	case 0:
		return false
	case 1:
		C.gn_bye(l.peer, C.uint32_t(DisconnectClose), C.uint32_t(h.opts.PeerTimeout/time.Millisecond))
	}
	return true
}

// checkFlushing starts the disconnect of the closing links that ENet has
// flushed, and reports whether it started any: the loop services the host
// again at once to send them.
func (h *host) checkFlushing() bool {
	started := false
	keep := h.flushing[:0]
	for _, l := range h.flushing {
		if !h.disconnectFlushed(l) {
			keep = append(keep, l)
		} else if !l.done {
			started = true
		}
	}
	clear(h.flushing[len(keep):])
	h.flushing = keep
	return started
}
