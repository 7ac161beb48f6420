//go:build cgo

package enet

/*
#include "shim.h"
*/
import "C"

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gonetic/gonetic/net/transport"
)

// A host is one ENetHost and its goroutine (run): a listener's, or a
// dialed link's own. That goroutine services it, or a Poll from net's
// Update does when the goroutine is not at it (svc). Other goroutines talk
// to it through ops and ready, then wake it, or leave them for the next
// Poll (see schedule). The host's work is split by role: this file
// is the run loop and how others reach it; send.go hands queued payloads to
// ENet; receive.go services ENet and hands out what arrived; peer.go is the
// lifecycle of a peer, from connect to finish.
type host struct {
	opts       Options
	cfg        transport.Config
	queueLimit int64
	inboxLimit int64 // received bytes a link holds in Go before its peer is paused
	copyLimit  int   // packets above it are not copied out of ENet (see handle)
	sendMode   C.int // gn_send_batch's mode: bundle or not
	c          *C.gn_host
	sock       *os.File        // what Go's netpoller watches for the socket (see pollable)
	rc         syscall.RawConn // sock's
	waitFn     func(fd uintptr) bool
	skipSocket bool             // wait for the deadline only (after a socket error)
	accept     transport.Accept // listener only
	dialer     *link            // dialing host only
	addr       string           // bound address, listener only

	mu       sync.Mutex // guards ops, ready and exited
	ops      []op
	ready    []*link // links whose front queue went from empty to not empty
	exited   bool
	notified atomic.Bool // a wake-up is pending; no need to wake again
	polled   atomic.Bool // a Poll (net's Update) services the host: Sends may wait for the next one
	deferred atomic.Bool // a Send waits for the next Poll, or sendDelay: the sleep ends by then

	done       chan struct{}  // closed when run returns
	delivering sync.WaitGroup // the links' deliver goroutines

	// svc is held by whoever services the host: the run goroutine for a
	// round of its loop, or a Poll (net's Update) that found it free. The
	// fields below and every ENet call are under it.
	svc    sync.Mutex
	handed uint64 // packets handed to ENet, ever

	links      []*link // by ENet peer slot
	all        []*link // live links, for stats
	busy       []*link // links with something to hand to ENet or a close to start
	flushing   []*link // closing links waiting for ENet to have sent and had acknowledged all
	spareOps   []op
	spareReady []*link
	evs        []C.gn_event
	buf        []byte
	out        cOut // results of C calls: on the heap once, not per call
	shutdown   bool
	deadline   time.Time
}

// cOut holds what C functions return through pointers.
type cOut struct {
	need   C.uint32_t
	status C.int
	bytes  C.uint64_t
	failed C.int
}

type opKind uint8

const (
	opClose opKind = iota
	opCloseQuiet
	opAbort
	opShutdown // Listener.Close
	opCancel   // Dial's context ended
	opResume   // a paused link's inbox drained
	opInspect  // run fn on the run goroutine (see inspect)
)

type op struct {
	kind opKind
	l    *link
	fn   func()
}

// errRefusedPort ends a dial or a dialed link when the server's port is
// closed.
var errRefusedPort = fmt.Errorf("enet: nobody listening at the address: %w", syscall.ECONNREFUSED)

// errCanceled reports a Dial canceled by its context to Dial itself.
var errCanceled = errors.New("canceled")

const (
	initialEvents = 1024
	initialBuffer = 256 << 10
	inboxBytes    = 4 << 20 // default inbox limit of a link
)

func newHost(opts Options, cfg transport.Config, addr *C.ENetAddress, peers int) (*host, error) {
	maxPacket := max(2*cfg.MaxPayload, 64<<10)
	maxWaiting := max(2*maxPacket, 4<<20)
	var cerr C.int
	compress := C.int(0)
	if opts.Compress {
		compress = 1
	}
	c := C.gn_host_new(addr, C.size_t(peers), C.size_t(cfg.Channels), C.uint32_t(opts.IncomingBandwidth),
		C.uint32_t(opts.OutgoingBandwidth), compress, C.size_t(maxPacket), C.size_t(maxWaiting), &cerr)
	if c == nil {
		return nil, fmt.Errorf("enet: cannot create host: %w", errnoErr(cerr))
	}
	if opts.PeerTimeout > 0 {
		c.handshakeMs = C.uint32_t(opts.PeerTimeout / time.Millisecond) // see gn_hold
	}
	c.halfOpenPerIP = C.size_t(opts.HalfOpenPerAddress) // see gn_admit
	sock, rc, err := pollable(c)
	if err != nil {
		C.gn_host_free(c)
		return nil, err
	}
	h := &host{
		opts:       opts,
		cfg:        cfg,
		queueLimit: int64(max(opts.QueueLimit, cfg.MaxPayload+entryOverhead)),
		copyLimit:  max(cfg.MaxPayload+1+binary.MaxVarintLen32, maxBundle),
		inboxLimit: int64(max(cmp.Or(knobs.inboxBytes, inboxBytes), 2*cfg.MaxPayload)),
		c:          c,
		done:       make(chan struct{}),
		links:      make([]*link, peers),
		evs:        make([]C.gn_event, initialEvents),
		buf:        make([]byte, initialBuffer),
		sock:       sock,
		rc:         rc,
	}
	switch {
	case knobs.rawSend:
		h.sendMode = C.GN_SEND_RAW
	case !opts.NoBundling:
		h.sendMode = C.GN_SEND_BUNDLE
	}
	h.waitFn = h.waitReadable
	return h, nil
}

// pollable gives Go's netpoller a descriptor that becomes readable when a
// datagram reaches ENet's socket, so that the run goroutine sleeps in Go,
// not in a C call: a goroutine it wakes then runs at once on the freed P,
// and Send wakes it by moving the read deadline into the past.
//
// On Linux that descriptor is gn_waiter's epoll instance, which watches the
// socket for reading only and only while the run goroutine sleeps (see
// waitReadable): watched itself, the socket woke an idle thread of the
// process for every datagram sent, and for every one received while the
// goroutine was busy. Elsewhere it is a duplicate of the socket.
func pollable(c *C.gn_host) (*os.File, syscall.RawConn, error) {
	fd := int(C.gn_waiter(c))
	if fd == -int(syscall.ENOSYS) {
		dup, err := syscall.Dup(int(C.gn_socket(c)))
		if err != nil {
			return nil, nil, fmt.Errorf("enet: dup socket: %w", err)
		}
		syscall.CloseOnExec(dup)
		fd = dup
	} else if fd < 0 {
		return nil, nil, fmt.Errorf("enet: epoll for the socket: %w", syscall.Errno(-fd))
	}
	f := os.NewFile(uintptr(fd), "enet-socket")
	rc, err := f.SyscallConn()
	if err == nil {
		err = f.SetReadDeadline(time.Time{}) // fails unless the netpoller took it
	}
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("enet: socket not pollable: %w", err)
	}
	return f, rc, nil
}

// waitReadable is the RawConn.Read callback of the run goroutine's sleep:
// done when a datagram waits (checked after Go reset its readiness state
// and after the waiter was armed, so none is missed), else wait for
// readiness or the deadline. The waiter stays armed across sleeps, costing
// nothing while traffic comes and goes (a round trip), and is disarmed
// while the goroutine is busy: when datagrams wait before it sleeps, or it
// has more to hand to ENet.
func (h *host) waitReadable(uintptr) bool {
	return !h.skipSocket && C.gn_arm(h.c) != 0
}

// post hands an op to the run goroutine. Any goroutine.
func (h *host) post(o op) {
	h.mu.Lock()
	if !h.exited {
		h.ops = append(h.ops, o)
		h.wakeLocked()
	}
	h.mu.Unlock()
}

// schedule tells the run goroutine that l has payloads to send. Any
// goroutine. Once a Poll services the host (the game calls Update), the
// payloads wait for the next Poll, which sends them on the game's
// goroutine, or for sendDelay, whichever comes first: the run goroutine's
// sleep is made to end by then, which wakes no thread now. A game's tick
// then runs without a goroutine sending beside it, and what it sent leaves
// from its next Update, as a C program sends after its tick; a Send made
// far from an Update waits sendDelay at most.
func (h *host) schedule(l *link) {
	h.mu.Lock()
	if !h.exited {
		h.ready = append(h.ready, l)
		if !h.polled.Load() {
			h.wakeLocked()
		} else if !h.deferred.Swap(true) && !h.notified.Load() {
			// (With a wake-up pending, the round it starts takes l: a
			// deadline set now would only put the wake-up off.)
			h.sock.SetReadDeadline(time.Now().Add(sendDelay))
		}
	}
	h.mu.Unlock()
}

// sendDelay bounds how long a Send waits for the next Poll: well under a
// frame, and about the resolution of Go's timers.
const sendDelay = time.Millisecond

// sleepFor sets the run goroutine's read deadline to ms milliseconds from
// now (-1: none), or sendDelay when a Send waits for it (see schedule), or
// back in the past when a wake-up is pending: set first and checked after,
// so that a Send or wake-up that comes meanwhile either sees its deadline
// kept or is seen here. A Poll calls it while the run goroutine may be
// between a wake-up and the look at its deadline: without the check, the
// wake-up would be lost, and with it every later one (notified stays set).
// Under svc.
func (h *host) sleepFor(ms int) {
	var until time.Time
	if ms >= 0 {
		until = time.Now().Add(time.Duration(ms) * time.Millisecond)
	}
	h.sock.SetReadDeadline(until)
	if h.deferred.Load() && (until.IsZero() || ms > int(sendDelay/time.Millisecond)) {
		h.sock.SetReadDeadline(time.Now().Add(sendDelay))
	}
	if h.notified.Load() {
		h.sock.SetReadDeadline(longAgo)
	}
}

// wake makes the run goroutine go round its loop once more. Any goroutine.
func (h *host) wake() {
	h.mu.Lock()
	if !h.exited {
		h.wakeLocked()
	}
	h.mu.Unlock()
}

// wakeLocked ends the run goroutine's sleep, at most once per round of its
// loop: the run goroutine clears notified before it reads ops and ready,
// and checks it after it set its deadline and before it sleeps.
func (h *host) wakeLocked() {
	if h.notified.CompareAndSwap(false, true) {
		h.sock.SetReadDeadline(longAgo)
	}
}

// longAgo is a read deadline in the past: it ends a sleep at once.
var longAgo = time.Unix(1, 0)

// run is the host's goroutine: hand queued payloads to ENet, service the
// host until it has no more events, deliver them, then sleep until a
// datagram, a wake-up or ENet's next timer. It is a plain service loop, as
// a C program would write it around enet_host_service, except that it
// sleeps in Go's netpoller, so that waking it is a deadline change and not
// a system call into a blocked thread.
func (h *host) run() {
	defer close(h.done)
	for {
		h.deferred.Store(false) // this round sends what was queued
		if h.notified.Swap(false) {
			// Woken by Send: let the sender go on queueing on this P a
			// moment, so that ENet gets a batch, not single packets.
			runtime.Gosched()
		}
		h.svc.Lock()
		h.takeOps()
		h.pump()
		failed := h.serviceAll()
		h.refreshStats()
		if h.finished() {
			break
		}
		if h.checkFlushing() || h.canPump() {
			C.gn_disarm(h.c) // busy for a while: see gn_arm
			h.svc.Unlock()
			continue
		}
		maxWait := -1
		if h.shutdown {
			left := time.Until(h.deadline)
			if left <= 0 {
				h.dropAll()
				h.svc.Unlock()
				continue
			}
			maxWait = int(left/time.Millisecond) + 1
		}
		// Back off a millisecond from a socket that keeps failing
		// (libenet returns -1 for an oversized or refused datagram).
		h.skipSocket = failed
		if failed {
			maxWait = 1
		}
		ms := int(C.gn_timeout(h.c, C.int(maxWait)))
		if ms == 0 {
			h.svc.Unlock()
			continue
		}
		h.sleepFor(ms)
		h.svc.Unlock()
		if !h.notified.Load() {
			h.rc.Read(h.waitFn) // nil, or the deadline: both mean go round
		}
	}
	h.mu.Lock()
	h.exited = true
	h.ops, h.ready = nil, nil
	h.mu.Unlock()
	h.sock.Close()
	C.gn_host_free(h.c) // every link is finished: no free callback finds a freed gn_link
	h.c = nil
	h.svc.Unlock()
}

// poll is Poll (transport.Poller) for the host's links and listener: one
// round of the run goroutine's work on the caller's goroutine, unless the
// run goroutine is at it. What needs the run goroutine (a failed socket, a
// link ending or flushing, more to hand to ENet than it may take) wakes
// it; otherwise poll sets its sleep to end at ENet's next timer. From the
// first Poll on, Sends wait for the next one (see schedule).
func (h *host) poll() {
	h.polled.Store(true)
	if !h.svc.TryLock() {
		return
	}
	defer h.svc.Unlock()
	if h.c == nil {
		return // run returned
	}
	handed := h.handed
	h.deferred.Store(false) // this Poll sends what was queued
	h.takeOps()
	h.pump()
	if h.handed == handed && C.gn_readable(C.gn_socket(h.c)) == 0 && h.c.hasPending == 0 {
		return // nothing to send or receive: ENet's timers are the run goroutine's
	}
	failed := h.serviceAll()
	h.refreshStats()
	if failed || h.finished() || h.shutdown || h.skipSocket || len(h.flushing) > 0 || h.canPump() {
		h.wake() // the run goroutine's own limits on its sleep apply
		return
	}
	h.sleepFor(int(C.gn_timeout(h.c, -1)))
}

// inspect runs fn where the host is serviced, under svc (on the run
// goroutine, or in a Poll), and waits for it; it reports false, without
// running fn, once the host has exited. Any goroutine that does not hold
// svc.
func (h *host) inspect(fn func()) bool {
	ran := make(chan struct{})
	h.mu.Lock()
	if h.exited {
		h.mu.Unlock()
		return false
	}
	h.ops = append(h.ops, op{kind: opInspect, fn: func() { fn(); close(ran) }})
	h.wakeLocked()
	h.mu.Unlock()
	select {
	case <-ran:
		return true
	case <-h.done:
		return false
	}
}

func (h *host) finished() bool {
	if h.dialer != nil {
		return h.dialer.done
	}
	return h.shutdown && len(h.all) == 0
}

func (h *host) takeOps() {
	h.mu.Lock()
	ops, ready := h.ops, h.ready
	h.ops, h.ready = h.spareOps[:0], h.spareReady[:0]
	h.mu.Unlock()
	for _, o := range ops {
		h.do(o)
	}
	for _, l := range ready {
		h.markBusy(l)
	}
	clear(ops)
	clear(ready)
	h.spareOps, h.spareReady = ops[:0], ready[:0]
}

func (h *host) markBusy(l *link) {
	if !l.done && !l.inBusy {
		l.inBusy = true
		h.busy = append(h.busy, l)
	}
}

func (h *host) do(o op) {
	l := o.l
	switch o.kind {
	case opClose, opCloseQuiet:
		if !l.done {
			l.closeWanted = true
			if o.kind == opCloseQuiet {
				C.gn_quiet(l.c)
			}
			h.markBusy(l)
		}
	case opAbort:
		if !l.done {
			C.enet_peer_disconnect_now(l.peer, C.enet_uint32(DisconnectAbort))
			h.finish(l, nil)
		}
	case opResume:
		if !l.done && !l.paused.Load() {
			C.gn_link_pause(l.c, 0)
		}
	case opCancel:
		if d := h.dialer; d != nil && !d.done && !d.connected {
			C.enet_peer_reset(d.peer)
			h.finish(d, errCanceled)
		}
	case opInspect:
		o.fn()
	case opShutdown:
		if h.shutdown {
			return
		}
		h.shutdown = true
		h.deadline = time.Now().Add(h.opts.ShutdownTimeout)
		for _, l := range h.all {
			l.mu.Lock()
			l.closing = true
			l.mu.Unlock()
			l.closeWanted = true
			h.markBusy(l)
		}
	}
}

// dropAll ends the links still flushing when Listener.Close's time is up.
func (h *host) dropAll() {
	for len(h.all) > 0 {
		l := h.all[len(h.all)-1]
		C.enet_peer_disconnect_now(l.peer, C.enet_uint32(DisconnectAbort))
		h.finish(l, nil)
	}
}

// socketFD is ENet's socket, for checks of what watches it.
func (h *host) socketFD() int { return int(C.gn_socket(h.c)) }
