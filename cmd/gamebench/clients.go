package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"time"

	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/transport"
)

// chatText is the 40-byte chat line.
const chatText = "gg, meet at the north gate in 10 seconds"

// clientsState is what the clients' handlers share; only the frame loop's
// goroutine touches it.
type clientsState struct {
	open             int
	measFrom, measTo int64 // the measured window, CLOCK_MONOTONIC ns
	snap, input      samples
	lastErr          error
}

// clientConn is one client: its inputs in flight and what it received.
type clientConn struct {
	cs       *clientsState
	conn     *gnet.Conn
	open     bool
	failedAt int64 // when its connect failed, to retry; 0: not failed
	nextChat int64

	seq   uint32
	sent  [256]int64 // send time of input seq, at seq%256
	acked uint32     // highest ack_input seen

	seen        bool // a snapshot arrived in the window
	first, last uint32
	got         int
}

func (h *clientConn) OnConnect() {
	h.open = true
	h.cs.open++
}

func (h *clientConn) OnDisconnect(err error) {
	if h.open {
		h.cs.open--
	}
	h.open = false
	h.failedAt = mono()
	h.cs.lastErr = err
}

func (h *clientConn) NetSnapshot(m Snapshot) {
	now := mono()
	cs := h.cs
	if now >= cs.measFrom && now < cs.measTo {
		cs.snap.add(now - m.SendNs)
		if !h.seen {
			h.seen, h.first = true, m.Tick
		}
		h.last = m.Tick
		h.got++
	}
	// Every input up to the ack was applied: its latency ends here.
	if m.AckInput > h.acked && m.AckInput <= h.seq {
		for s := h.acked + 1; s <= m.AckInput; s++ {
			if h.seq-s >= uint32(len(h.sent)) {
				continue // overwritten: more than 256 inputs in flight
			}
			if t := h.sent[s%uint32(len(h.sent))]; t >= cs.measFrom && t < cs.measTo {
				cs.input.add(now - t)
			}
		}
		h.acked = m.AckInput
	}
}

// runClients connects n clients on one gnet.Client, then runs one 60 fps
// frame loop for all of them: Update(0), inputs every 1/30 s, a chat every
// 3 s, sleep until the next frame. It measures for the duration after the
// warm-up, tells the server to stop and prints the figures.
func runClients(c runConfig) int {
	cli, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: factory(), Transport: c.tr}})
	if err != nil {
		fail("%v", err)
	}
	defer cli.Close()
	cs := &clientsState{
		measFrom: math.MaxInt64, measTo: math.MaxInt64,
		snap:  newSamples(c.n * c.hz * int(c.duration/time.Second+1)),
		input: newSamples(c.n * inputHz * int(c.duration/time.Second+1)),
	}
	hs := make([]*clientConn, c.n)
	connect := func(i int) {
		*hs[i] = clientConn{cs: cs}
		var opts []gnet.ConnectOption
		if c.tokens {
			// A fresh token for each attempt: one admitted from another
			// port would be refused.
			opts = append(opts, gnet.WithToken(benchToken(c.addr)))
		}
		conn, err := cli.Connect(c.addr, hs[i], opts...)
		if err != nil {
			hs[i].failedAt, cs.lastErr = mono(), err
			return
		}
		hs[i].conn = conn
	}
	// Connect all; the server may still be starting, so failed ones retry.
	start := mono()
	for i := range hs {
		hs[i] = &clientConn{}
		connect(i)
	}
	for cs.open < c.n {
		now := mono()
		if now-start >= int64(connectWait) {
			fmt.Fprintf(os.Stderr, "gamebench clients: %d of %d connected in %v (last error: %v)\n", cs.open, c.n, connectWait, cs.lastErr)
			return 1
		}
		if err := cli.Update(10 * time.Millisecond); err != nil {
			fail("update: %v", err)
		}
		for i, h := range hs {
			if !h.open && h.failedAt != 0 && mono()-h.failedAt >= int64(100*time.Millisecond) {
				connect(i)
			}
		}
	}

	base := aligned(mono()) + int64(framePhase) // frames on the server's tick grid
	time.Sleep(time.Duration(base - mono()))
	cs.measFrom, cs.measTo = base+int64(warmup), base+int64(warmup+c.duration)
	rng := rand.New(rand.NewPCG(uint64(base), 16))
	for _, h := range hs {
		h.nextChat = base + rng.Int64N(int64(chatEvery))
	}
	const frame, inputEvery = int64(time.Second) / frameHz, int64(time.Second) / inputHz
	var cpu0, wall0 int64
	nextInput := base
	var queueFull, sendErrs int
	rc := 0
	for f := int64(1); ; f++ {
		now := mono()
		if now >= cs.measTo {
			break
		}
		if wall0 == 0 && now >= cs.measFrom {
			cpu0, wall0 = cpuNs(), now
		}
		if err := cli.Update(0); err != nil {
			fmt.Fprintf(os.Stderr, "gamebench clients: update: %v\n", err)
			rc = 1
			break
		}
		if cs.open < c.n {
			fmt.Fprintf(os.Stderr, "gamebench clients: %d of %d connections left (last: %v)\n", cs.open, c.n, cs.lastErr)
			rc = 1
			break
		}
		count := func(err error) {
			if errors.Is(err, transport.ErrQueueFull) {
				queueFull++
			} else if err != nil {
				sendErrs++
				cs.lastErr = err
			}
		}
		now = mono()
		if now >= nextInput {
			for _, h := range hs {
				h.seq++
				t := mono()
				h.sent[h.seq%uint32(len(h.sent))] = t
				count(h.conn.Send(&Input{Seq: h.seq, SendNs: t, DX: 0.5, DY: -0.25}))
			}
			nextInput += inputEvery
			if nextInput < now-inputEvery {
				nextInput = now // far behind: no burst of inputs to catch up
			}
		}
		for _, h := range hs {
			if now >= h.nextChat {
				count(h.conn.Send(&Chat{Text: chatText}))
				h.nextChat += int64(chatEvery)
			}
		}
		next := base + f*frame
		if d := next - mono(); d > 0 {
			time.Sleep(time.Duration(d))
		} else if -d > frame {
			f = (mono() - base) / frame // far behind: drop the frames missed
		}
	}
	wall1, cpu1 := mono(), cpuNs()

	for _, h := range hs {
		if h.open {
			_ = h.conn.Send(&Stop{})
			break
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	_ = cli.Shutdown(ctx, "done")
	cancel()

	var lost, recv int
	for _, h := range hs {
		if h.seen {
			lost += int(h.last-h.first+1) - h.got
			recv += h.got
		}
	}
	cpu := math.NaN()
	if wall0 != 0 && wall1 > wall0 {
		cpu = 100 * float64(cpu1-cpu0) / float64(wall1-wall0)
	}
	fmt.Fprintf(os.Stderr, "gamebench clients: %d snapshots and %d inputs measured (%d and %d not kept); sends refused: %d queue full, %d other (%v)\n",
		len(cs.snap.v), len(cs.input.v), cs.snap.dropped, cs.input.dropped, queueFull, sendErrs, cs.lastErr)
	result(c.label, "snap_p50", cs.snap.pct(50), "us")
	result(c.label, "snap_p99", cs.snap.pct(99), "us")
	result(c.label, "snap_max", cs.snap.pct(100), "us")
	result(c.label, "snap_missed", cs.snap.above(missAfter), "percent")
	result(c.label, "snap_lost", float64(lost), "count")
	result(c.label, "snap_recv", float64(recv), "count")
	result(c.label, "input_p50", cs.input.pct(50), "us")
	result(c.label, "input_p99", cs.input.pct(99), "us")
	result(c.label, "client_cpu", cpu, "percent")
	if len(cs.snap.v) == 0 {
		rc = 1
	}
	return rc
}
