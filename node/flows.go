package node

import (
	"context"
	"fmt"

	"github.com/gonetic/gonetic/adapters/flow"
)

// flowClient is the flow client of one run (epoch) of a peer.
type flowClient struct {
	c     *flow.Client
	epoch uint64
}

// FlowTo returns the flow client of the joined node named name, for
// flow.Call: the flows to one node share one link, dialed on first use
// and kept while it serves. It fails with ErrNoNode when no joined node
// has that name; ctx bounds the dial.
//
// Flows do not end with the peer's message link: a flow in progress when
// the peer leaves with Shutdown completes, and one whose peer dies ends
// with flow.ErrConnLost when its link hears nothing for
// Config.Net.Timeout.
//
//	fc, err := n.FlowTo(ctx, "zone-2")
//	for p, err := range flow.Call(ctx, fc, flow.Request{Name: "region", Header: h}, entities) { ... }
func (n *Node) FlowTo(ctx context.Context, name string) (*flow.Client, error) {
	n.mu.Lock()
	l := n.open[name]
	if l == nil {
		defer n.mu.Unlock()
		return nil, n.noNodeLocked(name)
	}
	epoch := l.peer.Epoch
	cur := n.fcli[name]
	n.mu.Unlock()
	if cur != nil && cur.epoch == epoch && cur.c.Err() == nil {
		return cur.c, nil
	}
	c, err := flow.Dial(ctx, name+"/flow", flow.ClientConfig{Config: n.cfg.Flow, Transport: n.flowT})
	if err != nil {
		return nil, fmt.Errorf("node: flows to %s: %w", name, err)
	}
	n.mu.Lock()
	if n.closing {
		n.mu.Unlock()
		c.Close()
		return nil, ErrClosed
	}
	old := n.fcli[name]
	if old != nil && old != cur && old.epoch == epoch && old.c.Err() == nil {
		n.mu.Unlock()
		c.Close() // another goroutine dialed first
		return old.c, nil
	}
	n.fcli[name] = &flowClient{c: c, epoch: epoch}
	n.mu.Unlock()
	if old != nil {
		old.c.Close() // ended, or to a former run of the node
	}
	return c, nil
}
