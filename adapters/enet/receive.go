//go:build cgo

package enet

/*
#include "shim.h"
*/
import "C"

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"
	"unsafe"

	"github.com/gonetic/gonetic/net/transport"
)

// serviceAll is service, and ends a dialed link whose server's port turned
// out closed. It reports whether ENet failed.
func (h *host) serviceAll() bool {
	failed := h.service()
	if failed && h.dialer != nil && syscall.Errno(h.c.lastError) == syscall.ECONNREFUSED && !h.dialer.done {
		// Only a dialing host's socket is connected, so only it learns
		// that nobody listens at the other end.
		err := errRefusedPort
		if h.dialer.closeWanted {
			err = nil
		}
		C.enet_peer_reset(h.dialer.peer)
		h.finish(h.dialer, err)
	}
	return failed
}

// service runs enet_host_service until it has no more events, delivering
// them. It reports whether ENet failed.
func (h *host) service() bool {
	for {
		n := int(C.gn_service(h.c, &h.evs[0], C.int(len(h.evs)), (*C.uint8_t)(unsafe.Pointer(&h.buf[0])),
			C.uint32_t(len(h.buf)), C.uint64_t(h.copyLimit), &h.out.need, &h.out.status))
		need, status := h.out.need, h.out.status
		for i := range n {
			h.handle(&h.evs[i])
		}
		switch status {
		case C.GN_DONE:
			return false
		case C.GN_ERROR:
			return true
		}
		if int(need) > len(h.buf) {
			h.buf = make([]byte, max(int(need), 2*len(h.buf)))
		}
	}
}

func (h *host) handle(e *C.gn_event) {
	slot := uint32(e.slot)
	l := h.links[slot]
	switch e._type {
	case C.GN_EV_CONNECT:
		h.connected(slot, uint32(e.data))
	case C.GN_EV_DISCONNECT:
		if l != nil {
			h.finish(l, h.disconnectErr(l, uint32(e.data)))
		}
	case C.GN_EV_RECEIVE:
		if l == nil || l.sink == nil {
			return
		}
		off, n := int(e.offset), int(e.length)
		p, ch := h.buf[off:off+n:off+n], uint8(e.channel)
		if n > 0 && p[0] == bundleMark {
			h.unbundle(l, ch, p)
		} else if n > h.cfg.MaxPayload {
			h.tooLarge(l, n, ch)
		} else {
			h.receive(l, ch, p)
		}
	case C.GN_EV_OVERSIZE:
		if l != nil {
			h.tooLarge(l, int(e.length), uint8(e.channel))
		}
	}
}

// receive hands one payload to l's sink, or to its inbox for deliver.
func (h *host) receive(l *link, ch uint8, p []byte) {
	n := len(p)
	l.payRecv.Add(1)
	l.bytesRecv.Add(uint64(n))
	if l.try != nil && l.backlog.Load() == 0 && l.try.TryReceive(ch, p) {
		return
	}
	l.backlog.Add(1)
	l.inMu.Lock()
	l.in.data = append(l.in.data, p...)
	l.in.ents = append(l.in.ents, recvEntry{n: uint32(n), ch: ch})
	l.inMu.Unlock()
	held := l.inBytes.Add(int64(n + entryOverhead))
	switch {
	case !internals && held > inboxCapFactor*h.inboxLimit:
		// Only libenet's internals can pause one peer of a host; the
		// public API would have the inbox grow without bound.
		C.enet_peer_disconnect_now(l.peer, C.enet_uint32(DisconnectAbort))
		h.finish(l, errSinkBehind)
		return
	case internals && held > h.inboxLimit && !l.paused.Load():
		l.paused.Store(true)
		C.gn_link_pause(l.c, 1)
	}
	l.wakeDeliver()
}

// inboxCapFactor times the inbox limit is what a link holds for a Sink
// that does not keep up before the link ends with errSinkBehind, when the
// shim may not pause the peer (libenet internals, see gn_init).
const inboxCapFactor = 16

var errSinkBehind = errors.New("enet: the Sink fell too far behind and the link was ended: " +
	"this libenet is used through its public API only, which cannot pause one peer (see the package doc, libenet versions)")

// Bundles (docs/PROTOCOL.md): a packet that starts with bundleMark carries
// payloads, each preceded by its length as a uvarint. A sender makes them
// no larger than one datagram, maxBundle at most (ENet's largest MTU).
const (
	bundleMark = C.GN_BUNDLE_MARK
	maxBundle  = C.ENET_PROTOCOL_MAXIMUM_MTU
)

// unbundle hands the payloads of bundle b to l in order, once it checked
// them all: a malformed bundle, or one with a payload above MaxPayload,
// ends the link and delivers none of them.
func (h *host) unbundle(l *link, ch uint8, b []byte) {
	rest, count := b[1:], 0
	for len(rest) > 0 {
		m, k := binary.Uvarint(rest)
		if k <= 0 || k > binary.MaxVarintLen32 {
			h.malformed(l, ch, fmt.Sprintf("the length of payload %d is not a varint of at most 5 bytes", count+1))
			return
		}
		if m > uint64(len(rest)-k) {
			h.malformed(l, ch, fmt.Sprintf("payload %d runs past the end", count+1))
			return
		}
		if m > uint64(h.cfg.MaxPayload) {
			h.tooLarge(l, int(m), ch)
			return
		}
		rest = rest[k+int(m):]
		count++
	}
	if count == 0 {
		h.malformed(l, ch, "no payload")
		return
	}
	for rest = b[1:]; len(rest) > 0 && !l.done; {
		m, k := binary.Uvarint(rest)
		end := k + int(m)
		h.receive(l, ch, rest[k:end:end])
		rest = rest[end:]
	}
}

// tooLarge ends l for a payload of n bytes above MaxPayload, and tells the
// peer (DisconnectTooLarge).
func (h *host) tooLarge(l *link, n int, ch uint8) {
	C.enet_peer_disconnect_now(l.peer, C.enet_uint32(DisconnectTooLarge))
	h.finish(l, &transport.FrameError{Reason: fmt.Sprintf(
		"enet payload of %d bytes on channel %d, above Config.MaxPayload %d", n, ch, h.cfg.MaxPayload)})
}

// malformed ends l for a bundle it cannot split, and tells the peer
// (DisconnectMalformed).
func (h *host) malformed(l *link, ch uint8, why string) {
	C.enet_peer_disconnect_now(l.peer, C.enet_uint32(DisconnectMalformed))
	h.finish(l, &transport.FrameError{Reason: fmt.Sprintf("enet bundle on channel %d: %s", ch, why)})
}
