package net

import "time"

// ShiftClock moves the clock of end (a *Server or a *Client) by d, as if
// its machine's wall clock were d off: what its pongs carry, and the local
// clock its connections' estimates are against.
func ShiftClock(end interface{ endpoint() *endpoint }, d time.Duration) {
	end.endpoint().wall0.Add(int64(d))
}

// LocalClock is end's clock (endpoint.now), ns since the Unix epoch.
func LocalClock(end interface{ endpoint() *endpoint }) int64 {
	return end.endpoint().now()
}

// LastSample is the offset and round trip of c's latest clock sample, the
// raw one the estimate picks from.
func LastSample(c *Conn) (offset, rtt time.Duration) {
	c.clockMu.Lock()
	defer c.clockMu.Unlock()
	if c.clock.Samples == 0 {
		return 0, 0
	}
	s := c.samples[(c.clock.Samples-1)%clockSamples]
	return s.offset, s.rtt
}
