//go:build cgo

package enet

import (
	"bytes"
	"io"
	stdnet "net"
	"sync"
	"testing"
	"time"

	"github.com/gonetic/gonetic/net/transport"
)

// TestFirstPayloadAfterConnect: a payload sent as soon as Dial returns (a
// gonetic hello) is accepted by the listener in the same service that
// completes the connect, not dropped as sent to a peer still "pending" and
// retransmitted after ENet's initial 500 ms retransmit timeout. A single
// round may be slow on a busy machine; most of them must not be.
func TestFirstPayloadAfterConnect(t *testing.T) {
	tr := newTransport(t, nil)
	srv := listen(t, tr, transport.Config{}, nil)
	const rounds, slow = 10, 400 * time.Millisecond
	var took []time.Duration
	late := 0
	for range rounds {
		start := time.Now()
		cl, _ := dial(t, tr, srv.ln.Addr(), transport.Config{})
		if err := cl.Send(0, transport.Reliable, []byte("hello")); err != nil {
			t.Fatal(err)
		}
		sv := srv.next(t)
		sv.s.waitN(1)
		d := time.Since(start)
		took = append(took, d.Round(time.Millisecond))
		if d >= slow {
			late++
		}
		cl.Abort()
		sv.s.waitClosed()
	}
	if late > rounds/2 {
		t.Fatalf("the first payload took %v or more in %d of %d rounds (retransmitted?): %v", slow, late, rounds, took)
	}
	t.Logf("dial + first payload: %v", took)
}

// TestBothClose: the peer closes as soon as it has the last payload (as
// gonetic does on a bye), and its acknowledgement of that payload and its
// disconnect reach this side in one receive pass (a relay holds the first
// until the second comes, as a busy machine does by chance). This side
// must not queue its own disconnect inside that pass: ENet, disconnecting
// then, would drop it and take the peer's disconnect as the end without
// acknowledging it, and the peer would wait for its timeout to learn that
// the link is over.
func TestBothClose(t *testing.T) {
	const timeout = 10 * time.Second // what a lost disconnect costs
	tr := newTransport(t, &Options{PeerTimeout: timeout})
	srv := listen(t, tr, transport.Config{}, nil)
	relay := newHoldRelay(t, srv.ln.Addr())
	for i := range 3 {
		cl, cs := dial(t, tr, relay.addr(), transport.Config{})
		sv := srv.next(t)
		// One acknowledged payload first: a link that never had an
		// acknowledgement pings at once, which would hold up its close.
		if err := cl.Send(0, transport.Reliable, []byte("hello")); err != nil {
			t.Fatal(err)
		}
		sv.s.waitN(1)
		if err := sv.l.Send(0, transport.Reliable, []byte("welcome")); err != nil {
			t.Fatal(err)
		}
		cs.waitN(1)
		start := time.Now()
		relay.holdUntilDisconnect()
		if err := sv.l.Send(0, transport.Reliable, []byte("bye")); err != nil {
			t.Fatal(err)
		}
		sv.l.Close()
		cs.waitN(2)
		cl.Close()
		errS, errC := sv.s.waitClosed(), cs.waitClosed()
		if d := time.Since(start); d > timeout/2 {
			t.Fatalf("round %d: both ends closed after %v (server %v, client %v): a disconnect was lost", i, d, errS, errC)
		}
		// The client's Close may come after the server's disconnect: io.EOF.
		if errS != nil || (errC != nil && errC != io.EOF) {
			t.Fatalf("round %d: server Closed(%v), client Closed(%v); want nil, and nil or io.EOF", i, errS, errC)
		}
		t.Logf("round %d: held %d datagrams, then both closed in %v", i, relay.released(), time.Since(start).Round(time.Microsecond))
	}
}

// holdRelay forwards UDP datagrams between one client and a server. After
// holdUntilDisconnect it keeps the client's datagrams until one carries an
// ENet disconnect command (or it holds 4), then writes them to the server
// back to back. After dropDisconnects it drops the client's datagrams that
// carry a disconnect.
type holdRelay struct {
	front, back *stdnet.UDPConn
	wg          sync.WaitGroup
	mu          sync.Mutex
	client      stdnet.Addr
	holding     bool
	drop        bool // drop the client's datagrams that carry a disconnect
	held        [][]byte
	last        int // datagrams released by the last hold
}

func newHoldRelay(t *testing.T, target string) *holdRelay {
	t.Helper()
	front, err := stdnet.ListenUDP("udp4", &stdnet.UDPAddr{IP: stdnet.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	to, err := stdnet.ResolveUDPAddr("udp4", target)
	if err != nil {
		t.Fatal(err)
	}
	back, err := stdnet.DialUDP("udp4", nil, to)
	if err != nil {
		t.Fatal(err)
	}
	r := &holdRelay{front: front, back: back}
	r.wg.Add(2)
	go r.up()
	go r.down()
	t.Cleanup(func() {
		front.Close()
		back.Close()
		r.wg.Wait()
	})
	return r
}

func (r *holdRelay) addr() string { return r.front.LocalAddr().String() }

func (r *holdRelay) holdUntilDisconnect() {
	r.mu.Lock()
	r.holding, r.held = true, nil
	r.mu.Unlock()
}

func (r *holdRelay) dropDisconnects() {
	r.mu.Lock()
	r.drop = true
	r.mu.Unlock()
}

func (r *holdRelay) released() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

func (r *holdRelay) up() {
	defer r.wg.Done()
	buf := make([]byte, 1<<16)
	for {
		n, from, err := r.front.ReadFrom(buf)
		if err != nil {
			return
		}
		r.mu.Lock()
		r.client = from
		if r.drop && hasDisconnect(buf[:n]) {
			r.mu.Unlock()
			continue
		}
		if !r.holding {
			r.mu.Unlock()
			r.back.Write(buf[:n])
			continue
		}
		r.held = append(r.held, bytes.Clone(buf[:n]))
		if hasDisconnect(buf[:n]) || len(r.held) == 4 {
			for _, d := range r.held {
				r.back.Write(d)
			}
			r.holding, r.last, r.held = false, len(r.held), nil
		}
		r.mu.Unlock()
	}
}

func (r *holdRelay) down() {
	defer r.wg.Done()
	buf := make([]byte, 1<<16)
	for {
		n, err := r.back.Read(buf)
		if err != nil {
			return
		}
		r.mu.Lock()
		to := r.client
		r.mu.Unlock()
		if to != nil {
			r.front.WriteTo(buf[:n], to)
		}
	}
}

// hasDisconnect reports whether an uncompressed ENet 1.3 datagram carries a
// disconnect command. Layout (protocol.h): a 2-byte peer id and flags, the
// 2-byte sent time when flag 0x8000 is set, then commands, each a 4-byte
// header (command number in the low 4 bits of the first byte) and its
// body, followed by the payload for the send commands.
func hasDisconnect(d []byte) bool {
	// Sizes of the commands with their header, by number (1 to 12).
	size := [...]int{0, 8, 48, 44, 8, 4, 6, 8, 24, 8, 12, 16, 24}
	if len(d) < 2 {
		return false
	}
	off := 2
	if d[0]&0x80 != 0 {
		off += 2
	}
	for off+4 <= len(d) {
		c := int(d[off] & 0x0f)
		if c == 0 || c >= len(size) || off+size[c] > len(d) {
			return false
		}
		if c == 4 {
			return true
		}
		n := size[c]
		switch c {
		case 6: // send reliable: data length in the last 2 bytes
			n += int(d[off+4])<<8 | int(d[off+5])
		case 7, 8, 9, 12: // unreliable, fragment, unsequenced: at offset 6
			n += int(d[off+6])<<8 | int(d[off+7])
		}
		off += n
	}
	return false
}

// TestDisconnectUnanswered: once everything a closing link sent was
// acknowledged, a disconnect the peer never acknowledges (lost, or dropped
// by a libenet peer that was disconnecting too) ends the link after a short
// wait, not after the peer timeout.
func TestDisconnectUnanswered(t *testing.T) {
	const timeout = 10 * time.Second
	tr := newTransport(t, &Options{PeerTimeout: timeout})
	srv := listen(t, tr, transport.Config{}, nil)
	relay := newHoldRelay(t, srv.ln.Addr())
	relay.dropDisconnects()
	cl, cs := dial(t, tr, relay.addr(), transport.Config{})
	sv := srv.next(t)
	if err := cl.Send(0, transport.Reliable, []byte("last")); err != nil {
		t.Fatal(err)
	}
	sv.s.waitN(1)
	start := time.Now()
	cl.Close()
	if err := cs.waitClosed(); err != nil {
		t.Errorf("Closed(%v), want nil", err)
	}
	if d := time.Since(start); d > timeout/2 {
		t.Errorf("an unanswered disconnect took %v to end the link", d)
	}
	sv.l.Abort()
}
