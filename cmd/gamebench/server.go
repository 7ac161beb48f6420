package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"time"

	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/transport"
)

// serverState is what the server's handlers share; only the game loop's
// goroutine touches it (handlers run inside Update).
type serverState struct {
	nextID uint32
	chats  int
	stop   bool
	// sealed counts the connections that were sealed (Conn.Sealed): with
	// -tokens all of them, else none.
	sealed int
}

// serverConn is one client as the server sees it: its latest input, applied
// at the next tick, and its position.
type serverConn struct {
	gnet.Handler
	st      *serverState
	id      uint32
	seq     uint32 // latest input received
	applied uint32 // latest input applied: the snapshot's ack
	dx, dy  float32
	x, y    float32
}

func (h *serverConn) OnConnect() {
	h.st.nextID++
	h.id = h.st.nextID
	if h.Conn().Sealed() {
		h.st.sealed++
	}
}

func (h *serverConn) NetInput(m Input) {
	if m.Seq > h.seq {
		h.seq, h.dx, h.dy = m.Seq, m.DX, m.DY
	}
}

func (h *serverConn) NetChat(Chat) { h.st.chats++ }

func (h *serverConn) NetStop(Stop) { h.st.stop = true }

// server runs the tick loop until the clients say stop, all of them left, or
// warmup+duration+2 s after they all connected (at most connectWait more).
// Ticks are scheduled from the start, deadline_k = start + k/hz, so a late
// tick does not delay the next ones; between them, Update services the
// network until the next deadline.
func server(c runConfig) int {
	st := &serverState{}
	var tokens *gnet.Tokens
	if c.tokens {
		tokens = &gnet.Tokens{Key: benchKey(), Server: c.addr}
	}
	srv, err := gnet.Listen(gnet.ServerConfig{
		Config:     gnet.Config{Factory: factory(), Transport: c.tr},
		Addr:       c.addr,
		NewHandler: func() any { return &serverConn{st: st} },
		Tokens:     tokens,
	})
	if err != nil {
		fail("%v", err)
	}
	defer srv.Close()
	fmt.Println("ready", srv.Addr())

	ticks := c.hz * int(c.duration/time.Second+1)
	work, late := newSamples(ticks), newSamples(ticks)
	snap := Snapshot{Players: make([]Player, min(c.n, maxPlayers))}
	// Ticks on the grid of whole seconds of CLOCK_MONOTONIC, as the
	// clients' frames (aligned): a tick's snapshot is due at the frame
	// framePhase after it, whatever moment each process started.
	start := time.Now().Add(time.Duration(aligned(mono()) - mono()))
	end := start.Add(connectWait + warmup + c.duration + 2*time.Second)
	var base, measFrom, measTo time.Time
	var cpu0, cpu1 int64
	var wall0, wall1 time.Time
	var queueFull, sendErrs int
	var lastErr error
	for k := 0; !st.stop; {
		now := time.Now()
		if !now.Before(end) {
			break
		}
		deadline := start.Add(time.Duration(int64(k) * int64(time.Second) / int64(c.hz)))
		if now.Before(deadline) {
			if err := srv.Update(min(deadline.Sub(now), end.Sub(now))); err != nil {
				fmt.Fprintf(os.Stderr, "gamebench server: update: %v\n", err)
				break
			}
			continue
		}
		// The tick.
		t0 := time.Now()
		conns := srv.NumConns()
		if base.IsZero() && (conns >= c.n || t0.Sub(start) >= connectWait) {
			base = t0
			measFrom, measTo = base.Add(warmup), base.Add(warmup+c.duration)
			end = measTo.Add(2 * time.Second)
		}
		if !base.IsZero() && conns == 0 {
			break // the clients are gone
		}
		measuring := !base.IsZero() && !deadline.Before(measFrom) && deadline.Before(measTo)
		if measuring && wall0.IsZero() {
			cpu0, wall0 = cpuNs(), t0
		}
		if !base.IsZero() && !deadline.Before(measTo) && !wall0.IsZero() && wall1.IsZero() {
			cpu1, wall1 = cpuNs(), t0
		}
		i := 0
		for hv := range srv.Handlers(nil) {
			h := hv.(*serverConn)
			h.applied = h.seq
			h.x += h.dx
			h.y += h.dy
			if i < len(snap.Players) {
				snap.Players[i] = Player{ID: h.id, X: h.x, Y: h.y, VX: h.dx, VY: h.dy, State: 1, HP: 100}
				i++
			}
		}
		snap.Tick = uint32(k)
		for hv := range srv.Handlers(nil) {
			h := hv.(*serverConn)
			snap.AckInput = h.applied
			snap.SendNs = mono()
			if err := h.Conn().Send(&snap); err != nil {
				if errors.Is(err, transport.ErrQueueFull) {
					queueFull++
				} else if !errors.Is(err, gnet.ErrClosed) {
					sendErrs++
					lastErr = err
				}
			}
		}
		if measuring {
			t1 := time.Now()
			work.add(int64(t1.Sub(t0)))
			late.add(int64(t0.Sub(deadline)))
		}
		k++
	}
	if !wall0.IsZero() && wall1.IsZero() {
		cpu1, wall1 = cpuNs(), time.Now()
	}
	cpu := math.NaN()
	if !wall0.IsZero() && wall1.After(wall0) {
		cpu = 100 * float64(cpu1-cpu0) / float64(wall1.Sub(wall0))
	}
	size := 0
	if b, err := srv.Factory().Pack(&snap); err == nil {
		size = len(b)
	}
	fmt.Fprintf(os.Stderr, "gamebench server: snapshot of %d players, %d bytes encoded\n", len(snap.Players), size)
	fmt.Fprintf(os.Stderr, "gamebench server: %d measured ticks (%d not kept), %d chats, stop=%v, snapshots refused: %d queue full, %d other (%v)\n",
		len(work.v), work.dropped, st.chats, st.stop, queueFull, sendErrs, lastErr)
	fmt.Fprintf(os.Stderr, "gamebench server: %d of %d connections sealed\n", st.sealed, st.nextID)
	result(c.label, "tick_work_p50", work.pct(50), "us")
	result(c.label, "tick_work_p99", work.pct(99), "us")
	result(c.label, "late_p50", late.pct(50), "us")
	result(c.label, "late_p99", late.pct(99), "us")
	result(c.label, "late_max", late.pct(100), "us")
	result(c.label, "server_cpu", cpu, "percent")
	if base.IsZero() || len(work.v) == 0 {
		return 1
	}
	want := 0
	if c.tokens {
		want = int(st.nextID)
	}
	if st.sealed != want {
		fmt.Fprintf(os.Stderr, "gamebench server: %d of %d connections sealed, want %d (-tokens=%v)\n", st.sealed, st.nextID, want, c.tokens)
		return 1
	}
	return 0
}
