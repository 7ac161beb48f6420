package net

import (
	"errors"

	"github.com/gonetic/gonetic/net/transport"
)

var _ transport.Farewell = (*connSink)(nil)

// Farewell tells the peer, in bye, why the adapter ends the link: a frame
// too large or malformed, or a limit of the adapter's. The adapter then
// closes the link gracefully, so the bye leaves first. Runs on the
// adapter's goroutine (transport.Farewell).
func (s *connSink) Farewell(err error) {
	c := (*Conn)(s)
	reason := farewellReason(err)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != Closing && c.state != Closed {
		c.ep.log.Info("gonetic: disconnecting peer: its adapter ends the link", "conn", c.String(), "reason", reason)
	}
	c.closeLocked(reason)
}

// farewellReason is the bye reason for an adapter's err: "too large: …"
// for a frame over the limit, "bad frame: …" for malformed bytes, the
// adapter's words otherwise, cut as every reason is (an adapter's error
// text may quote the peer's bytes).
func farewellReason(err error) string {
	var reason string
	var fe *transport.FrameError
	switch {
	case errors.As(err, &fe) && fe.TooLarge:
		reason = "too large: " + fe.Reason
	case fe != nil:
		reason = "bad frame: " + fe.Reason
	default:
		reason = err.Error()
	}
	return cutReason(reason)
}
