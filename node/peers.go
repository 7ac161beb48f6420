package node

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	gnet "github.com/gonetic/gonetic/net"
	natsgo "github.com/nats-io/nats.go"
	"github.com/vmihailenco/msgpack/v5"
)

// flagBye in a heartbeat: the node is leaving.
const flagBye = 1

// beatMsg is a heartbeat, on <prefix>.hb.<kind>.<name>.
type beatMsg struct {
	//lint:ignore U1000 msgpack reads its tag: encode as an array
	_msgpack struct{} `msgpack:",as_array"`
	Epoch    uint64
	Seq      uint64
	Flags    uint64
	Hash     []byte
}

// helloData is the hello of a link: who dials.
type helloData struct {
	//lint:ignore U1000 msgpack reads its tag: encode as an array
	_msgpack struct{} `msgpack:",as_array"`
	Name     string
	Kind     string
	Epoch    uint64
}

func encodeHello(h helloData) ([]byte, error) { return msgpack.Marshal(&h) }

// heartbeats publishes the node's heartbeat every Heartbeat and reaps the
// nodes not heard for DeadAfter.
func (n *Node) heartbeats() {
	defer n.wg.Done()
	t := time.NewTicker(n.cfg.Heartbeat)
	defer t.Stop()
	var seq uint64
	for {
		select {
		case <-n.stop:
			return
		case <-t.C:
		}
		seq++
		n.beat(seq, 0)
		n.reap()
	}
}

func (n *Node) beat(seq, flags uint64) {
	if n.ctl == nil {
		return
	}
	b, err := msgpack.Marshal(&beatMsg{Epoch: n.epoch, Seq: seq, Flags: flags, Hash: n.hash[:]})
	if err == nil {
		_ = n.ctl.Publish(n.prefix+".hb."+n.cfg.Kind+"."+n.cfg.Name, b)
	}
}

// onBeat takes a heartbeat, on a NATS goroutine.
func (n *Node) onBeat(m *natsgo.Msg) {
	// <prefix>.hb.<kind>.<name>; the prefix has two tokens.
	tok := strings.Split(m.Subject, ".")
	if len(tok) != 5 {
		return
	}
	kind, name := tok[3], tok[4]
	if checkToken("Name", name) != nil || checkToken("Kind", kind) != nil {
		return // no node could have joined under it
	}
	var b beatMsg
	if msgpack.Unmarshal(m.Data, &b) != nil || b.Epoch == n.epoch {
		return // garbage, or our own
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	select {
	case <-n.stop:
		return
	default:
	}
	if name == n.cfg.Name {
		// Two Joins raced within the claim's wait: both run. Nothing
		// here can end the other; the operator must.
		if !n.warnedOf[name] {
			n.warnedOf[name] = true
			n.cfg.Logger.Error("node: another node runs under this node's name; stop one of them (links to the name will break)",
				"name", name, "epoch", fmt.Sprintf("%x", n.epoch), "theirs", fmt.Sprintf("%x", b.Epoch))
		}
		return
	}
	s := n.seen[name]
	if s != nil && s.epoch != b.Epoch {
		n.endLinks(name, s.epoch, fmt.Sprintf("node %s restarted", name))
		s = nil
	}
	if b.Flags&flagBye != 0 {
		delete(n.seen, name)
		n.endLinks(name, b.Epoch, fmt.Sprintf("node %s left", name))
		return
	}
	if s == nil {
		s = &seen{kind: kind, epoch: b.Epoch}
		n.seen[name] = s
	}
	s.last = time.Now()
	if s.otherRegistry = !bytes.Equal(b.Hash, n.hash[:]); s.otherRegistry {
		if !n.warnedOf[name] {
			n.warnedOf[name] = true
			n.cfg.Logger.Warn("node: not linking to a node with another message registry; register the same types in the same order on every node",
				"node", name, "theirs", fmt.Sprintf("%x", b.Hash), "ours", n.hash.String())
		}
		return
	}
	// One link per pair: the name that sorts first dials.
	if n.cfg.Name < name && (s.dial == nil || s.dial.State() == gnet.Closed) {
		n.dial(name, s)
	}
}

// dial opens the link to a peer; n.mu is held.
func (n *Node) dial(name string, s *seen) {
	var h any
	if n.cfg.NewHandler != nil {
		h = n.newHandler()()
	}
	c, err := n.srv.Connect(n.netT, name+"/net", h, gnet.WithHello(n.hello))
	if err != nil {
		n.cfg.Logger.Warn("node: cannot link", "node", name, "err", err)
		return
	}
	s.dial = c
	n.links[c] = &link{conn: c, peer: Peer{Name: name, Kind: s.kind, Epoch: s.epoch}}
}

// endLinks closes the links to a run (epoch) of a node; n.mu is held.
func (n *Node) endLinks(name string, epoch uint64, reason string) {
	for c, l := range n.links {
		if l.peer.Name == name && l.peer.Epoch == epoch {
			if l.reason == "" {
				l.reason = reason
			}
			c.Disconnect(reason)
		}
	}
}

// reap ends the nodes not heard for DeadAfter.
func (n *Node) reap() {
	now := time.Now()
	n.mu.Lock()
	defer n.mu.Unlock()
	for name, s := range n.seen {
		if now.Sub(s.last) > n.cfg.DeadAfter {
			delete(n.seen, name)
			delete(n.warnedOf, name) // warned again if it comes back
			n.endLinks(name, s.epoch, fmt.Sprintf("node %s stopped answering (no heartbeat for %v)", name, n.cfg.DeadAfter))
		}
	}
}

// approve admits a link another node dialed: its hello names it.
func (n *Node) approve(_ context.Context, h gnet.Hello) (any, error) {
	var d helloData
	if err := msgpack.Unmarshal(h.Data, &d); err != nil {
		return nil, fmt.Errorf("node: a link's hello is not a node's (%v)", err)
	}
	if checkToken("Name", d.Name) != nil || checkToken("Kind", d.Kind) != nil {
		return nil, fmt.Errorf("node: a link's hello names %q of kind %q, not valid node names", d.Name, d.Kind)
	}
	return Peer{Name: d.Name, Kind: d.Kind, Epoch: d.Epoch}, nil
}

// scan runs after each Update: it tracks the links that opened and
// closed, reports them (OnPeer), fails the requests of peers gone, and
// times out Ask's.
func (n *Node) scan() {
	now := time.Now()
	for c := range n.srv.Connections(nil) {
		n.mu.Lock()
		if _, ok := n.links[c]; !ok {
			if p, ok := c.Identity().(Peer); ok {
				n.links[c] = &link{conn: c, peer: p}
			}
		}
		n.mu.Unlock()
	}
	type report struct {
		p      Peer
		joined bool
		reason string
	}
	var reports []report
	var failed []*pending
	n.mu.Lock()
	for c, l := range n.links {
		switch c.State() {
		case gnet.Open:
			if l.joined {
				continue
			}
			l.joined = true
			l.peer.Since = now
			if old := n.open[l.peer.Name]; old != nil && old != l {
				// A newer run of the node, or a second link raced this
				// one: the newest serves.
				old.reason = "replaced by a newer link"
				old.conn.Disconnect(old.reason)
				if old.joined {
					old.joined = false
					reports = append(reports, report{old.peer, false, old.reason})
				}
			}
			n.open[l.peer.Name] = l
			reports = append(reports, report{l.peer, true, ""})
		case gnet.Closed:
			delete(n.links, c)
			if n.open[l.peer.Name] != l {
				continue
			}
			delete(n.open, l.peer.Name)
			reason := l.reason
			if reason == "" {
				reason = fmt.Sprintf("the link to node %s closed: %v", l.peer.Name, c.Err())
			}
			for id, p := range n.pending {
				if p.to == l.peer.Name {
					delete(n.pending, id)
					p.err = fmt.Errorf("%w: %s (%s)", ErrNodeGone, l.peer.Name, reason)
					failed = append(failed, p)
				}
			}
			if l.joined {
				reports = append(reports, report{l.peer, false, reason})
			}
		}
	}
	for id, p := range n.pending {
		if !p.deadline.IsZero() && now.After(p.deadline) {
			delete(n.pending, id)
			p.err = fmt.Errorf("%w: no reply from %s within %v (is its game loop calling Update?)", ErrTimeout, p.to, p.timeout)
			failed = append(failed, p)
		}
	}
	n.mu.Unlock()
	for _, p := range failed {
		p.done(nil)
	}
	if n.cfg.OnPeer != nil {
		for _, r := range reports {
			n.cfg.OnPeer(r.p, r.joined, r.reason)
		}
	}
}

// Peers yields the joined peers of a kind ("" for all), by name. It
// ranges over a copy: the loop body may do anything.
func (n *Node) Peers(kind string) iter.Seq[Peer] {
	n.mu.Lock()
	var ps []Peer
	for _, l := range n.open {
		if kind == "" || l.peer.Kind == kind {
			ps = append(ps, l.peer)
		}
	}
	n.mu.Unlock()
	slices.SortFunc(ps, func(a, b Peer) int { return strings.Compare(a.Name, b.Name) })
	return slices.Values(ps)
}

// Conn is the link to a joined peer, or nil.
func (n *Node) Conn(name string) *gnet.Conn {
	n.mu.Lock()
	defer n.mu.Unlock()
	if l := n.open[name]; l != nil {
		return l.conn
	}
	return nil
}

// noNode is ErrNoNode, saying what this node knows of name.
func (n *Node) noNode(name string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.noNodeLocked(name)
}

// noNodeLocked is noNode with n.mu held.
func (n *Node) noNodeLocked(name string) error {
	if name == n.cfg.Name {
		return fmt.Errorf("%w: %q is this node's own name; a node has no link to itself (handle the message here)", ErrNoNode, name)
	}
	if s := n.seen[name]; s != nil && s.otherRegistry {
		return fmt.Errorf("%w: %q registers other messages than this node, so they are not linked; register the same types in the same order on every node", ErrNoNode, name)
	} else if s != nil {
		return fmt.Errorf("%w: %q is heard (last %v ago) but its link is not open yet; wait for OnPeer", ErrNoNode, name, time.Since(s.last).Round(time.Millisecond))
	}
	return fmt.Errorf("%w: %q is not a live node of cluster %q (see Peers)", ErrNoNode, name, n.cfg.Cluster)
}

// Send sends a registered message to the node named to, on their link.
// It fails with ErrNoNode when no joined node has that name, and as
// gnet.Conn.Send otherwise. Messages to one node arrive in order; a
// message sent just before the link breaks may be lost, and both sides
// are then told (OnPeer).
func (n *Node) Send(to string, msg any) error {
	c := n.Conn(to)
	if c == nil {
		return n.noNode(to)
	}
	return c.Send(msg)
}

// SendKind sends msg to every joined node of kind ("" for all), and
// returns how many it was sent to and the first error.
func (n *Node) SendKind(kind string, msg any) (int, error) {
	sent := 0
	var first error
	for p := range n.Peers(kind) {
		if err := n.Send(p.Name, msg); err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		sent++
	}
	return sent, first
}

// Handler is the embeddable base of a node's handler struct: it adds Peer
// to gnet.Handler.
//
//	type ZoneHandler struct{ node.Handler }
//
//	func (h *ZoneHandler) NetHandoff(m Handoff) { log.Print(h.Peer().Name, " hands over ", m.Player) }
type Handler struct {
	gnet.Handler
	n *Node
}

func (h *Handler) nodeBase() *Handler { return h }

// Peer is the node at the other end of the handler's link.
func (h *Handler) Peer() Peer {
	if h.n == nil {
		return Peer{}
	}
	return h.n.peerOf(h.Conn())
}

// newHandler wraps Config.NewHandler so that its handlers know the node.
func (n *Node) newHandler() func() any {
	if n.cfg.NewHandler == nil {
		return nil
	}
	return func() any {
		h := n.cfg.NewHandler()
		if b, ok := h.(interface{ nodeBase() *Handler }); ok {
			b.nodeBase().n = n
		}
		return h
	}
}

// peerOf is the peer at the other end of c.
func (n *Node) peerOf(c *gnet.Conn) Peer {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.peerOfLocked(c)
}

// peerOfLocked is peerOf with n.mu held.
func (n *Node) peerOfLocked(c *gnet.Conn) Peer {
	if p, ok := c.Identity().(Peer); ok {
		return p // a link the peer dialed: Approve named it
	}
	if l := n.links[c]; l != nil {
		return l.peer
	}
	return Peer{}
}
