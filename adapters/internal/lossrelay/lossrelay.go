// Package lossrelay is a user-space UDP relay that impairs traffic for
// tests: it forwards datagrams between one client and a target server, both
// ways, dropping, duplicating and delaying them (delay jitter reorders) with
// a seeded random source, since the test machines have no netem.
//
// A client sends to Relay.Addr() instead of the server; the relay forwards
// from a socket of its own, so the server sees the relay as its peer. The
// latest address that sent to Relay.Addr() is the client.
package lossrelay

import (
	"container/heap"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	stdnet "net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Config describes the impairment, the same in both directions. The zero
// value (besides Target) forwards everything at once.
type Config struct {
	// Target is the server's "host:port". Required.
	Target string
	// Drop is the fraction (0 to 1) of datagrams dropped.
	Drop float64
	// Duplicate is the fraction of forwarded datagrams sent twice.
	Duplicate float64
	// Delay and Jitter delay each datagram copy by Delay ± Jitter,
	// uniformly; a jitter larger than the spacing of datagrams reorders
	// them. Delay must not be below Jitter.
	Delay, Jitter time.Duration
	// Seed seeds the random source of each direction.
	Seed uint64

	// trace, in tests, sees every verdict on the reading goroutine.
	trace func(d Direction, copies int)
}

// Direction names one way through the relay.
type Direction int

const (
	ClientToServer Direction = iota
	ServerToClient
)

// DirStats counts one direction's datagrams.
type DirStats struct {
	Received   uint64 // read from the sender
	Dropped    uint64 // of those, not forwarded
	Duplicated uint64 // of those, forwarded twice
	Sent       uint64 // copies written to the receiver
}

// Stats counts both directions.
type Stats struct {
	Up, Down DirStats // client to server, server to client
}

// Relay is a running relay. Its methods are safe for concurrent use.
type Relay struct {
	cfg    Config
	front  *stdnet.UDPConn // faces the client
	back   *stdnet.UDPConn // connected to the target
	client atomic.Pointer[netip.AddrPort]
	drop   atomic.Uint64 // float64 bits; SetDrop changes it
	quit   chan struct{}
	once   sync.Once
	wg     sync.WaitGroup
	dirs   [2]dirCounters
}

type dirCounters struct {
	received, dropped, duplicated, sent atomic.Uint64
}

const (
	maxDatagram  = 64 << 10 // the largest datagram relayed
	socketBuffer = 4 << 20
)

// New starts a relay on 127.0.0.1 with a free port.
func New(cfg Config) (*Relay, error) {
	switch {
	case cfg.Drop < 0 || cfg.Drop > 1 || cfg.Duplicate < 0 || cfg.Duplicate > 1:
		return nil, errors.New("lossrelay: Drop and Duplicate must be within 0…1")
	case cfg.Jitter < 0 || cfg.Delay < cfg.Jitter:
		return nil, errors.New("lossrelay: need 0 <= Jitter <= Delay")
	}
	target, err := stdnet.ResolveUDPAddr("udp", cfg.Target)
	if err != nil {
		return nil, fmt.Errorf("lossrelay: target: %w", err)
	}
	front, err := stdnet.ListenUDP("udp", &stdnet.UDPAddr{IP: stdnet.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("lossrelay: %w", err)
	}
	back, err := stdnet.DialUDP("udp", nil, target)
	if err != nil {
		front.Close()
		return nil, fmt.Errorf("lossrelay: %w", err)
	}
	for _, c := range []*stdnet.UDPConn{front, back} {
		c.SetReadBuffer(socketBuffer) // the system may cap it (net.core.rmem_max)
		c.SetWriteBuffer(socketBuffer)
	}
	r := &Relay{cfg: cfg, front: front, back: back, quit: make(chan struct{})}
	r.drop.Store(math.Float64bits(cfg.Drop))
	up := make(chan item, 1024)
	down := make(chan item, 1024)
	r.wg.Add(4)
	go r.read(ClientToServer, up)
	go r.read(ServerToClient, down)
	go r.deliver(ClientToServer, up)
	go r.deliver(ServerToClient, down)
	return r, nil
}

// Addr is where the client sends: "127.0.0.1:port".
func (r *Relay) Addr() string { return r.front.LocalAddr().String() }

// SetDrop changes the drop fraction of both directions, e.g. to 1 to cut
// the link.
func (r *Relay) SetDrop(f float64) { r.drop.Store(math.Float64bits(f)) }

// Stats returns the counters so far.
func (r *Relay) Stats() Stats {
	get := func(c *dirCounters) DirStats {
		return DirStats{c.received.Load(), c.dropped.Load(), c.duplicated.Load(), c.sent.Load()}
	}
	return Stats{Up: get(&r.dirs[0]), Down: get(&r.dirs[1])}
}

// Close stops the relay and waits for its goroutines. Idempotent.
func (r *Relay) Close() error {
	r.once.Do(func() {
		close(r.quit)
		r.front.Close()
		r.back.Close()
	})
	r.wg.Wait()
	return nil
}

type item struct {
	due  time.Time
	seq  uint64
	data []byte
}

// read takes datagrams from one side and decides their fate.
func (r *Relay) read(d Direction, out chan<- item) {
	defer r.wg.Done()
	rng := rand.New(rand.NewPCG(r.cfg.Seed, uint64(d)+1))
	c := &r.dirs[d]
	buf := make([]byte, maxDatagram)
	var seq uint64
	for {
		var n int
		var err error
		if d == ClientToServer {
			var from netip.AddrPort
			n, from, err = r.front.ReadFromUDPAddrPort(buf)
			if err == nil {
				if p := r.client.Load(); p == nil || *p != from {
					r.client.Store(&from)
				}
			}
		} else {
			n, err = r.back.Read(buf)
		}
		if err != nil {
			select {
			case <-r.quit:
				return
			default:
				continue // e.g. ECONNREFUSED from a target not listening yet
			}
		}
		c.received.Add(1)
		copies := 1
		if rng.Float64() < math.Float64frombits(r.drop.Load()) {
			copies = 0
			c.dropped.Add(1)
		} else if rng.Float64() < r.cfg.Duplicate {
			copies = 2
			c.duplicated.Add(1)
		}
		if r.cfg.trace != nil {
			r.cfg.trace(d, copies)
		}
		for range copies {
			delay := r.cfg.Delay
			if r.cfg.Jitter > 0 {
				delay += time.Duration(rng.Int64N(int64(2*r.cfg.Jitter)+1)) - r.cfg.Jitter
			}
			seq++
			it := item{due: time.Now().Add(delay), seq: seq, data: append([]byte(nil), buf[:n]...)}
			select {
			case out <- it:
			case <-r.quit:
				return
			}
		}
	}
}

// deliver writes datagrams to the other side when they are due.
func (r *Relay) deliver(d Direction, in <-chan item) {
	defer r.wg.Done()
	c := &r.dirs[d]
	var q itemHeap
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		for len(q) > 0 && !time.Now().Before(q[0].due) {
			it := heap.Pop(&q).(item)
			var err error
			if d == ClientToServer {
				_, err = r.back.Write(it.data)
			} else if p := r.client.Load(); p != nil {
				_, err = r.front.WriteToUDPAddrPort(it.data, *p)
			}
			if err == nil {
				c.sent.Add(1)
			}
		}
		var tc <-chan time.Time
		if len(q) > 0 {
			timer.Reset(time.Until(q[0].due))
			tc = timer.C
		}
		select {
		case it := <-in:
			heap.Push(&q, it)
		case <-tc:
		case <-r.quit:
			return
		}
	}
}

// itemHeap orders datagrams by due time, then by arrival.
type itemHeap []item

func (h itemHeap) Len() int { return len(h) }
func (h itemHeap) Less(i, j int) bool {
	if h[i].due.Equal(h[j].due) {
		return h[i].seq < h[j].seq
	}
	return h[i].due.Before(h[j].due)
}
func (h itemHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *itemHeap) Push(x any)   { *h = append(*h, x.(item)) }
func (h *itemHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = item{}
	*h = old[:len(old)-1]
	return it
}
