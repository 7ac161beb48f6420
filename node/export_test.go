package node

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
