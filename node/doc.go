// Package node links game servers to each other over NATS: a game server
// joins a cluster under a name (and a kind, such as "zone" or "lobby"),
// sees which other nodes are alive, sends them registered messages, asks
// them requests, and streams flows to them, by name.
//
//	f := gnet.NewFactory()
//	message.MustRegister[Handoff](f)       // the game's node messages, in order
//	node.Register(f)                       // then node's own two
//	n, err := node.Join(ctx, node.Config{Name: "zone-1", Kind: "zone", Factory: f,
//		NewHandler: func() any { return &ZoneHandler{} }})
//	if err != nil { ... }
//	defer n.Close()
//	for running {
//		n.Update(frame)                        // handlers, OnPeer, Ask callbacks run here
//		n.Send("zone-2", &Handoff{Player: p})  // by name
//	}
//
// # One model with client connections
//
// Each other node is a *gnet.Conn: a link made by package net over the
// NATS adapter (adapters/nats), with net's handshake (the registry hash is
// checked), pings, handler structs, On, Update and events. A node's
// handler embeds node.Handler, which adds Peer to gnet.Handler. The node's
// gnet.Server (Server) is its own: a game's player server and its node
// are two servers, updated one after the other in the game loop.
//
// Exactly one link joins two nodes: the node whose name sorts first dials
// it when it first hears the other's heartbeat, the other accepts it, and
// both send on it. A peer is joined (OnPeer, Peers) once its link is
// open, and gone once it closed, whatever closed it.
//
// # NATS underneath
//
// With Config.URLs empty, Join starts a nats-server inside the process,
// on loopback (EmbedConfig), and reaches it in memory rather than over
// TCP (natsgo.InProcessServer): one machine needs nothing else, and several
// processes on one machine find each other through EmbedConfig.Seed. With
// URLs, the node connects to an existing NATS cluster instead and starts
// nothing; game code is the same. The subjects are listed in
// docs/NODES.md; `nats sub 'gonetic.>'` shows every one.
//
// # Liveness
//
// Every node publishes a heartbeat every Config.Heartbeat (250 ms). A node
// not heard for Config.DeadAfter (1.5 s) is gone: its link is closed with
// a reason that says so, its flows end with an error once their link heard
// nothing for Config.Net.Timeout (2.5 s), its pending requests
// fail with ErrNodeGone and sends to it fail with ErrNoNode. A node that
// closes says so in a last heartbeat, and is gone at once. NATS
// reconnects to another server of its cluster on its own (in a few ms
// when a server stops): a node that only changed servers is never
// reported gone for want of heartbeats, but a link of it that lost frames
// in the failover (a busy one, usually) breaks and is reported gone at
// both ends, and joins again at the next heartbeat (see Guarantees).
//
// # Guarantees
//
// Core NATS delivers at most once. On top of it, each link numbers its
// frames: a message is delivered once and in order, or the link breaks
// and both sides are told (OnDisconnect, OnPeer). A link that lost
// frames (a NATS server stopped with them in flight) is closed and
// dialed again at the next heartbeat; what was lost is not resent. A
// flow ends at both ends, with success or an error, within a bounded time
// of a failure; it never hangs.
package node
