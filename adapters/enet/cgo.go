//go:build cgo

package enet

/*
#cgo LDFLAGS: -lenet
#include "shim.h"
*/
import "C"

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	stdnet "net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
)

var (
	initOnce sync.Once
	initErr  error
	// internals: the shim uses libenet's internals (see gn_init); set
	// once, before the first host.
	internals bool
	// publicOnly (tests) makes the shim use only libenet's public API
	// whatever the version; set before the first New, Listen or Dial.
	publicOnly bool
)

// available initializes libenet once per process; enet_deinitialize is
// never needed on the platforms we support. It decides whether the shim
// may use libenet's internals and, when not, says so once in the log.
func available() error {
	initOnce.Do(func() {
		if C.enet_initialize() != 0 {
			initErr = errors.New("enet: enet_initialize failed")
			return
		}
		C.enet_time_get() // set ENet's time base before hosts run concurrently
		var headers, linked C.uint32_t
		var tested *C.char
		force := C.int(0)
		if publicOnly {
			force = 1
		}
		internals = C.gn_init(force, &headers, &linked, &tested) != 0
		if !internals {
			list := strings.Join(strings.Fields(C.GoString(tested)), ", ")
			slog.Warn(publicNotice(uint32(linked), uint32(headers), list, publicOnly))
		}
	})
	return initErr
}

// publicNotice is the one line logged when the shim uses only libenet's
// public API: which versions, why, and what that costs.
func publicNotice(linked, headers uint32, tested string, forced bool) string {
	why := " is not a version the adapter was tested with (" + tested + ")"
	if forced {
		why = ": a test asked for the public API only"
	}
	return fmt.Sprintf("enet: libenet %s (headers %s)%s; using only its public API: "+
		"a host with peers wakes every %d ms, a listener's ENet walks all its peer slots, "+
		"bundles are at most %d bytes, and a Sink that falls %d times its inbox behind loses its link "+
		"instead of pausing its peer", versionString(linked), versionString(headers), why,
		C.GN_PUBLIC_TICK, publicRoom(), inboxCapFactor)
}

// publicRoom is the largest bundle without internals (gn_public_room).
func publicRoom() int { return int(C.gn_public_room()) }

func versionString(v uint32) string {
	return fmt.Sprintf("%d.%d.%d", v>>16&0xff, v>>8&0xff, v&0xff)
}

// resolve turns "host:port" into an IPv4 ENet address (libenet 1.3 speaks
// IPv4 only). An empty host means any interface when listening and the
// loopback when dialing.
func resolve(ctx context.Context, addr string, listen bool) (C.ENetAddress, netip.AddrPort, error) {
	var a C.ENetAddress
	hostStr, portStr, err := stdnet.SplitHostPort(addr)
	if err != nil {
		return a, netip.AddrPort{}, fmt.Errorf("enet: address %q: %w", addr, err)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		p, lerr := stdnet.DefaultResolver.LookupPort(ctx, "udp", portStr)
		if lerr != nil {
			return a, netip.AddrPort{}, fmt.Errorf("enet: address %q: bad port: %w", addr, lerr)
		}
		port = uint64(p)
	}
	var ip netip.Addr
	switch {
	case hostStr == "" && listen:
		ip = netip.IPv4Unspecified()
	case hostStr == "":
		ip = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	default:
		if ip, err = netip.ParseAddr(hostStr); err != nil {
			ips, lerr := stdnet.DefaultResolver.LookupNetIP(ctx, "ip4", hostStr)
			if lerr != nil || len(ips) == 0 {
				return a, netip.AddrPort{}, fmt.Errorf("enet: address %q: no IPv4 address: %v", addr, lerr)
			}
			ip = ips[0]
		}
		ip = ip.Unmap()
		if !ip.Is4() {
			return a, netip.AddrPort{}, fmt.Errorf("enet: address %q: ENet 1.3 speaks IPv4 only", addr)
		}
	}
	b := ip.As4()
	a.host = C.enet_uint32(binary.NativeEndian.Uint32(b[:])) // network byte order in memory
	a.port = C.enet_uint16(port)
	return a, netip.AddrPortFrom(ip, uint16(port)), nil
}

// formatAddr is the "host:port" form of an ENet address.
func formatAddr(a C.ENetAddress) string {
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], uint32(a.host))
	return netip.AddrPortFrom(netip.AddrFrom4(b), uint16(a.port)).String()
}
