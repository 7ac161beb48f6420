package node

import (
	"context"
	"fmt"

	"github.com/gonetic/gonetic/adapters/flow"
)

// FlowTo returns the flow client of the joined node named name, for
// flow.Call: the flows to one node share one link, dialed on first use
// and kept until the node is gone. It fails with ErrNoNode when no
// joined node has that name; ctx bounds the dial.
//
//	fc, err := n.FlowTo(ctx, "zone-2")
//	for p, err := range flow.Call(ctx, fc, flow.Request{Name: "region", Header: h}, entities) { ... }
func (n *Node) FlowTo(ctx context.Context, name string) (*flow.Client, error) {
	if n.Conn(name) == nil {
		return nil, n.noNode(name)
	}
	n.mu.Lock()
	fc := n.fcli[name]
	n.mu.Unlock()
	if fc != nil && fc.Err() == nil {
		return fc, nil
	}
	fc, err := flow.Dial(ctx, name+"/flow", flow.ClientConfig{Config: n.cfg.Flow, Transport: n.flowT})
	if err != nil {
		return nil, fmt.Errorf("node: flows to %s: %w", name, err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.open[name] == nil {
		go fc.Close()
		return nil, n.noNodeLocked(name)
	}
	if old := n.fcli[name]; old != nil && old != fc {
		if old.Err() == nil {
			go fc.Close() // another goroutine dialed first
			return old, nil
		}
		go old.Close()
	}
	n.fcli[name] = fc
	return fc, nil
}
