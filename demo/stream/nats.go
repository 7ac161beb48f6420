package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/gonetic/gonetic/message"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/node"
)

// With -carrier nats, A and B are nodes of one cluster: these names, this
// kind.
const (
	nodeA    = "stream-a"
	nodeB    = "stream-b"
	nodeKind = "stream"
)

// joinTimeout bounds a node's Join (its embedded server's start, its NATS
// connections).
const joinTimeout = 10 * time.Second

// peerTimeout bounds A's wait for B's node: generous, B may be started by
// hand after A. A variable for tests.
var peerTimeout = 30 * time.Second

// nodeFactory is the registry of the nodes' links: the game's messages,
// then node's own. The flow frames are not on it: node's flows have their
// own links.
func nodeFactory() *message.Factory {
	f := gnet.NewFactory()
	message.MustRegister[Ping](f)
	if err := node.Register(f); err != nil {
		panic(err)
	}
	return f
}

// joinNode joins the cluster as name, on -nats or on an embedded server
// clustered through node.LocalSeed.
func joinNode(ctx context.Context, o options, name string, onPeer func(node.Peer, bool, string)) (*node.Node, error) {
	cfg := node.Config{
		Name: name, Kind: nodeKind, Cluster: o.cluster, Factory: nodeFactory(),
		OnPeer: onPeer, Flow: o.flowCfg,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	if o.nats != "" {
		cfg.URLs = strings.Split(o.nats, ",")
	} else {
		cfg.Embed = node.EmbedConfig{Seed: node.LocalSeed}
	}
	jctx, cancel := context.WithTimeout(ctx, joinTimeout)
	defer cancel()
	n, err := node.Join(jctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("join as node %s: %w", name, err)
	}
	return n, nil
}

// natsDetail says which NATS a node is on, for the output.
func natsDetail(n *node.Node) string {
	if u := n.ClientURL(); u != "" {
		return "embedded nats-server " + u + ", clustered through " + node.LocalSeed
	}
	return "NATS at " + n.NATS().ConnectedUrlRedacted()
}

// joinB joins the cluster as node A, waits for node B to join, and
// returns B's flow client and their link as the carrier.
func joinB(ctx context.Context, o options, out io.Writer, pings *pinger) (_ *carrier, err error) {
	c := &carrier{over: "NATS", pingWay: "the node link"}
	defer func() {
		if err != nil {
			c.close()
		}
	}()
	joined := make(chan struct{}, 1)
	n, err := joinNode(ctx, o, nodeA, func(p node.Peer, ok bool, _ string) {
		if ok && p.Name == nodeB {
			select {
			case joined <- struct{}{}:
			default:
			}
		}
	})
	if err != nil {
		return nil, err
	}
	c.closers = append(c.closers, func() { n.Close() })
	if err := gnet.On(n.Server(), func(_ *gnet.Conn, m Ping) { pings.record(m) }); err != nil {
		return nil, err
	}

	// A's game loop, on its own goroutine: OnPeer and the pings' echoes
	// run here.
	c.loop(n.Update)

	c.detail = fmt.Sprintf("node %s to %s, %s", nodeA, nodeB, natsDetail(n))
	printf(out, "A: node %s joined (%s); waiting for node %s\n", nodeA, natsDetail(n), nodeB)
	select {
	case <-joined:
	case <-time.After(peerTimeout):
		return nil, fmt.Errorf("node %s did not join within %v: start B (-role b -carrier nats) with the same -nats and -cluster", nodeB, peerTimeout)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	fc, err := n.FlowTo(ctx, nodeB)
	if err != nil {
		return nil, err
	}
	c.caller = fc
	c.sent = func() uint64 { return fc.Stats().BytesSent }
	c.ping = func(p *Ping) error { return n.Send(nodeB, p) }
	return c, nil
}

// runBNode is server B as a node: its flow server takes regions, its game
// loop (the node's Update) echoes pings and installs regions.
func runBNode(ctx context.Context, o options, out io.Writer) error {
	n, err := joinNode(ctx, o, nodeB, nil)
	if err != nil {
		return err
	}
	defer n.Close()
	if err := gnet.On(n.Server(), func(c *gnet.Conn, p Ping) { _ = c.Send(&p) }); err != nil {
		return err
	}
	installs := make(chan install)
	served := make(chan struct{}, 1)
	if err := n.Flows().HandleFunc("region", regionHandler(o, out, installs, served, "NATS")); err != nil {
		return err
	}
	printf(out, "node %s joined (%s); waiting for regions\n", nodeB, natsDetail(n))
	printf(out, "READY game=%s flow=%s\n", nodeB, nodeB)

	// The game loop, as runB's. Stopping lets running flows end first.
	w := &world{entities: make(map[string][]Entity)}
	var stopped chan struct{}
	for {
		select {
		case <-ctx.Done():
			return n.Close() // running flows end with an error at A
		case in := <-installs:
			w.entities["north"] = in.entities
			w.size = len(in.entities)
			in.done <- w.size
		case <-served:
			if o.once && stopped == nil {
				stopped = make(chan struct{})
				go func() {
					defer close(stopped)
					sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					defer cancel()
					_ = n.Flows().Shutdown(sctx)
				}()
			}
		case <-stopped:
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return n.Shutdown(sctx)
		default:
		}
		if err := n.Update(5 * time.Millisecond); err != nil {
			return err
		}
	}
}
