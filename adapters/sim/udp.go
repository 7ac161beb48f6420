package sim

import (
	"errors"
	"fmt"
	stdnet "net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	maxDatagram = 64 << 10
	// socketBuffer is asked of the kernel for every relay socket, so that
	// a burst is impaired by the Sim rather than by a full socket buffer.
	// The system may cap it (net.core.rmem_max).
	socketBuffer = 4 << 20
	// idleTimeout ends a UDP session from which nothing came either way for
	// this long: UDP has no end, and gonetic pings every second.
	idleTimeout = 30 * time.Second
	// maxSessions bounds the clients of one relay: past it, datagrams
	// from new addresses are dropped, so that a flood of forged sources
	// cannot take a descriptor and a goroutine each without end.
	maxSessions = 8192
	// endLinger keeps a session that its server ended until nothing came
	// either way for this long, so that what the server said last (ENet's
	// disconnect, sent once) still reaches the client.
	endLinger = time.Second
)

// udpRelay passes datagrams between its clients and a target. Each client
// (a source address) gets a session with a socket of its own towards the
// target, so the target sees one peer per client.
type udpRelay struct {
	sim    *Sim
	front  *stdnet.UDPConn
	target *stdnet.UDPAddr
	dialed bool // one client, made by Dial: a target that refuses closes front

	mu       sync.Mutex // guards sessions, byBack and closed
	sessions map[netip.AddrPort]*udpSession
	byBack   map[string]*udpSession // by the session socket's local address
	closed   bool

	dueClock
	marker  atomic.Pointer[netip.AddrPort] // settle's socket: its datagram is read last
	settled chan struct{}                  // closed when readFront reads it
	sched   chan datagram                  // to the scheduler
	held    atomic.Int64                   // datagrams given to the scheduler and not yet sent
	quit    chan struct{}
	once    sync.Once
	wg      sync.WaitGroup
}

// udpSession is one client's way through the relay.
type udpSession struct {
	client   netip.AddrPort
	back     *stdnet.UDPConn
	up, down *path
	seen     atomic.Int64 // UnixNano of the latest datagram either way
	ended    atomic.Bool  // its server ended it: see endLinger
}

// datagram is a copy waiting for its release.
type datagram struct {
	due  time.Time
	seq  uint64
	buf  *[]byte
	n    int
	s    *udpSession
	down bool
}

func listenUDP(s *Sim, addr, target string, dialed bool) (*udpRelay, error) {
	to, err := stdnet.ResolveUDPAddr("udp", target)
	if err != nil {
		return nil, fmt.Errorf("sim: target %s: %w", target, err)
	}
	at, err := stdnet.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	front, err := stdnet.ListenUDP("udp", at)
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	front.SetReadBuffer(socketBuffer)
	front.SetWriteBuffer(socketBuffer)
	r := &udpRelay{
		sim: s, front: front, target: to, dialed: dialed,
		sessions: map[netip.AddrPort]*udpSession{}, byBack: map[string]*udpSession{},
		sched: make(chan datagram, 1024), quit: make(chan struct{}), settled: make(chan struct{}),
	}
	r.wg.Add(2)
	go r.readFront()
	go r.schedule()
	return r, nil
}

func (r *udpRelay) addr() string { return r.front.LocalAddr().String() }

func (r *udpRelay) idle() bool { return r.held.Load() == 0 }

// settle sends a datagram of its own to front and waits for readFront to
// read it, and reports whether it did: on the loopback, a datagram sent is
// in the receiver's buffer when the send returns, so every one sent before
// is read by then. Used once, by a dialed relay's end, whose client sends
// nothing more.
func (r *udpRelay) settle() bool {
	c, err := stdnet.DialUDP("udp", nil, r.front.LocalAddr().(*stdnet.UDPAddr))
	if err != nil {
		return false
	}
	defer c.Close()
	from := unmapped(c.LocalAddr().(*stdnet.UDPAddr).AddrPort())
	r.marker.Store(&from)
	c.Write([]byte{0})
	select {
	case <-r.settled:
		return true
	case <-r.quit:
	case <-time.After(time.Second): // a datagram lost under memory pressure
	}
	return false
}

// unmapped is a with an IPv4 address in its 4-byte form, as reads give it.
func unmapped(a netip.AddrPort) netip.AddrPort { return netip.AddrPortFrom(a.Addr().Unmap(), a.Port()) }

// clientOf is the client behind the session whose socket has address
// back, or back itself.
func (r *udpRelay) clientOf(back string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.byBack[back]; s != nil {
		return s.client.String()
	}
	return back
}

// forget ends the session whose socket has address back, once it is
// quiet (endLinger).
func (r *udpRelay) forget(back string) {
	r.mu.Lock()
	if s := r.byBack[back]; s != nil {
		s.ended.Store(true)
	}
	r.mu.Unlock()
}

// drop ends s; r.mu is held.
func (r *udpRelay) drop(s *udpSession) {
	delete(r.sessions, s.client)
	delete(r.byBack, s.back.LocalAddr().String())
	s.back.Close()
}

func (r *udpRelay) close() error {
	r.once.Do(func() {
		close(r.quit)
		r.front.Close()
		r.mu.Lock()
		r.closed = true
		for _, s := range r.sessions {
			r.drop(s)
		}
		r.mu.Unlock()
	})
	r.wg.Wait()
	return nil
}

// session returns from's session, starting it if it is new; nil once the
// relay is closed or when no socket can be had.
func (r *udpRelay) session(from netip.AddrPort) *udpSession {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.sessions[from]; s != nil || r.closed || len(r.sessions) >= maxSessions {
		return s
	}
	back, err := stdnet.DialUDP("udp", nil, r.target)
	if err != nil {
		return nil
	}
	back.SetReadBuffer(socketBuffer)
	back.SetWriteBuffer(socketBuffer)
	s := &udpSession{client: from, back: back}
	s.up, s.down = r.sim.paths()
	r.sessions[from] = s
	r.byBack[back.LocalAddr().String()] = s
	r.wg.Add(1)
	go r.readBack(s)
	return s
}

// readFront takes datagrams from the clients.
func (r *udpRelay) readFront() {
	defer r.wg.Done()
	buf := make([]byte, maxDatagram)
	for {
		n, from, err := r.front.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, stdnet.ErrClosed) || r.stopped() {
				return
			}
			continue
		}
		if m := r.marker.Load(); m != nil && *m == unmapped(from) {
			close(r.settled)
			r.marker.Store(nil)
			continue
		}
		s := r.session(from)
		if s == nil {
			continue
		}
		now := time.Now()
		s.seen.Store(now.UnixNano())
		r.pass(r.sim.conditions(false), s.up, now, buf[:n], s, false)
	}
}

// readBack takes datagrams from the target for s's client.
func (r *udpRelay) readBack(s *udpSession) {
	defer r.wg.Done()
	buf := make([]byte, maxDatagram)
	for {
		n, err := s.back.Read(buf)
		if err != nil {
			if errors.Is(err, stdnet.ErrClosed) || r.stopped() {
				return
			}
			if r.dialed && errors.Is(err, syscall.ECONNREFUSED) {
				// Nobody listens at the target: closing front makes the
				// client's next datagram refused too, as without the relay.
				r.front.Close()
			}
			continue
		}
		now := time.Now()
		s.seen.Store(now.UnixNano())
		r.pass(r.sim.conditions(true), s.down, now, buf[:n], s, true)
	}
}

// pass decides the fate of p and sends it now, or hands its copies to the
// scheduler.
func (r *udpRelay) pass(c *Conditions, pth *path, now time.Time, p []byte, s *udpSession, down bool) {
	copies, due := pth.datagram(c, now, len(p))
	if copies == 0 {
		return
	}
	if copies == 1 && !due.After(now) {
		r.send(s, down, p)
		return
	}
	r.note(due)
	for range copies {
		b := getBuf(len(p))
		copy(*b, p)
		r.held.Add(1)
		select {
		case r.sched <- datagram{due: due, buf: b, n: len(p), s: s, down: down}:
		case <-r.quit:
			putBuf(b)
			return
		}
	}
}

func (r *udpRelay) send(s *udpSession, down bool, p []byte) {
	var err error
	if down {
		_, err = r.front.WriteToUDPAddrPort(p, s.client)
	} else {
		_, err = s.back.Write(p)
	}
	if err == nil {
		if down {
			r.sim.down.delivered.Add(1)
		} else {
			r.sim.up.delivered.Add(1)
		}
	}
}

func (r *udpRelay) stopped() bool {
	select {
	case <-r.quit:
		return true
	default:
		return false
	}
}

// schedule releases datagrams when they are due, and ends idle sessions.
func (r *udpRelay) schedule() {
	defer r.wg.Done()
	var q dueHeap
	var seq uint64
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	idle := time.NewTicker(endLinger)
	defer idle.Stop()
	for {
		now := time.Now()
		for len(q) > 0 && !q[0].due.After(now) {
			d := q.pop()
			r.send(d.s, d.down, (*d.buf)[:d.n])
			putBuf(d.buf)
			r.held.Add(-1)
		}
		var tc <-chan time.Time
		if len(q) > 0 {
			timer.Reset(q[0].due.Sub(now))
			tc = timer.C
		}
		select {
		case d := <-r.sched:
			seq++
			d.seq = seq
			q.push(d)
		case <-tc:
		case <-idle.C:
			r.endIdle(now)
		case <-r.quit:
			for _, d := range q {
				putBuf(d.buf)
			}
			return
		}
	}
}

func (r *udpRelay) endIdle(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.sessions {
		quiet := now.Sub(time.Unix(0, s.seen.Load()))
		if quiet > idleTimeout || s.ended.Load() && quiet > endLinger {
			r.drop(s)
		}
	}
}

// dueHeap orders datagrams by release time, then by arrival. It is a
// binary heap of its own rather than container/heap's, whose Push and Pop
// take and return an interface: two allocations per delayed datagram.
type dueHeap []datagram

func (h dueHeap) less(i, j int) bool {
	if h[i].due.Equal(h[j].due) {
		return h[i].seq < h[j].seq
	}
	return h[i].due.Before(h[j].due)
}

func (h *dueHeap) push(d datagram) {
	*h = append(*h, d)
	q := *h
	for i := len(q) - 1; i > 0; {
		parent := (i - 1) / 2
		if !q.less(i, parent) {
			break
		}
		q[i], q[parent] = q[parent], q[i]
		i = parent
	}
}

// pop removes and returns the first datagram; h is not empty.
func (h *dueHeap) pop() datagram {
	q := *h
	d := q[0]
	last := len(q) - 1
	q[0] = q[last]
	q[last] = datagram{}
	q = q[:last]
	for i := 0; ; {
		first, l, r := i, 2*i+1, 2*i+2
		if l < len(q) && q.less(l, first) {
			first = l
		}
		if r < len(q) && q.less(r, first) {
			first = r
		}
		if first == i {
			break
		}
		q[i], q[first] = q[first], q[i]
		i = first
	}
	*h = q
	return d
}

// Buffers for datagrams waiting in the scheduler: most fit a small one.
const smallBuf = 2048

var bufPool = sync.Pool{New: func() any { b := make([]byte, smallBuf); return &b }}

func getBuf(n int) *[]byte {
	if n > smallBuf {
		b := make([]byte, n)
		return &b
	}
	b := bufPool.Get().(*[]byte)
	*b = (*b)[:n]
	return b
}

func putBuf(b *[]byte) {
	if cap(*b) == smallBuf {
		bufPool.Put(b)
	}
}
