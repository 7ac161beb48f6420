package node

import "time"

// Kill ends n as a crash would: its NATS connections stop first, so no
// bye and no link's close reaches the others.
func Kill(n *Node) {
	n.closeOnce.Do(func() {
		n.ctl.Close()
		n.bulk.Close()
		n.teardown()
	})
}

// FlowWindow is the window n's flows use.
func FlowWindow(n *Node) int { return n.cfg.Flow.Window }

// SetRouteTimeout bounds an embedded server's wait for its route to a
// Seed, for a test of a seed no NATS holds.
func SetRouteTimeout(d time.Duration) func() {
	old := routeTimeout
	routeTimeout = d
	return func() { routeTimeout = old }
}

// Heard is how many nodes n keeps something of from their heartbeats.
func Heard(n *Node) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.seen) + len(n.warnedOf)
}
