package net

import (
	"time"

	"github.com/gonetic/gonetic/message"
)

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

// SealedTestConn is an open client connection over a link that drops what
// it is sent, sealed when sealed: Send's own cost.
func SealedTestConn(f *message.Factory, sealed bool) *Conn {
	e, err := newEndpoint(Config{Factory: f})
	if err != nil {
		panic(err)
	}
	c := e.newConn("null", Open, true)
	c.link = discardLink{}
	if sealed {
		c.tx, _ = newSession(make([]byte, 32), make([]byte, 32), e.tcfg.Channels, e.tcfg.MaxPayload, false)
	}
	return c
}
