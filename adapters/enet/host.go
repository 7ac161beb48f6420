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
	"io"
	"math"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/gonetic/gonetic/net/transport"
)

// A host is one ENetHost and the goroutine that alone touches it: a
// listener's, or a dialed link's own. Other goroutines talk to it through
// ops and ready, then wake it.
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
	polls      bool             // Poll services the host (Options.Poll)
	waits      bool             // Wait services the host (Options.Poll)
	canWait    bool             // gn_wait works here (Linux): Wait may wait
	accept     transport.Accept // listener only
	dialer     *link            // dialing host only
	addr       string           // bound address, listener only

	mu       sync.Mutex // guards ops, ready and exited
	ops      []op
	ready    []*link // links whose front queue went from empty to not empty
	exited   bool
	notified atomic.Bool   // a wake-up is pending; no need to wake again
	held     atomic.Bool   // Hold: Send need not wake the run goroutine; a Poll comes
	waited   atomic.Bool   // a Wait serviced the host: the Hold and Poll of its Update do too
	polling  atomic.Bool   // a game polls the host: see startPolling
	wakes    atomic.Uint64 // wake-ups of the run goroutine, for tests
	skips    atomic.Uint64 // polling-mode looks skipped (see skipLook), for tests
	lookMs   atomic.Int32  // time to the run goroutine's next polling-mode look (see nextLook)
	calls    atomic.Uint64 // Polls, for yieldSometimes
	rounds   atomic.Uint64 // rounds of the run goroutine's loop, for tests
	worked   atomic.Uint64 // those that took svc, counted once taken, for tests
	yielded  atomic.Int64  // when a Poll or Wait last yielded, in Unix nanoseconds
	yields   atomic.Uint64 // their yields, for tests

	// A game goroutine waiting for the socket in Update (see wait).
	armMu       sync.Mutex   // guards the waiter's arming between wait and waitReadable
	inline      atomic.Bool  // wait is in gn_wait; the run goroutine leaves the waiter alone
	inlineUntil atomic.Int64 // when that gn_wait times out, in Unix nanoseconds
	interrupted atomic.Bool  // Interrupt or a wake-up came: wait must not sleep

	done       chan struct{}  // closed when run returns
	delivering sync.WaitGroup // the links' deliver goroutines

	// svc is held by whoever services the host: the run goroutine for a
	// round of its loop, or a Poll (net's Update) that found it free. The
	// fields below and every ENet call are under it.
	svc        sync.Mutex
	sleepUntil time.Time // the run goroutine's read deadline while it sleeps; zero: none
	pollCount  uint64    // Polls that serviced the host (polling mode)
	pollsSeen  uint64    // pollCount at the run goroutine's last look
	pollStreak int       // Polls since the last Wait: two start polling mode
	handed     uint64    // packets handed to ENet, ever
	churn      uint64    // connect and disconnect events, ever
	heldSince  time.Time // when a service last held acknowledgements back (see service)
	events     uint64    // events handed out, ever

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
	opAbort
	opShutdown // Listener.Close
	opCancel   // Dial's context ended
	opResume   // a paused link's inbox drained
)

type op struct {
	kind opKind
	l    *link
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
		inboxLimit: int64(max(cmp.Or(opts.inboxBytes, inboxBytes), 2*cfg.MaxPayload)),
		c:          c,
		done:       make(chan struct{}),
		links:      make([]*link, peers),
		evs:        make([]C.gn_event, initialEvents),
		buf:        make([]byte, initialBuffer),
		sock:       sock,
		rc:         rc,
	}
	switch {
	case opts.rawSend:
		h.sendMode = C.GN_SEND_RAW
	case !opts.NoBundling:
		h.sendMode = C.GN_SEND_BUNDLE
	}
	h.waitFn = h.waitReadable
	h.canWait = c.wakefd >= 0
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
//
// While a game goroutine waits for the socket itself (see wait), or polls
// the host (see polling), the waiter stays disarmed, so that a datagram
// wakes that goroutine alone.
func (h *host) waitReadable(uintptr) bool {
	if h.skipSocket {
		return false
	}
	h.armMu.Lock()
	defer h.armMu.Unlock()
	return !h.inline.Load() && !h.polling.Load() && C.gn_arm(h.c) != 0
}

// walked is how many of the host's peer slots ENet walks (see gn_fit).
func (h *host) walked() int {
	h.svc.Lock()
	defer h.svc.Unlock()
	if h.c == nil {
		return 0
	}
	return int(h.c.host.peerCount)
}

// socketFD is ENet's socket.
func (h *host) socketFD() int { return int(C.gn_socket(h.c)) }

// post hands an op to the run goroutine. Any goroutine.
func (h *host) post(o op) {
	h.mu.Lock()
	if !h.exited {
		h.ops = append(h.ops, o)
		h.wakeLocked()
	}
	h.mu.Unlock()
}

// schedule tells the run goroutine that l has payloads to send. Any goroutine.
func (h *host) schedule(l *link) {
	h.mu.Lock()
	if !h.exited {
		h.ready = append(h.ready, l)
		switch {
		case h.held.Load(): // the Poll closing the Update hands it to ENet
		case h.polling.Load():
			h.interruptLocked() // a Wait in progress hands it to ENet; a Poll will
		default:
			h.wakeLocked()
		}
	}
	h.mu.Unlock()
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
		h.wakes.Add(1)
		h.sock.SetReadDeadline(longAgo)
	}
	h.interruptLocked() // a game goroutine waiting for the socket does the work sooner
}

// longAgo is a read deadline in the past: it ends a sleep at once.
var longAgo = time.Unix(1, 0)

// run is the service goroutine: hand queued payloads to ENet, service the
// host until it has no more events, deliver them, sleep until the socket,
// a wake-up or ENet's next timer.
func (h *host) run() {
	defer close(h.done)
	skips := 0
	for {
		h.rounds.Add(1)
		if h.notified.Load() {
			// Woken by Send: let the sender go on queueing on this P a
			// moment, so that ENet gets a batch, not single packets.
			runtime.Gosched()
		}
		if !h.svc.TryLock() {
			if h.polling.Load() && !h.notified.Load() && (skips < maxPollingSkips || h.inline.Load()) {
				skips++
				h.skipLook()
				continue
			}
			h.svc.Lock()
		}
		skips = 0
		h.worked.Add(1)
		h.notified.Store(false)
		h.takeOps()
		h.pump()
		failed := h.serviceAll(false)
		h.refreshStats()
		if h.finished() {
			break
		}
		started := h.checkFlushing()
		if started || h.canPump() {
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
		if h.polling.Load() && ms != 0 {
			if seen := h.pollCount - h.pollsSeen; seen > 0 {
				// A game polls the host, and so hears its socket and runs
				// ENet's timers (gn_quiet): sleep deaf to both, and look
				// again in a while.
				h.pollsSeen = h.pollCount
				ms = h.nextLook(seen)
				if maxWait >= 0 && maxWait < ms {
					ms = maxWait
				}
			} else {
				h.stopPolling() // nobody polled since: listen again, and send what Sends left
			}
		}
		if ms != 0 {
			h.sleepUntil = time.Time{}
			if ms > 0 {
				h.sleepUntil = time.Now().Add(time.Duration(ms) * time.Millisecond)
			}
			h.sock.SetReadDeadline(h.sleepUntil)
		}
		h.svc.Unlock()
		if ms != 0 && !h.notified.Load() {
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
// run goroutine is at it. What needs the run goroutine (a failed socket,
// a link ending or flushing, more to hand to ENet) wakes it; otherwise
// poll only brings its sleep's deadline forward to ENet's next timer, so
// that retransmits and acknowledgements go on when nobody polls. In
// polling mode it leaves that deadline alone: the Polls run ENet's timers
// (gn_quiet), and the run goroutine only looks whether they go on.
func (h *host) poll() {
	if h.calls.Add(1)%yieldCheck == 0 {
		h.yieldSometimes()
	}
	held := h.held.Swap(false)
	waited := h.waited.Swap(false)
	if !h.polls && !waited || !h.svc.TryLock() {
		if held {
			h.wake() // the run goroutine is busy: it sends what Hold kept from waking it
		}
		return
	}
	defer h.svc.Unlock()
	if h.c == nil {
		return // run returned
	}
	// A Poll that ends a Hold closes an Update; only the others count
	// towards polling mode, so that an Update that waits in between (and
	// so ends polling mode: see wait) does not start it again.
	if h.polls && !held {
		h.pollCount++
		if h.pollStreak++; h.pollStreak >= 2 && !h.polling.Load() {
			h.startPolling()
		}
	}
	h.pollLocked(false, held)
}

// yieldSometimes lets the Go scheduler in (runtime.Gosched) when a Poll or
// Wait did not for yieldEvery. A game goroutine that spins on Update(0),
// or blocks in Update in C (see wait), never passes through the scheduler
// on its own, and once it has run 10 ms so, sysmon preempts it; it is then
// mostly in a C call, so sysmon takes its P instead, and resets its own
// sleep to 20 µs: some 50 wake-ups of the sysmon thread follow before it
// backs off again, every 10 ms, each taking a CPU from the game or from
// another process for a few µs. A Gosched every yieldEvery costs one
// wake-up of an idle thread.
func (h *host) yieldSometimes() {
	now := time.Now().UnixNano()
	if last := h.yielded.Load(); now-last >= int64(yieldEvery) && h.yielded.CompareAndSwap(last, now) {
		h.yields.Add(1)
		runtime.Gosched()
	}
}

// yieldEvery is how often Polls and Waits let the scheduler in (see
// yieldSometimes): well under sysmon's 10 ms. yieldCheck is how many
// Polls go by between two looks at the clock.
const (
	yieldEvery = 4 * time.Millisecond
	yieldCheck = 64
)

// In polling mode the run goroutine looks whether a game still polls its
// host every pollingCheck milliseconds at first (see startPolling), and
// twice as long after each look that found the game polling at least
// spinPolls times a millisecond, up to maxPollingLook. Every look wakes a
// thread, which takes a CPU from the game (or from another process) for
// 10 to 30 µs; at one a millisecond that was 1 round trip in 50 of a
// spinning ping-pong on two CPUs, and its 99th percentile. A game that
// polls in a tight loop is looked at every 16 ms; one that polls at 60 Hz
// every millisecond, so that its host listens again a millisecond or two
// after each Update, as before.
const (
	pollingCheck   = 1
	maxPollingLook = 16
	spinPolls      = 8
)

// nextLook is the time to the run goroutine's next polling-mode look, in
// milliseconds, after one that found seen Polls since the one before.
// Under svc.
func (h *host) nextLook(seen uint64) int {
	look := int(h.lookMs.Load())
	if seen >= uint64(look)*spinPolls {
		look = min(2*look, maxPollingLook)
	} else {
		look = pollingCheck
	}
	h.lookMs.Store(int32(look))
	return look
}

// maxPollingSkips bounds the looks in a row that the run goroutine skips
// in polling mode because a Poll holds the host (see skipLook). Looks that
// find a Wait sleeping in C are not bounded: the Wait's sleep ends at
// ENet's next timer.
const maxPollingSkips = 3

// skipLook is the run goroutine's polling-mode look when it finds a Poll
// servicing the host: that Poll hears the socket and the game still
// polls, so it sleeps another look's time instead of queueing on svc.
// Queued, it made that Poll's Unlock hand svc over and wake a thread for
// it (futex and an idle P's wake-up, in the middle of the game's loop)
// once a millisecond, which doubled a spinning ping-pong's 99th
// percentile. The deadline is set without svc, so sleepUntil is stale
// until the next locked round: a Poll that wants an earlier wake-up for
// an ENet timer meanwhile gets it at the end of this sleep.
//
// A Wait sleeping in C holds the host until a datagram, an interrupt or
// its time is up: the next look is a pollingCheck after that time, not
// one every look's time of an idle game's wait.
func (h *host) skipLook() {
	h.skips.Add(1)
	d := time.Now().Add(time.Duration(h.lookMs.Load()) * time.Millisecond)
	if h.inline.Load() {
		if end := time.Unix(0, h.inlineUntil.Load()).Add(pollingCheck * time.Millisecond); end.After(d) {
			d = end
		}
	}
	h.sock.SetReadDeadline(d)
	if !h.notified.Load() { // a wake-up after the check above moved the deadline to longAgo, or comes after this
		h.rc.Read(h.waitFn)
	}
}

// startPolling puts the host in polling mode, for a game that calls
// Update(0) in a loop, or waits in Update (see wait): its Polls and Waits
// hear the socket, run ENet's timers (gn_quiet) and hand Sends to ENet, so
// the run goroutine sleeps deaf to the socket and to ENet's timers, Send
// does not wake it (it interrupts a Wait in progress), and it wakes only
// to see whether the game still polls or waits (see nextLook); when it
// finds no Poll or Wait since its last look, it listens again. A game
// spinning on Update(0) then runs alone, where a wake-up of the run
// goroutine per datagram and per Send (each starting an idle thread, with
// two or more Ps) more than tripled its round trip; a datagram or Send
// that no Poll or Wait takes waits until the next look, at most
// maxPollingLook (or maxInlineWait + pollingCheck after a Wait that ended
// early: see skipLook). Under svc.
func (h *host) startPolling() {
	h.armMu.Lock()
	h.polling.Store(true)
	C.gn_disarm(h.c)
	h.armMu.Unlock()
	h.pollsSeen = h.pollCount - 1 // the run goroutine's next look sees a Poll
	h.lookMs.Store(pollingCheck)
	h.sleepAtMost(pollingCheck)
}

// sleepAtMost brings the run goroutine's deadline forward to ms
// milliseconds from now, unless it is sooner already. Under svc.
func (h *host) sleepAtMost(ms int) {
	if d := time.Now().Add(time.Duration(ms) * time.Millisecond); h.sleepUntil.IsZero() || d.Before(h.sleepUntil) {
		h.sleepUntil = d
		h.sock.SetReadDeadline(d)
		if h.notified.Load() { // a wake-up may have come between: keep it
			h.sock.SetReadDeadline(longAgo)
		}
	}
}

// pollLocked is poll's round, under svc; force services the host even
// when it looks idle (an ENet timer is due), closing says that it closes
// an Update (see hold).
func (h *host) pollLocked(force, closing bool) {
	handed := h.handed
	h.takeOps()
	h.pump()
	// With nothing handed to ENet and no datagram waiting, servicing the
	// host would only run ENet's timers, which are the run goroutine's
	// (its deadline is the next of them; and whatever else needs a service,
	// an op or a close, woke it when it was posted), and walk the peer
	// slots twice (ENet's service, then gn_timeout): an idle Poll, which a
	// game calling Update(0) in a loop pays constantly, skips it.
	found, churn := C.int(C.GN_TIMER), h.churn
	if !force && h.handed == handed {
		found = C.gn_quiet(h.c)
	}
	if found == C.GN_ACKS {
		// Acknowledgements held back for replies (see service) that did
		// not come.
		if !h.ackDue(closing) || !h.flushHeld() {
			return
		}
		found = C.GN_RECEIVE // the flush made an event to hand out
	}
	idle, events := found == C.GN_QUIET, h.events
	failed := !idle && h.serviceAll(h.polling.Load())
	if !failed && h.events == events && h.c.acksHeld != 0 && h.ackDue(true) && h.flushHeld() {
		// The datagram brought the game nothing (an ENet ping), so the
		// Update may have no closing Poll to send its acknowledgement: it
		// leaves now, unless the game spins (ackDue), and the flush made
		// an event (a disconnect) to hand out.
		failed = h.serviceAll(false)
	}
	if failed || h.finished() || len(h.flushing) > 0 || h.canPump() {
		h.wake()
		return
	}
	// ENet did nothing, so it started no timer: the deadlines stand. Nor
	// does receiving alone, in polling mode (its acknowledgements left in
	// the service, or wait for the replies): a timer that ran, a packet
	// handed to ENet, or a peer that came or went does, and gn_timeout
	// finds when it is due.
	if idle || found == C.GN_RECEIVE && h.churn == churn && h.polling.Load() {
		return
	}
	ms := int(C.gn_timeout(h.c, -1))
	if ms >= 0 && !h.polling.Load() {
		// In polling mode the run goroutine sleeps deaf to ENet's timers,
		// which Polls run (gn_quiet), and moving its deadline would wake
		// a thread to tell Go's poller.
		h.sleepAtMost(ms)
	}
}

// hold is Hold (transport.Holder) for the host's links and listener: until
// the next poll, Send queues without waking the run goroutine, because
// that poll hands the queue to ENet and sends it. A host that Poll does
// not service (Options.Poll) is not held.
func (h *host) hold() {
	if h.polls || h.waited.Load() {
		h.held.Store(true)
	}
}

// maxInlineWait bounds one gn_wait. A goroutine in a C call keeps its P
// only while the runtime sees no reason to take it: 10 ms with a P idle.
const maxInlineWait = 5 * time.Millisecond

// wait is Wait (transport.Waiter) for the host's links and listener: the
// caller's goroutine (a game's, in Update) waits for the socket in C, up to
// d or ENet's next timer, and services the host when a datagram comes,
// with the run goroutine's waiter disarmed meanwhile, so that the datagram
// wakes this thread alone. A Send from another goroutine interrupts the
// wait, as do Interrupt, an op for the run goroutine, and the end of the
// host. It may return a round of the run goroutine late: it waits for the
// host to be free.
//
// A listener's host waits even where its Poll does not service it
// (PollDialed): the Hold and Poll of the Update that waited then service
// it too (waited), so that the handlers' replies leave in that Update.
//
// It declines (false) with PollNone, off Linux, for d under a millisecond
// (d <= 0: the caller is about to wait elsewhere), while the run goroutine
// has a backlog to work through, and with one P: the runtime hands the P
// of a goroutine blocked in C to another thread after 20 µs when no other
// P is idle, which costs more than it saves. Declining, it ends polling
// mode: the caller stops polling for a while. Waiting, it starts polling
// mode, or keeps it: the caller hears the socket, here and in its Update's
// closing Poll, and a game that waits in Update again and again (a server
// blocking in Update(timeout)) services the host alone. Re-arming the run
// goroutine's waiter after each Wait instead cost two epoll_ctl calls per
// Wait, and the datagrams that came between two Waits (a peer's
// acknowledgement of the reply just sent) woke the run goroutine, which
// then queued on svc behind the next Wait: 40 % of a blocking ping-pong.
func (h *host) wait(d time.Duration) bool {
	h.yieldSometimes()
	inline := h.waits && h.canWait && d >= time.Millisecond && runtime.GOMAXPROCS(0) >= 2
	if !inline && !h.polls && !h.polling.Load() {
		return false // not in polling mode (a Wait that waited may have started it even here)
	}
	h.svc.Lock()
	defer h.svc.Unlock()
	if h.c == nil {
		return false
	}
	// The caller waits: whoever waits must hear the socket.
	h.pollStreak = 0
	if !inline || h.skipSocket || len(h.busy) > 0 || len(h.flushing) > 0 {
		// The caller waits elsewhere; or a link has a backlog to hand to
		// ENet, or a close to finish: the run goroutine is at it, and a
		// second goroutine servicing the host would only contend with it.
		wasPolling := h.polling.Load()
		h.stopPolling()
		h.flushHeld()
		if wasPolling && !h.skipSocket {
			// The run goroutine slept deaf to the socket and to ENet's
			// timers, for up to maxPollingLook: it hears both again.
			h.armOrWake()
			if ms := int(C.gn_timeout(h.c, -1)); ms >= 0 {
				h.sleepAtMost(ms)
			}
		}
		return false
	}
	h.pollCount++ // the run goroutine's next look sees that the game drives the host
	if !h.polling.Load() {
		h.startPolling()
	}
	ms := 0
	if !h.flushHeld() {
		ms = int(C.gn_timeout(h.c, C.int(min(d, maxInlineWait)/time.Millisecond)))
	}
	if ms != 0 {
		h.sleepInline(ms)
	}
	h.waited.Store(true)
	h.pollLocked(ms == 0, false) // 0: an ENet timer is due, so service even a quiet host
	for range 3 {                // a few more rounds for datagrams that come meanwhile
		if q := C.gn_quiet(h.c); q == C.GN_QUIET || q == C.GN_ACKS { // acknowledgements wait for the replies
			break
		}
		h.pollLocked(false, false)
	}
	return true
}

// ackHold is how long acknowledgements held back for the replies (see
// service) may wait for a packet to leave with, in a game that polls in a
// tight loop: its next Update's Sends are then a few µs away, and a
// ping-pong's next request carries the acknowledgement of the reply.
const ackHold = 250 * time.Microsecond

// ackDue reports whether a Poll that finds only held-back
// acknowledgements should send them alone: the closing Poll of an Update
// (closing) does, unless the game polls in a tight loop (the run
// goroutine's looks backed off: at least spinPolls Polls or Waits a
// millisecond), and any Poll does once they waited ackHold. A game
// polling at 60 Hz thus sends them at the end of the Update that read the
// datagram, and ENet's round-trip time, which its peer takes from
// acknowledgements, does not grow by a frame; a spinning one waits for
// its next Sends a moment. Under svc.
func (h *host) ackDue(closing bool) bool {
	return closing && h.lookMs.Load() <= pollingCheck || time.Since(h.heldSince) >= ackHold
}

// flushHeld sends the acknowledgements that a Poll held back for replies
// (see service), when no reply will carry them: ackDue says so, or the
// caller is about to wait. It reports whether that made an event to hand
// out (a peer whose disconnect it acknowledged), and wakes the run
// goroutine for it outside polling mode. Under svc.
func (h *host) flushHeld() bool {
	if h.c.acksHeld == 0 || C.gn_flush(h.c) == 0 {
		return false
	}
	if !h.polling.Load() {
		h.wake()
	}
	return true
}

// stopPolling ends polling mode (see startPolling), and wakes the run
// goroutine for Sends that polling mode kept from waking it. Under svc.
func (h *host) stopPolling() {
	if !h.polling.Load() {
		return
	}
	h.armMu.Lock()
	h.polling.Store(false)
	h.armMu.Unlock()
	h.mu.Lock()
	if !h.exited && len(h.ready) > 0 {
		h.wakeLocked()
	}
	h.mu.Unlock()
}

// armOrWake arms the run goroutine's waiter, or wakes the goroutine when
// a datagram waits already. Under svc.
func (h *host) armOrWake() {
	h.armMu.Lock()
	readable := C.gn_arm(h.c) != 0
	h.armMu.Unlock()
	if readable {
		h.wake()
	}
}

// sleepInline blocks the calling thread in gn_wait for up to ms (>= 0)
// milliseconds, with the run goroutine's waiter disarmed, and reports
// whether a datagram or an interrupt ended the sleep (true) or the time
// (false). Under svc.
func (h *host) sleepInline(ms int) bool {
	h.inlineUntil.Store(time.Now().Add(time.Duration(ms) * time.Millisecond).UnixNano())
	h.armMu.Lock()
	h.inline.Store(true)
	C.gn_disarm(h.c)
	h.armMu.Unlock()
	woken := true
	if !h.interrupted.Swap(false) { // after inline is set: see interruptLocked
		woken = C.gn_wait(h.c, C.int(ms)) != 0
	}
	h.interrupted.Store(false)
	h.armMu.Lock()
	h.inline.Store(false)
	h.armMu.Unlock()
	return woken
}

// interrupt is Interrupt (transport.Waiter): it ends a wait in progress,
// or makes the next one return at once. Any goroutine.
func (h *host) interrupt() {
	h.mu.Lock()
	if !h.exited {
		h.interruptLocked()
	}
	h.mu.Unlock()
}

// interruptLocked is interrupt under mu, the host not exited. interrupted
// is set before inline is read, and wait sets inline before it reads
// interrupted, so either wait sees the interrupt or this sees the wait.
func (h *host) interruptLocked() {
	h.interrupted.Store(true)
	if h.inline.Load() {
		C.gn_interrupt(h.c)
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
	case opClose:
		if !l.done {
			l.closeWanted = true
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

// room reports whether ENet may take another packet of l: nothing in
// flight, or fewer packets than InFlight and fewer bytes than
// InFlightBytes, whatever the next packet's size. gn_send_batch applies the
// same test.
func (h *host) room(l *link) bool {
	n := uint64(l.c.created - l.c.released)
	return n == 0 || (n < uint64(h.opts.InFlight) && uint64(l.c.createdBytes-l.c.releasedBytes) < uint64(h.opts.InFlightBytes))
}

// canPump reports whether another round would hand something to ENet at
// once, so the loop should not sleep.
func (h *host) canPump() bool {
	for _, l := range h.busy {
		if l.done {
			continue
		}
		if l.queued.Load() > 0 && h.room(l) {
			return true
		}
		if l.closeWanted && !l.disconnecting && l.queued.Load() == 0 {
			return true
		}
	}
	return false
}

func (h *host) pump() {
	keep := h.busy[:0]
	for _, l := range h.busy {
		if !l.done && h.pumpLink(l) {
			keep = append(keep, l)
		} else {
			l.inBusy = false
		}
	}
	clear(h.busy[len(keep):])
	h.busy = keep
}

// pumpLink hands what the in-flight bound allows of l's queue to ENet and
// starts a requested close once all is handed out. It reports whether l
// stays busy.
func (h *host) pumpLink(l *link) bool {
	for {
		if l.back.empty() {
			l.mu.Lock()
			if l.front.empty() {
				l.scheduled = false
				l.mu.Unlock()
				if l.closeWanted && !l.disconnecting {
					l.disconnecting = true
					if !h.disconnectFlushed(l) {
						h.flushing = append(h.flushing, l)
					}
				}
				return false
			}
			l.front, l.back = l.back, l.front
			l.mu.Unlock()
		}
		if !h.room(l) {
			return true
		}
		q := &l.back
		c := q.head
		var data *C.uint8_t
		if q.off < len(c.data) {
			data = (*C.uint8_t)(unsafe.Pointer(&c.data[q.off]))
		}
		n := int(C.gn_send_batch(l.c, data, &c.ents[q.next], C.int(len(c.ents)-q.next),
			C.uint64_t(h.opts.InFlight), C.uint64_t(h.opts.InFlightBytes), h.sendMode, &h.out.bytes, &h.out.failed))
		bytes, failed := h.out.bytes, h.out.failed
		q.next += n
		q.off += int(bytes)
		h.handed += uint64(n)
		l.paySent.Add(uint64(n))
		l.bytesSent.Add(uint64(bytes))
		l.queued.Add(-int64(int(bytes) + n*entryOverhead))
		if q.next == len(c.ents) {
			q.pop()
		}
		if failed != 0 {
			if l.peer.state == C.ENET_PEER_STATE_CONNECTED {
				C.enet_peer_disconnect_now(l.peer, C.enet_uint32(DisconnectAbort))
				h.finish(l, errors.New("enet: enet_peer_send failed"))
				return false
			}
			// The peer is going away; its disconnect event follows.
			l.mu.Lock()
			l.closing = true
			l.front.reset()
			l.mu.Unlock()
			l.back.reset()
			l.queued.Store(0)
			return false
		}
	}
}

// disconnectFlushed starts the disconnect of a closing link once ENet
// holds nothing of it unsent or unacknowledged, and reports whether the
// link needs no more waiting (disconnecting, or ENet is ending it anyway).
//
// This is enet_peer_disconnect_later done here, between two services, and
// not by ENet: ENet would send the disconnect from inside the service that
// receives the last acknowledgement, after reading the rest of the
// datagrams of that pass. When the peer closes too (gonetic's bye makes
// both ends close), its own disconnect often comes in that same pass; ENet,
// now disconnecting, drops its queued and still unsent disconnect, takes
// the peer's as the end and does not acknowledge it, so the peer waits for
// its timeout (5 s or more) to learn that the link is over. Started here,
// the disconnect is sent at the start of the next service, before anything
// is read, and either the peer acknowledges it or the two cross, and ENet
// ends both links at once.
func (h *host) disconnectFlushed(l *link) bool {
	if l.done {
		return true
	}
	switch C.gn_flushed(l.peer) {
	case 0:
		return false
	case 1:
		// enet_peer_disconnect drops the peer's queued acknowledgements:
		// those held back for a reply (a handler that closes the link in
		// the Update that read the peer's last message) leave first.
		h.flushHeld()
		C.gn_disconnect(l.peer, C.uint32_t(DisconnectClose))
	}
	return true
}

// checkFlushing starts the disconnect of the closing links that ENet has
// flushed, and reports whether it started any: the loop services the host
// again at once to send them.
func (h *host) checkFlushing() bool {
	started := false
	keep := h.flushing[:0]
	for _, l := range h.flushing {
		if !h.disconnectFlushed(l) {
			keep = append(keep, l)
		} else if !l.done {
			started = true
		}
	}
	clear(h.flushing[len(keep):])
	h.flushing = keep
	return started
}

// serviceAll is service, and ends a dialed link whose server's port turned
// out closed. It reports whether ENet failed.
func (h *host) serviceAll(hold bool) bool {
	failed := h.service(hold)
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
//
// With hold (a game goroutine's Poll or Wait, in polling mode), a service
// that reads a lone datagram returns before ENet acknowledges it (see
// gn_hold_acks): the acknowledgements wait for what the game sends next,
// normally the replies of the Update's handlers, which its closing Poll
// hands to ENet and sends with them. A request and its reply then cost one
// datagram each way instead of two, and the replier sees the request one
// sendmsg sooner. When nothing comes to carry them, they leave alone when
// ackDue says (pollLocked), before a Wait sleeps (flushHeld), or at the
// run goroutine's next service, which never holds: no later than a Send
// queued then would leave.
func (h *host) service(hold bool) bool {
	for {
		n := int(C.gn_service(h.c, &h.evs[0], C.int(len(h.evs)), (*C.uint8_t)(unsafe.Pointer(&h.buf[0])),
			C.uint32_t(len(h.buf)), C.uint64_t(h.copyLimit), holdFlag(hold), &h.out.need, &h.out.status))
		need, status := h.out.need, h.out.status
		if hold && h.c.acksHeld != 0 {
			h.heldSince = time.Now()
		}
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

// holdFlag is gn_service's hold argument.
func holdFlag(hold bool) C.int {
	if hold {
		return 1
	}
	return 0
}

func (h *host) handle(e *C.gn_event) {
	h.events++
	slot := uint32(e.slot)
	l := h.links[slot]
	switch e._type {
	case C.GN_EV_CONNECT:
		h.churn++
		h.connected(slot, uint32(e.data))
	case C.GN_EV_DISCONNECT:
		h.churn++
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
	if l.inBytes.Add(int64(n+entryOverhead)) > h.inboxLimit && !l.paused.Load() {
		l.paused.Store(true)
		C.gn_link_pause(l.c, 1)
	}
	l.wakeDeliver()
}

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
	for rest = b[1:]; len(rest) > 0; {
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

// connected handles ENet's connect event: a dial completing, or a new peer
// at a listener.
func (h *host) connected(slot uint32, data uint32) {
	if d := h.dialer; d != nil {
		if slot == d.slot && !d.done {
			d.connected = true
			d.channels = int(d.peer.channelCount)
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
	l.mu.Lock()
	l.closing = true
	l.front.reset()
	l.mu.Unlock()
	l.back.reset()
	l.queued.Store(0)
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
