//go:build cgo

package enet

/*
#include "shim.h"
*/
import "C"

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"github.com/gonetic/gonetic/net/transport"
)

// Listen binds an ENet host to addr ("host:port", IPv4; port 0 picks a free
// one) with Options.PeerLimit peer slots and cfg.Channels channels, and
// calls accept, on the host's goroutine, for every peer that connects with
// ConnectData. Any goroutine.
func (t *Transport) Listen(addr string, cfg transport.Config, accept transport.Accept) (transport.Listener, error) {
	if err := available(); err != nil {
		return nil, err
	}
	if accept == nil {
		return nil, errors.New("enet: Listen needs an Accept function")
	}
	cfg, err := checkConfig(cfg)
	if err != nil {
		return nil, err
	}
	a, ap, err := resolve(context.Background(), addr, true)
	if err != nil {
		return nil, err
	}
	opts := t.settings()
	h, err := newHost(opts, cfg, &a, opts.PeerLimit)
	if err != nil {
		return nil, fmt.Errorf("enet: listen %s: %w", addr, err)
	}
	h.accept = accept
	h.addr = netip.AddrPortFrom(ap.Addr(), uint16(C.gn_host_port(h.c))).String()
	go h.run()
	return &listener{h: h}, nil
}

// Dial connects to addr with a host of its own (one peer slot) and returns
// the link once ENet reports it connected, or fails when ctx ends, the
// peer does not answer (ErrTimeout) or, on Linux, nobody listens there
// (syscall.ECONNREFUSED: the socket is connected to addr, so the ICMP error
// comes back; a connected link whose server goes away ends the same way).
// Any goroutine.
func (t *Transport) Dial(ctx context.Context, addr string, cfg transport.Config, sink transport.Sink) (transport.Link, error) {
	if err := available(); err != nil {
		return nil, err
	}
	if sink == nil {
		return nil, errors.New("enet: Dial needs a Sink")
	}
	cfg, err := checkConfig(cfg)
	if err != nil {
		return nil, err
	}
	a, _, err := resolve(ctx, addr, false)
	if err != nil {
		return nil, err
	}
	opts, connectData := t.settings(), cmp.Or(knobs.connectData, ConnectData)
	h, err := newHost(opts, cfg, nil, 1)
	if err != nil {
		return nil, fmt.Errorf("enet: dial %s: %w", addr, err)
	}
	peer := C.enet_host_connect(h.c.host, &a, C.size_t(cfg.Channels), C.enet_uint32(connectData))
	if peer == nil {
		h.sock.Close()
		C.gn_host_free(h.c)
		return nil, fmt.Errorf("enet: dial %s: enet_host_connect failed", addr)
	}
	C.gn_host_aim(h.c, &a)
	l, err := h.newLink(peer)
	if err != nil {
		C.enet_peer_reset(peer)
		h.sock.Close()
		C.gn_host_free(h.c)
		return nil, err
	}
	l.sink = sink
	l.connectRes = make(chan error, 1)
	h.dialer = l
	go h.run()
	select {
	case err = <-l.connectRes:
	case <-ctx.Done():
		h.post(op{kind: opCancel})
		err = <-l.connectRes
	}
	if err != nil {
		<-h.done
		if err == errCanceled {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("enet: dial %s: %w", addr, err)
	}
	return l, nil
}

// listener is a listening host.
type listener struct {
	h    *host
	once sync.Once
}

// Addr is the bound address, with the port the system picked for port 0.
func (ln *listener) Addr() string { return ln.h.addr }

// Poll services the host on the caller's goroutine, unless its own
// goroutine is at it; from then on, the links' Sends wait for the next
// Poll, one millisecond at most (transport.Poller; see the package doc).
// Accept and the sinks may run on the caller's goroutine. Any goroutine;
// never blocks.
func (ln *listener) Poll() { ln.h.poll() }

// Close refuses new peers, closes every link as Link.Close does, waits up
// to Options.ShutdownTimeout for them to flush and be acknowledged, drops
// the rest (ErrAborted at their peers), destroys the host and returns once
// its goroutine ended. Idempotent; any goroutine but the host's own (not
// from a Sink or Accept).
func (ln *listener) Close() error {
	ln.once.Do(func() { ln.h.post(op{kind: opShutdown}) })
	<-ln.h.done
	ln.h.delivering.Wait()
	return nil
}

// handshakeGrace is GN_HANDSHAKE_GRACE, in milliseconds.
const handshakeGrace = C.GN_HANDSHAKE_GRACE

// halfOpen counts the host's half-open peers from ip, or all of them for
// the zero Addr. Where the host is serviced (host.inspect).
func (h *host) halfOpen(ip netip.Addr) int {
	var a uint32
	if ip.Is4() {
		b := ip.As4()
		a = binary.NativeEndian.Uint32(b[:]) // ENetAddress.host: network order in memory
	}
	return int(C.gn_half_open(h.c, C.uint32_t(a)))
}
