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
	stdnet "net"
	"net/netip"
	"strconv"
	"sync"
)

var (
	initOnce sync.Once
	initErr  error
)

// available initializes libenet once per process; enet_deinitialize is
// never needed on the platforms we support.
func available() error {
	initOnce.Do(func() {
		if C.enet_initialize() != 0 {
			initErr = errors.New("enet: enet_initialize failed")
			return
		}
		C.enet_time_get() // set ENet's time base before hosts run concurrently
	})
	return initErr
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
