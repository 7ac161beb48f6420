package main

import (
	"context"
	"fmt"
	"io"
	"iter"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gonetic/gonetic/adapters/flow"
	gnet "github.com/gonetic/gonetic/net"
)

// pinger measures game round trips: A sends Ping over the game
// connection, B's game loop echoes it, A's game loop takes it back.
type pinger struct {
	mu      sync.Mutex // guards the fields below
	phase   int        // 0 idle, 1 during the flow, 2 after
	samples [3][]time.Duration
}

func (p *pinger) record(m Ping) {
	rtt := time.Duration(time.Now().UnixNano() - m.Sent)
	p.mu.Lock()
	p.samples[p.phase] = append(p.samples[p.phase], rtt)
	p.mu.Unlock()
}

func (p *pinger) setPhase(n int) {
	p.mu.Lock()
	p.phase = n
	p.mu.Unlock()
}

// stats returns the count, p50 and p99 of a phase.
func (p *pinger) stats(phase int) (n int, p50, p99 time.Duration) {
	p.mu.Lock()
	s := slices.Clone(p.samples[phase])
	p.mu.Unlock()
	if len(s) == 0 {
		return 0, 0, 0
	}
	slices.Sort(s)
	return len(s), s[len(s)/2], s[(len(s)-1)*99/100]
}

// carrier is how A reaches B: the flow's caller, the bytes it sent, and
// the game pings' way.
type carrier struct {
	caller  flow.Caller
	sent    func() uint64 // bytes the flow's connection sent so far
	ping    func(*Ping) error
	over    string // what the flow goes over, "the station"
	detail  string // and how, "tcp game connection"
	pingWay string // what the pings go over, "the game connection"
	closers []func()
}

// loop runs A's game loop, update every 5 ms at most, on a goroutine of
// its own until close.
func (c *carrier) loop(update func(time.Duration) error) {
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if update(5*time.Millisecond) != nil {
				return
			}
		}
	}()
	c.closers = append(c.closers, func() { close(stop); <-done })
}

// close releases what the carrier holds, in reverse.
func (c *carrier) close() {
	for i := len(c.closers) - 1; i >= 0; i-- {
		c.closers[i]()
	}
	c.closers = nil
}

// runA is server A: it reaches B (its game server, or its node), then
// streams the region to B over the carrier.
func runA(ctx context.Context, o options, gameAddr, flowAddr string, out io.Writer) error {
	if err := o.check(); err != nil {
		return err
	}
	comp, _ := compression(o.compress)
	var pings pinger
	var c *carrier
	var err error
	if o.carrier == "nats" {
		c, err = joinB(ctx, o, out, &pings)
	} else {
		c, err = dialB(ctx, o, gameAddr, flowAddr, out, &pings)
	}
	if err != nil {
		return err
	}
	defer c.close()
	return stream(ctx, o, comp, c, &pings, out)
}

// dialB connects to B's game server, over which A pings and, with the
// station carrier, streams; with the listener carrier, A streams to B's
// flow listener.
func dialB(ctx context.Context, o options, gameAddr, flowAddr string, out io.Writer, pings *pinger) (_ *carrier, err error) {
	c := &carrier{over: "the " + o.carrier, pingWay: "the game connection"}
	defer func() {
		if err != nil {
			c.close()
		}
	}()
	f := newFactory()
	tr, err := newTransport(o.transport)
	if err != nil {
		return nil, err
	}
	tr, simulator, err := simulate(tr, o, out)
	if err != nil {
		return nil, err
	}
	c.detail = tr.Name() + " game connection"
	cl, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: f, Transport: tr}})
	if err != nil {
		return nil, err
	}
	c.closers = append(c.closers, func() { cl.Close() })
	st, err := flow.Attach(cl, f, o.flowCfg)
	if err != nil {
		return nil, err
	}
	c.closers = append(c.closers, func() { st.Close() })
	if err := gnet.On(cl, func(c *gnet.Conn, m Ping) { pings.record(m) }); err != nil {
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := cl.Dial(dctx, gameAddr, nil)
	cancel()
	if err != nil {
		return nil, err
	}
	c.ping = func(p *Ping) error { return conn.Send(p) }

	// A's game loop, on its own goroutine: the flow is ranged over here.
	c.loop(cl.Update)

	c.caller = st.Over(conn)
	c.sent = func() uint64 { return conn.Stats().BytesSent }
	if o.carrier == "listener" {
		if simulator != nil { // the flow connection is plain TCP: a relay puts it under the conditions
			r, err := simulator.Relay("tcp", "127.0.0.1:0", flowAddr)
			if err != nil {
				return nil, err
			}
			c.closers = append(c.closers, func() { r.Close() })
			flowAddr = r.Addr()
		}
		fc, err := flow.Dial(ctx, flowAddr, flow.ClientConfig{Config: o.flowCfg})
		if err != nil {
			return nil, err
		}
		c.closers = append(c.closers, func() { fc.Close() })
		c.caller = fc
		c.sent = func() uint64 { return fc.Stats().BytesSent }
	}
	return c, nil
}

// stream pings B, streams the region over c with the progress line, and
// checks what B confirms.
func stream(ctx context.Context, o options, comp flow.Compression, c *carrier, pings *pinger, out io.Writer) error {
	// Pings: a second of them idle, then all along the flow.
	pingsDone := make(chan struct{})
	stopPings := make(chan struct{})
	if o.ping > 0 {
		go func() {
			defer close(pingsDone)
			t := time.NewTicker(o.ping)
			defer t.Stop()
			for seq := uint64(0); ; seq++ {
				select {
				case <-stopPings:
					return
				case <-t.C:
				}
				_ = c.ping(&Ping{Seq: seq, Sent: time.Now().UnixNano()})
			}
		}()
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
		}
	} else {
		close(pingsDone)
	}
	defer func() { close(stopPings); <-pingsDone }()

	var produced atomic.Int64
	var applied atomic.Int64
	// payload is the region's bytes as the game hands them to the flow,
	// before compression: raw records only (a typed value's size is the
	// codec's business).
	payload := func() int64 {
		if o.typed {
			return -1
		}
		return produced.Load() * int64(o.size)
	}
	req := flow.Request{
		Name:        "region",
		Header:      RegionHeader{Region: "north", Entities: o.entities},
		Compression: comp,
		OnMessage: func(p flow.Packet) {
			var pr Progress
			if p.Decode(&pr) == nil {
				applied.Store(int64(pr.Applied))
			}
		},
	}
	printf(out, "A: streaming %s entities of %d bytes (%s) to B over %s (%s, compression %s)\n",
		ints(int64(o.entities)), o.size, map[bool]string{true: "typed values", false: "raw records"}[o.typed],
		c.over, c.detail, comp)

	// The progress line, four times a second.
	var peak atomic.Uint64
	sampleHeap := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if ms.HeapInuse > peak.Load() {
			peak.Store(ms.HeapInuse)
		}
	}
	base := c.sent()
	start := time.Now()
	stopProgress := make(chan struct{})
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stopProgress:
				return
			case <-t.C:
			}
			sampleHeap()
			if !o.progress {
				continue
			}
			secs := time.Since(start).Seconds()
			_, _, p99 := pings.stats(1)
			printf(out, "\r  %s/%s packets  %s  B applied %s  ping p99 %.2f ms  heap %d MB   ",
				ints(produced.Load()), ints(int64(o.entities)), rates(payload(), produced.Load(), c.sent()-base, secs, "%6.1f"),
				ints(applied.Load()), float64(p99.Microseconds())/1000, peak.Load()>>20)
		}
	}()

	pings.setPhase(1)
	var results iter.Seq2[flow.Packet, error]
	if o.typed {
		results = flow.Call(ctx, c.caller, req, counted(typedRegion(o.entities), &produced))
	} else {
		results = flow.Call(ctx, c.caller, req, counted(region(o.entities, o.size), &produced))
	}
	final, err := flow.Wait(results)
	elapsed := time.Since(start)
	pings.setPhase(2)
	close(stopProgress)
	<-progressDone
	sampleHeap()
	if o.progress {
		printf(out, "\n")
	}
	if err != nil {
		return fmt.Errorf("the region flow failed: %w", err)
	}
	var conf Confirm
	if err := final.Decode(&conf); err != nil {
		return err
	}
	printf(out, "A: %s packets in %.2f s (%s packets/s): %s; A's heap peaked at %d MB\n",
		ints(produced.Load()), elapsed.Seconds(), ints(int64(float64(produced.Load())/elapsed.Seconds())), rates(payload(), produced.Load(), c.sent()-base, elapsed.Seconds(), "%.1f"),
		peak.Load()>>20)
	want := expected(o.entities)
	status := "checksum matches"
	if conf.Checksum != want || conf.Entities != o.entities {
		status = fmt.Sprintf("MISMATCH: want %d entities, checksum %016x", o.entities, want)
	}
	printf(out, "A: B confirmed %s entities installed in its world (%d ms on B): %s\n", ints(int64(conf.Entities)), conf.Millis, status)
	if o.ping > 0 {
		n0, a50, a99 := pings.stats(0)
		n1, b50, b99 := pings.stats(1)
		printf(out, "A: game ping over %s: idle p50 %.2f ms p99 %.2f ms (%d pings); during the flow p50 %.2f ms p99 %.2f ms (%d pings)\n",
			c.pingWay, ms(a50), ms(a99), n0, ms(b50), ms(b99), n1)
	}
	if status != "checksum matches" {
		return fmt.Errorf("the region on B differs from the one A sent")
	}
	return nil
}

// rates is the throughput after secs seconds: the payload's (the bytes the
// game streams, or packets when their size is not known, payload < 0), then
// the wire's (what went to the operating system: compressed, framed),
// labelled apart since with compression they differ many times over. num
// formats a figure in MB.
func rates(payload, packets int64, wire uint64, secs float64, num string) string {
	mb := func(b float64) string { return fmt.Sprintf(num+" MB", b/1e6) }
	var s string
	if payload >= 0 {
		s = fmt.Sprintf("payload %s at %s/s", mb(float64(payload)), mb(float64(payload)/secs))
	} else {
		s = fmt.Sprintf("payload %s packets/s", ints(int64(float64(packets)/secs)))
	}
	return s + fmt.Sprintf(", wire %s at %s/s", mb(float64(wire)), mb(float64(wire)/secs))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// counted counts what seq yields.
func counted[T any](seq iter.Seq[T], n *atomic.Int64) iter.Seq[T] {
	return func(yield func(T) bool) {
		for v := range seq {
			n.Add(1)
			if !yield(v) {
				return
			}
		}
	}
}
