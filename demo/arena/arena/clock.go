package arena

import (
	"time"

	gnet "github.com/gonetic/gonetic/net"
)

// serverTime and clock stand in for Conn.ServerTime and Conn.Clock until
// they land on main (issue 18).
func serverTime(c *gnet.Conn) time.Time { return time.Now() }

// Clock is Conn.Clock's estimate.
type Clock struct {
	Offset, RTT, Uncertainty time.Duration
	Samples                  int
}

func clock(c *gnet.Conn) Clock {
	st := c.Stats()
	return Clock{RTT: st.RTT, Uncertainty: st.RTT / 2}
}
