//go:build cgo

package enet

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	stdnet "net"
	"net/netip"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/gonetic/gonetic/net/transport"
)

// eventually waits until cond, run where the listener's host is serviced,
// holds.
func eventually(t *testing.T, ln transport.Listener, what string, cond func(h *host) bool) {
	t.Helper()
	h := ln.(*listener).h
	for end := time.Now().Add(deadline); ; {
		var ok bool
		h.inspect(func() { ok = cond(h) })
		if ok {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(time.Millisecond) // the host's goroutine works meanwhile
	}
}

// A half-open peer is sent no more bytes than came from its address: one
// VERIFY_CONNECT for each CONNECT, none on ENet's timer (which resends at
// 0.5 s and 1.5 s within the 2 s the peer lives here), until the listener
// forgets it.
func TestHalfOpenSendsNoMoreThanItGets(t *testing.T) {
	needInternals(t)
	tr := newTransport(t, &Options{PeerTimeout: 2 * time.Second})
	srv := listen(t, tr, transport.Config{}, nil)
	s := newFlooder(t, srv.ln.Addr(), "127.0.0.1").open(1)[0]
	to, err := stdnet.ResolveUDPAddr("udp4", srv.ln.Addr())
	if err != nil {
		t.Fatal(err)
	}
	connect := forgedConnect(rand.Uint32())
	const sends = 3 // the first and two retransmissions, as a client whose VERIFY_CONNECTs are lost sends
	var in, out, datagrams int
	buf := make([]byte, 2048)
	for range sends {
		n, err := s.WriteToUDP(connect, to)
		if err != nil {
			t.Fatal(err)
		}
		in += n
		s.SetReadDeadline(time.Now().Add(deadline))
		for got := false; !got; {
			n, err := s.Read(buf)
			if err != nil {
				t.Fatalf("no VERIFY_CONNECT for CONNECT %d: %v", datagrams+1, err)
			}
			out += n
			datagrams++
			got = hasVerify(buf[:n])
		}
	}
	eventually(t, srv.ln, "the half-open peer expired", func(h *host) bool { return h.c.expired == 1 })
	// Nothing goes to a peer once reset, and the loopback delivers as it
	// sends: whatever the listener sent is here already.
	s.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	for {
		n, err := s.Read(buf)
		if err != nil {
			break
		}
		out += n
		datagrams++
	}
	if out > in || datagrams != sends {
		t.Errorf("%d CONNECTs, %d bytes, got %d datagrams, %d bytes back", sends, in, datagrams, out)
	}
}

// One IP address holds DefaultHalfOpenPerAddress half-open peers at most,
// with slots free: more CONNECTs from it are refused while its peers are
// young, then replace its own oldest, and never another address's
// half-open peers nor its connected ones.
func TestHalfOpenPerAddress(t *testing.T) {
	const limit, extra, others = DefaultHalfOpenPerAddress + 16, 5, 3
	tr := newTransport(t, &Options{PeerLimit: limit})
	srv := listen(t, tr, transport.Config{}, nil)
	cl, _ := dial(t, tr, srv.ln.Addr(), transport.Config{}) // from 127.0.0.1
	a := srv.next(t)
	for _, s := range newFlooder(t, srv.ln.Addr(), "127.0.0.2").send(others) {
		verified(t, s)
	}
	f := newFlooder(t, srv.ln.Addr(), "127.0.0.1")
	f.send(DefaultHalfOpenPerAddress)
	eventually(t, srv.ln, "every CONNECT seen", func(h *host) bool {
		return h.c.births == 1+others+DefaultHalfOpenPerAddress
	})
	h := srv.ln.(*listener).h
	check := func(when string, evicted uint64) {
		t.Helper()
		var here, there int
		var ev uint64
		h.inspect(func() {
			here = h.halfOpen(netip.MustParseAddr("127.0.0.1"))
			there = h.halfOpen(netip.MustParseAddr("127.0.0.2"))
			ev = uint64(h.c.evicted)
		})
		if here != DefaultHalfOpenPerAddress || there != others || ev != evicted {
			t.Errorf("%s: half-open peers: %d from the flood's address, %d from another; %d reset; want %d, %d, %d",
				when, here, there, ev, DefaultHalfOpenPerAddress, others, evicted)
		}
	}
	age := func(old bool) { // every handshake so far: started at the host's last service, or long before
		h.inspect(func() {
			half := unsafe.Slice(h.c.half, h.c.slots)
			for i := range half {
				half[i].since = h.c.host.serviceTime
				if old {
					half[i].since -= 2 * handshakeGrace
				}
			}
		})
	}
	age(false) // however slow the machine, they are young
	f.send(extra)
	eventually(t, srv.ln, "the CONNECTs beyond the bound refused", func(h *host) bool { return h.c.refused == extra })
	check("young", 0)
	age(true) // they had their time
	f.send(extra)
	eventually(t, srv.ln, "the CONNECTs beyond the bound seen", func(h *host) bool {
		return h.c.births == 1+others+DefaultHalfOpenPerAddress+extra
	})
	check("aged", extra)
	if err := cl.Send(0, transport.Reliable, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	a.s.waitN(1)
}

// lossyRelay passes datagrams between one client and a server, and drops
// those drop picks; it notes the VERIFY_CONNECTs the server sent beyond
// the bytes it received (uncompressed ones: it reads no other).
type lossyRelay struct {
	t      *testing.T
	front  *stdnet.UDPConn // the client's side
	back   *stdnet.UDPConn // the server's side
	server *stdnet.UDPAddr
	drop   func(up bool, d []byte) bool // on a relay goroutine

	mu        sync.Mutex // guards the fields below
	client    *stdnet.UDPAddr
	up, down  int      // bytes passed from the client, to it
	overdrawn []string // VERIFY_CONNECTs sent when the server had been sent fewer bytes
	wg        sync.WaitGroup
}

func newLossyRelay(t *testing.T, server string, drop func(up bool, d []byte) bool) *lossyRelay {
	t.Helper()
	to, err := stdnet.ResolveUDPAddr("udp4", server)
	if err != nil {
		t.Fatal(err)
	}
	r := &lossyRelay{t: t, server: to, drop: drop}
	local := &stdnet.UDPAddr{IP: stdnet.IPv4(127, 0, 0, 1)}
	if r.front, err = stdnet.ListenUDP("udp4", local); err != nil {
		t.Fatal(err)
	}
	if r.back, err = stdnet.ListenUDP("udp4", local); err != nil {
		r.front.Close()
		t.Fatal(err)
	}
	r.wg.Add(2)
	go r.pass(true)
	go r.pass(false)
	t.Cleanup(func() {
		r.front.Close()
		r.back.Close()
		r.wg.Wait()
	})
	return r
}

func (r *lossyRelay) addr() string { return r.front.LocalAddr().String() }

// pass relays one direction until the relay is closed.
func (r *lossyRelay) pass(up bool) {
	defer r.wg.Done()
	from, to := r.back, r.front
	if up {
		from, to = r.front, r.back
	}
	buf := make([]byte, 64<<10)
	for {
		n, addr, err := from.ReadFromUDP(buf)
		if errors.Is(err, stdnet.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		d := buf[:n]
		r.mu.Lock()
		if up {
			r.client = addr
			r.up += n
		} else {
			r.down += n
			if hasVerify(d) && r.down > r.up {
				r.overdrawn = append(r.overdrawn, time.Now().Format("15:04:05.000"))
			}
		}
		dest := r.server
		if !up {
			dest = r.client
		}
		r.mu.Unlock()
		if r.drop(up, d) || dest == nil {
			continue
		}
		to.WriteToUDP(d, dest)
	}
}

// connectThrough dials the server through r and checks that the link
// works both ways and that the server never sent more than it received
// before the link was up.
func connectThrough(t *testing.T, tr *Transport, srv *server, r *lossyRelay) {
	t.Helper()
	cl, cs := dialWithin(t, tr, r.addr(), floodWait)
	a := srv.next(t)
	if err := cl.Send(0, transport.Reliable, []byte("up")); err != nil {
		t.Fatal(err)
	}
	a.s.waitN(1)
	if err := a.l.Send(0, transport.Reliable, []byte("down")); err != nil {
		t.Fatal(err)
	}
	cs.waitN(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	if internals && len(r.overdrawn) > 0 {
		t.Errorf("VERIFY_CONNECTs beyond the bytes received, at %v", r.overdrawn)
	}
}

// firstOnly returns a drop function that drops the first datagram that
// pick accepts, in the direction up.
func firstOnly(up bool, pick func(d []byte) bool) func(bool, []byte) bool {
	var once sync.Once
	return func(dir bool, d []byte) bool {
		dropped := false
		if dir == up && pick(d) {
			once.Do(func() { dropped = true })
		}
		return dropped
	}
}

// toNoPeer reports whether a datagram is addressed to no peer (a CONNECT).
func toNoPeer(d []byte) bool {
	return len(d) >= 2 && binary.BigEndian.Uint16(d)&0xFFF == 0xFFF
}

// handshakeOptions are the listeners of the handshake tests: by default,
// and compressed (CONNECTs smaller than a VERIFY_CONNECT).
var handshakeOptions = map[string]*Options{"default": nil, "compressed": {Compress: true}}

// A client whose first VERIFY_CONNECT is lost (the first datagram to it)
// resends its CONNECT, and the listener answers that one (compressed, the
// second resend: two 36-byte CONNECTs do not pay for 48 bytes).
func TestFirstVerifyLost(t *testing.T) {
	for name, o := range handshakeOptions {
		t.Run(name, func(t *testing.T) {
			tr := newTransport(t, o)
			srv := listen(t, tr, transport.Config{}, nil)
			r := newLossyRelay(t, srv.ln.Addr(), firstOnly(false, func([]byte) bool { return true }))
			connectThrough(t, tr, srv, r)
		})
	}
}

// A client whose acknowledgement of the VERIFY_CONNECT is lost thinks
// itself connected and sends no more CONNECTs, only data: that data (which
// the half-open peer drops) pays for the VERIFY_CONNECT again, whose
// acknowledgement connects it.
func TestVerifyAckLost(t *testing.T) {
	for name, o := range handshakeOptions {
		t.Run(name, func(t *testing.T) {
			tr := newTransport(t, o)
			srv := listen(t, tr, transport.Config{}, nil)
			r := newLossyRelay(t, srv.ln.Addr(), firstOnly(true, func(d []byte) bool { return !toNoPeer(d) }))
			connectThrough(t, tr, srv, r)
		})
	}
}
