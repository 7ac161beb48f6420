package net

import (
	"testing"
	"time"

	"github.com/gonetic/gonetic/net/transport"
)

// clockConn is a client's connection with no link, for feeding samples by
// hand.
func clockConn() *Conn {
	e := &endpoint{epoch: time.Now()}
	e.wall0.Store(e.epoch.UnixNano())
	return &Conn{ep: e, dialed: true} // a client's
}

// sample feeds c a pong whose ping left now on c's clock, with round trip
// rtt and the server's clock offset ahead at mid-trip.
func sample(c *Conn, offset, rtt time.Duration) {
	stamp := uint64(time.Since(c.ep.epoch))
	arrived := time.Duration(stamp) + rtt
	clock := c.ep.wall0.Load() + int64(stamp) + int64(rtt/2) + int64(offset)
	c.clockSample(stamp, arrived, uint64(clock))
}

// TestClockBestOfRecent: the estimate is the sample of the smallest round
// trip among the last 8, with half its RTT as uncertainty, not an average;
// a ninth sample pushes the first out.
func TestClockBestOfRecent(t *testing.T) {
	c := clockConn()
	sample(c, 7*time.Millisecond, 30*time.Millisecond)
	sample(c, time.Millisecond, 2*time.Millisecond) // the best
	sample(c, 40*time.Millisecond, 90*time.Millisecond)
	want := Clock{Offset: time.Millisecond, RTT: 2 * time.Millisecond, Uncertainty: time.Millisecond, Samples: 3}
	if got := c.Clock(); got != want {
		t.Fatalf("Clock %+v, want %+v", got, want)
	}
	for range 6 { // 8 samples in all: the best is still among them
		sample(c, 5*time.Millisecond, 10*time.Millisecond)
	}
	if got := c.Clock(); got.Offset != time.Millisecond || got.Samples != 9 {
		t.Fatalf("with the best sample among the last 8: %+v", got)
	}
	sample(c, 5*time.Millisecond, 10*time.Millisecond) // the best leaves the window
	want = Clock{Offset: 5 * time.Millisecond, RTT: 10 * time.Millisecond, Uncertainty: 5 * time.Millisecond, Samples: 10}
	if got := c.Clock(); got != want {
		t.Fatalf("once the best sample left the window: %+v, want %+v", got, want)
	}
}

// TestServerTimeStandsStill: before any sample ServerTime is the local
// clock; when the estimate moves the server's clock back, ServerTime
// stands still until the clock catches up, then moves on.
func TestServerTimeStandsStill(t *testing.T) {
	c := clockConn()
	if d := c.ServerTime().Sub(time.Unix(0, c.ep.now())); d.Abs() > time.Second {
		t.Fatalf("before any sample, ServerTime is %v from the local clock", d)
	}
	// The first sample may move it back: the local clock was no estimate.
	sample(c, -time.Hour, 20*time.Millisecond)
	if d := c.ServerTime().Sub(time.Unix(0, c.ep.now())) + time.Hour; d.Abs() > time.Second {
		t.Fatalf("after a first sample an hour back, ServerTime is %v off", d)
	}
	for range clockSamples { // push the hour back out of the window
		sample(c, time.Hour, 20*time.Millisecond)
	}
	ahead := c.ServerTime()
	if d := ahead.Sub(time.Unix(0, c.ep.now())) - time.Hour; d.Abs() > time.Second {
		t.Fatalf("ServerTime is %v off the local clock plus the offset", d)
	}
	sample(c, 0, time.Millisecond) // a better sample, an hour back
	if got := c.Clock().Offset; got != 0 {
		t.Fatalf("offset %v after a better sample, want 0", got)
	}
	for range 3 {
		if got := c.ServerTime(); !got.Equal(ahead) {
			t.Fatalf("ServerTime moved to %v after the estimate moved back; want it to stand at %v", got, ahead)
		}
	}
	c.ep.wall0.Add(int64(time.Hour + time.Second)) // the local clock catches up
	if got := c.ServerTime(); !got.After(ahead) {
		t.Fatalf("ServerTime %v did not move on once the clock caught up with %v", got, ahead)
	}
}

// TestServerClockIsReference: a server's connection keeps no sample from
// its clients' pongs, and its ServerTime is its own clock.
func TestServerClockIsReference(t *testing.T) {
	c := clockConn()
	c.dialed = false // accepted: a server's
	sample(c, time.Hour, time.Millisecond)
	if got := c.Clock(); got != (Clock{}) {
		t.Fatalf("a server's connection took a sample: %+v", got)
	}
	if d := c.ServerTime().Sub(time.Unix(0, c.ep.now())); d.Abs() > time.Second {
		t.Fatalf("a server's ServerTime is %v from its clock", d)
	}
}

// TestPingPongAllocs: the network goroutine answers a ping with its clock,
// and takes a pong's sample, without allocating.
func TestPingPongAllocs(t *testing.T) {
	srv := clockConn()
	srv.dialed = false
	srv.state, srv.link = Open, discardLink{}
	ping := appendControl(ctlCodec.NewWriter(), nil, control{kind: ctlPing, stamp: 1 << 40})
	srv.pingPong(ctlPing, ping) // the first makes the reader and writer
	if n := testing.AllocsPerRun(100, func() { srv.pingPong(ctlPing, ping) }); n != 0 {
		t.Errorf("answering a ping allocates %v times", n)
	}
	cli := clockConn()
	cli.state, cli.link = Open, discardLink{}
	pong := appendControl(ctlCodec.NewWriter(), nil, control{kind: ctlPong, stamp: 1, clock: 1 << 60})
	cli.pingPong(ctlPong, pong)
	if n := testing.AllocsPerRun(100, func() { cli.pingPong(ctlPong, pong) }); n != 0 {
		t.Errorf("taking a pong allocates %v times", n)
	}
	if cli.Clock().Samples == 0 {
		t.Fatal("the pong gave no sample")
	}
}

// discardLink is a link that sends nowhere.
type discardLink struct{}

func (discardLink) Send(uint8, transport.Delivery, []byte) error { return nil }
func (discardLink) Flush()                                       {}
func (discardLink) Close()                                       {}
func (discardLink) Abort()                                       {}
func (discardLink) RemoteAddr() string                           { return "nowhere" }
func (discardLink) Stats() transport.Stats                       { return transport.Stats{} }
