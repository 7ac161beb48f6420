package net

import "time"

// ShiftClock moves the clock of end (a *Server or a *Client) by d, as if
// its machine's wall clock were d off: what its pongs carry, and the local
// clock its connections' estimates are against.
func ShiftClock(end interface{ endpoint() *endpoint }, d time.Duration) {
	end.endpoint().wall0.Add(int64(d))
}
