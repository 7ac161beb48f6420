package net

import (
	"math"
	"time"
)

// Clock is a client connection's estimate of the server's clock, from the
// clock that every pong of a gonetic server carries (docs/PROTOCOL.md).
// Each pong is a sample, taken as NTP takes one: the ping left at t0 and
// its pong arrived at t3, both on the local clock, and the server read ts
// between the two, so ts − (t0+t3)/2 is the offset, off by at most half the
// round trip t3 − t0 whatever the delays of each way. The estimate is the
// sample of the smallest round trip among the last 8, the one that
// asymmetric delay can have misled least: best of recent, not an average,
// so that one slow round trip does not move it.
//
// The local clock here is the endpoint's: the wall clock read once when
// NewClient or Listen ran, plus the monotonic time since. It never jumps,
// and differs from time.Now by the steps the wall clock took since.
type Clock struct {
	// Offset is what to add to the local clock to get the server's. 0 on a
	// connection a server accepted, and on a dialed one (a client's, or a
	// server's from Server.Connect) before the first sample.
	Offset time.Duration
	// RTT is the round trip of the sample Offset comes from: the smallest
	// of the last 8. Stats().RTT is the smoothed one of every ping.
	RTT time.Duration
	// Uncertainty bounds Offset's error: half of RTT, which is how far
	// the two ways of the round trip taking different times can move the
	// estimate. The true offset lies in Offset ± Uncertainty, unless the
	// server's clock drifted since the sample was taken.
	Uncertainty time.Duration
	// Samples is how many pongs with a clock the connection received so
	// far: one per Config.PingInterval, plus the one of the ping sent with
	// the handshake. 0 on a connection a server accepted, and while no
	// pong came (a peer whose pongs carry no clock, or pings turned off).
	Samples int
}

// clockSamples is how many recent samples the estimate picks from: at one
// ping a second, the last 8 s.
const clockSamples = 8

// clockSample is one pong's offset and round trip.
type clockSample struct {
	offset, rtt time.Duration
}

// now is the endpoint's clock in nanoseconds since the Unix epoch: the
// wall clock read once at its start plus the monotonic time since, so
// that it never jumps. Pongs carry it; a client's estimate is against it.
func (e *endpoint) now() int64 {
	return e.wall0.Load() + int64(time.Since(e.epoch))
}

// ServerTime is the server's clock: on a connection a server accepted, the
// server's own clock; on a dialed one (a client's, or a server's from
// Server.Connect), the remote server's as estimated now (the local clock
// plus Clock().Offset). It may be called from any goroutine.
//
// On a dialed connection it never goes backwards: when a new estimate
// moves the server's clock back, ServerTime stands still until it catches
// up. Before the first sample (pings off, or a server whose pongs carry no
// clock) it is the local clock, and the first sample may move it either
// way. A gonetic client sends a ping with its handshake, so the first
// sample is in by the time OnConnect runs, unless Config.PingInterval
// turns pings off. See Clock for how good the estimate is.
func (c *Conn) ServerTime() time.Time {
	now := c.ep.now()
	if c.accepted() {
		return time.Unix(0, now)
	}
	c.clockMu.Lock()
	defer c.clockMu.Unlock()
	if c.clock.Samples == 0 {
		return time.Unix(0, now)
	}
	t := now + int64(c.clock.Offset)
	if t < c.lastTime {
		t = c.lastTime
	}
	c.lastTime = t
	return time.Unix(0, t)
}

// Clock is the estimate ServerTime uses, with how good it is; the zero
// Clock on a connection a server accepted. It may be called from any goroutine.
func (c *Conn) Clock() Clock {
	c.clockMu.Lock()
	defer c.clockMu.Unlock()
	return c.clock
}

// clockSample takes one pong's sample: the ping's stamp, the time since
// the endpoint's start at which the pong arrived, the server's clock it
// carried. An accepted connection keeps none: its server's clock is the
// reference.
func (c *Conn) clockSample(stamp uint64, arrived time.Duration, clock uint64) {
	if c.accepted() || clock > math.MaxInt64 {
		return
	}
	rtt := arrived - time.Duration(stamp)
	// ts − (t0+t3)/2, with t0 = wall0+stamp and t3 = wall0+arrived.
	mid := c.ep.wall0.Load() + int64(stamp) + int64(rtt/2)
	s := clockSample{offset: time.Duration(int64(clock) - mid), rtt: rtt}
	c.clockMu.Lock()
	defer c.clockMu.Unlock()
	c.samples[c.clock.Samples%clockSamples] = s
	c.clock.Samples++
	best := s
	for _, o := range c.samples[:min(c.clock.Samples, clockSamples)] {
		if o.rtt < best.rtt {
			best = o
		}
	}
	c.clock.Offset, c.clock.RTT, c.clock.Uncertainty = best.offset, best.rtt, best.rtt/2
}
