//go:build cgo

package enet

/*
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"io"
	"math"
	"syscall"
	"time"

	"github.com/gonetic/gonetic/net/transport"
)

// connected handles ENet's connect event: a dial completing, or a new peer
// at a listener.
func (h *host) connected(slot uint32, data uint32) {
	if d := h.dialer; d != nil {
		if slot == d.slot && !d.done {
			d.connected = true
			d.channels = int(d.peer.channelCount)
			keepThrottle(d.peer)
			h.startDeliver(d)
			d.connectRes <- nil
		}
		return
	}
	peer := C.gn_peer(h.c, C.uint32_t(slot))
	if old := h.links[slot]; old != nil { // cannot happen: ENet reuses a slot only after its disconnect
		h.finish(old, ErrTimeout)
	}
	switch {
	case data != ConnectData:
		C.gn_disconnect(peer, C.uint32_t(DisconnectMismatch))
		return
	case h.shutdown:
		C.gn_disconnect(peer, C.uint32_t(DisconnectRefused))
		return
	}
	l, err := h.newLink(peer)
	if err != nil {
		C.gn_disconnect(peer, C.uint32_t(DisconnectRefused))
		return
	}
	l.connected = true
	l.channels = int(peer.channelCount)
	keepThrottle(peer)
	sink := h.accept(l)
	if l.done { // Abort from inside Accept cannot reach here before; be safe
		return
	}
	if sink == nil {
		C.gn_disconnect(peer, C.uint32_t(DisconnectRefused))
		h.finish(l, nil)
		return
	}
	l.sink = sink
	h.startDeliver(l)
}

func (h *host) startDeliver(l *link) {
	l.try, _ = l.sink.(transport.TrySink)
	l.inWake = make(chan struct{}, 1)
	h.delivering.Add(1)
	go l.deliver(&h.delivering)
}

// newLink maps a peer to a new link. Run goroutine (or Dial before run).
func (h *host) newLink(peer *C.ENetPeer) (*link, error) {
	c := C.gn_link_new(peer)
	if c == nil {
		return nil, errors.New("enet: out of memory")
	}
	l := &link{
		h:          h,
		c:          c,
		peer:       peer,
		slot:       uint32(C.gn_slot(h.c, peer)),
		remote:     formatAddr(peer.address),
		maxPayload: h.cfg.MaxPayload,
		channels:   h.cfg.Channels,
	}
	if h.opts.PeerTimeout > 0 {
		ms := C.enet_uint32(h.opts.PeerTimeout / time.Millisecond)
		C.enet_peer_timeout(peer, 0, ms, ms)
	}
	l.allIdx = len(h.all)
	h.all = append(h.all, l)
	h.links[l.slot] = l
	return l, nil
}

// finish ends l after its peer was reset (by ENet before a disconnect
// event, or by the caller) and tells its sink, or its Dial.
func (h *host) finish(l *link, err error) {
	l.done = true
	l.dropQueued()
	h.links[l.slot] = nil
	last := h.all[len(h.all)-1]
	h.all[l.allIdx] = last
	last.allIdx = l.allIdx
	h.all[len(h.all)-1] = nil
	h.all = h.all[:len(h.all)-1]
	C.gn_link_free(l.c) // the peer is reset: ENet holds none of its packets
	l.c = nil
	switch {
	case !l.connected:
		l.connectRes <- err
	case l.inWake != nil:
		l.inMu.Lock()
		l.ended, l.endErr = true, err
		l.inMu.Unlock()
		l.wakeDeliver()
	}
}

// disconnectErr is what a link's sink sees when ENet reports its end.
func (h *host) disconnectErr(l *link, code uint32) error {
	if !l.connected {
		if code == 0 {
			return ErrTimeout
		}
		return codeErr(code)
	}
	if l.closeWanted {
		return nil
	}
	return codeErr(code)
}

func codeErr(code uint32) error {
	switch code {
	case 0:
		return ErrTimeout
	case DisconnectClose:
		return io.EOF
	case DisconnectAbort:
		return ErrAborted
	case DisconnectRefused:
		return ErrRefused
	case DisconnectMismatch:
		return ErrMismatch
	case DisconnectTooLarge:
		return ErrTooLarge
	case DisconnectMalformed:
		return ErrMalformed
	}
	return fmt.Errorf("enet: peer disconnected with unknown code %d", code)
}

// refreshStats copies ENet's view of every live peer into its link's
// snapshot, which Stats reads from any goroutine.
func (h *host) refreshStats() {
	for _, l := range h.all {
		p := l.peer
		l.rtt.Store(int64(p.roundTripTime) * int64(time.Millisecond))
		l.rttVar.Store(int64(p.roundTripTimeVariance) * int64(time.Millisecond))
		l.loss.Store(math.Float64bits(float64(p.packetLoss) / float64(C.ENET_PEER_PACKET_LOSS_SCALE)))
	}
}

func errnoErr(e C.int) error {
	if e == 0 {
		return errors.New("unknown error")
	}
	return syscall.Errno(e)
}

// keepThrottle stops ENet's packet throttle from dropping unreliable
// packets when the round trip rises (enet_peer_throttle_configure with a
// deceleration of 0; ENet sends the peer the same setting): a sequenced
// payload is then lost only when the network loses it or a newer one
// overtook it. The throttle took the round trip's rise for congestion
// even on a loopback, where it comes from a busy CPU, and dropped
// snapshots a game had paced itself (docs/PERF.md). A bandwidth limit
// (Options.OutgoingBandwidth, IncomingBandwidth) still throttles: ENet
// applies it through the throttle's limit, not its deceleration.
func keepThrottle(p *C.ENetPeer) {
	C.enet_peer_throttle_configure(p, C.ENET_PEER_PACKET_THROTTLE_INTERVAL, C.ENET_PEER_PACKET_THROTTLE_ACCELERATION, 0)
}
