package node

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"sync"
	"time"

	"github.com/gonetic/gonetic/adapters/flow"
	natsad "github.com/gonetic/gonetic/adapters/nats"
	"github.com/gonetic/gonetic/message"
	gnet "github.com/gonetic/gonetic/net"
	server "github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"
)

// Errors of the node layer; match them with errors.Is.
var (
	// ErrNameTaken: Join found a live node answering to Config.Name.
	ErrNameTaken = errors.New("node: the name is taken by a live node of the cluster; choose another, or stop that node first")
	// ErrNoNode: no joined node has that name (it never joined, is gone,
	// or its link is not open yet: wait for OnPeer).
	ErrNoNode = errors.New("node: no such node")
	// ErrNodeGone: the node left or stopped answering before it replied.
	ErrNodeGone = errors.New("node: the node is gone")
	// ErrTimeout: no reply within the request's time.
	ErrTimeout = errors.New("node: request timed out")
	// ErrClosed: the node is closed.
	ErrClosed = errors.New("node: closed")
)

// Peer is another node of the cluster, as this node knows it.
type Peer struct {
	Name, Kind string
	// Epoch tells one run of a node from the next under the same name.
	Epoch uint64
	// Since is when its link opened.
	Since time.Time
}

// Node is this process's place in a cluster of game servers: its NATS
// connections, its links to the other nodes, and its flow server.
//
// Update is for one goroutine, the game loop's (as a gnet.Server's), and
// so are Server().Poll and gnet.On; handlers, OnPeer and Ask callbacks run
// there, inside Update. Every other method may be called from any
// goroutine.
type Node struct {
	cfg    Config
	prefix string // "gonetic.<cluster>"
	epoch  uint64
	hash   message.Hash
	hello  []byte // [name, kind, epoch], the hello data of links we dial

	ns        *server.Server // the embedded server, or nil
	ctl, bulk *natsgo.Conn   // heartbeats and links; flows
	netT      *natsad.Transport
	flowT     *natsad.Transport
	srv       *gnet.Server
	flows     *flow.Server
	subs      []*natsgo.Subscription

	stop      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
	closed    chan struct{}

	mu       sync.Mutex
	seen     map[string]*seen        // nodes heard, by name
	links    map[*gnet.Conn]*link    // links until their end is reported
	open     map[string]*link        // joined peers' links, by name
	fcli     map[string]*flowClient  // flow clients, by peer name
	closing  bool                    // teardown began: no more flow clients
	pending  map[uint64]*pending     // requests awaiting replies
	answers  map[reflect.Type]answer // Answer's functions, by request type
	nextID   uint64
	warnedOf map[string]bool // peers with another registry, warned of once
}

// seen is what the heartbeats tell of one node.
type seen struct {
	kind  string
	epoch uint64
	last  time.Time
	dial  *gnet.Conn // the link this node dialed to it, if any
	// otherRegistry: its registry hash is not ours; it is not linked.
	otherRegistry bool
}

// link is one link to a peer.
type link struct {
	conn   *gnet.Conn
	peer   Peer
	joined bool   // OnPeer(joined) was reported
	reason string // why this node ended it, when it did
}

// Join starts or joins the NATS underneath (Config.URLs), claims the
// name, and starts the heartbeats. Peers appear as their links open,
// through Update. ctx bounds the start.
func Join(ctx context.Context, cfg Config) (*Node, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	n := &Node{
		cfg: cfg, prefix: "gonetic." + cfg.Cluster, epoch: newEpoch(),
		hash: cfg.Factory.Hash(), stop: make(chan struct{}), closed: make(chan struct{}),
		seen: make(map[string]*seen), links: make(map[*gnet.Conn]*link), open: make(map[string]*link),
		fcli: make(map[string]*flowClient), pending: make(map[uint64]*pending),
		answers: make(map[reflect.Type]answer), warnedOf: make(map[string]bool),
	}
	n.hello, err = encodeHello(helloData{Name: cfg.Name, Kind: cfg.Kind, Epoch: n.epoch})
	if err != nil {
		return nil, err
	}
	if err := n.start(ctx); err != nil {
		n.teardown()
		return nil, err
	}
	return n, nil
}

func (n *Node) start(ctx context.Context) error {
	cfg := n.cfg
	urls := cfg.URLs
	if len(urls) == 0 {
		ns, err := startEmbedded(cfg.Name+"-"+strconv.FormatUint(n.epoch, 36), cfg.Embed)
		if err != nil {
			return err
		}
		n.ns = ns
		urls = []string{ns.ClientURL()}
	}
	var err error
	if n.ctl, err = n.connect(ctx, urls, "ctl"); err != nil {
		return err
	}
	if n.bulk, err = n.connect(ctx, urls, "bulk"); err != nil {
		return err
	}
	if err := n.claim(ctx); err != nil {
		return err
	}
	id := cfg.Name + "-" + strconv.FormatUint(n.epoch, 36)
	// A link outlives what the node outlives: silence ends it with the
	// link's own timeout, the node's reap ends it at DeadAfter.
	peerTimeout := cfg.Net.Timeout
	if n.netT, err = natsad.New(natsad.Options{Conn: n.ctl, Prefix: n.prefix, ID: id + "-n", PeerTimeout: peerTimeout, PendingBytes: linkPending}); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	if n.flowT, err = natsad.New(natsad.Options{Conn: n.bulk, Prefix: n.prefix, ID: id + "-f", PeerTimeout: peerTimeout}); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	ncfg := cfg.Net
	ncfg.Factory, ncfg.Transport = cfg.Factory, n.netT
	n.srv, err = gnet.Listen(gnet.ServerConfig{
		Config: ncfg, Addr: cfg.Name + "/net", NewHandler: n.newHandler(),
		Approve: n.approve, MaxConns: MaxPeers,
	})
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	if err := gnet.On(n.srv, n.onReq); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	if err := gnet.On(n.srv, n.onRep); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	n.flows, err = flow.Listen(flow.ServerConfig{Config: cfg.Flow, Transport: n.flowT, Addr: cfg.Name + "/flow"})
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	sub, err := n.ctl.Subscribe(n.prefix+".hb.*.*", n.onBeat)
	if err != nil {
		return fmt.Errorf("node: subscribe to heartbeats: %w", err)
	}
	n.subs = append(n.subs, sub)
	n.beat(0, 0)
	n.wg.Add(1)
	go n.heartbeats()
	cfg.Logger.Info("node: joined", "name", cfg.Name, "kind", cfg.Kind, "cluster", cfg.Cluster, "nats", n.ctl.ConnectedUrlRedacted())
	return nil
}

// connect opens one of the node's NATS connections. It reconnects for
// ever, quickly: a stopped server closes its sockets, so another server
// of the cluster takes over well within DeadAfter.
func (n *Node) connect(ctx context.Context, urls []string, role string) (*natsgo.Conn, error) {
	opts := []natsgo.Option{
		natsgo.Name("gonetic " + n.cfg.Name + " " + role),
		natsgo.MaxReconnects(-1),
		natsgo.ReconnectWait(50 * time.Millisecond),
		natsgo.ReconnectJitter(0, 0),
		natsgo.PingInterval(time.Second),
		natsgo.MaxPingsOutstanding(2),
		natsgo.ReconnectBufSize(8 << 20),
		natsgo.DisconnectErrHandler(func(c *natsgo.Conn, err error) {
			if c.IsClosed() {
				return // Close, this node's own: no trouble
			}
			n.cfg.Logger.Warn("node: NATS disconnected", "role", role, "err", err)
		}),
		natsgo.ReconnectHandler(func(c *natsgo.Conn) {
			n.cfg.Logger.Info("node: NATS reconnected", "role", role, "url", c.ConnectedUrlRedacted())
		}),
		// Without it nats.go writes asynchronous errors (a slow consumer,
		// a permissions violation, a write to a server that stopped) to
		// the process's stderr.
		natsgo.ErrorHandler(func(_ *natsgo.Conn, sub *natsgo.Subscription, err error) {
			if sub != nil {
				n.cfg.Logger.Warn("node: NATS error", "role", role, "subject", sub.Subject, "err", err)
				return
			}
			n.cfg.Logger.Warn("node: NATS error", "role", role, "err", err)
		}),
	}
	if dl, ok := ctx.Deadline(); ok {
		opts = append(opts, natsgo.Timeout(time.Until(dl)))
	}
	if n.ns != nil {
		// The embedded server is in this process: reach it through memory,
		// not loopback TCP, which costs system calls and scheduling.
		opts = append(opts, natsgo.InProcessServer(n.ns))
	}
	opts = append(opts, n.cfg.NATSOptions...)
	url := urls[0]
	for _, u := range urls[1:] {
		url += "," + u
	}
	c, err := natsgo.Connect(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("node: connect to NATS at %s: %w", url, err)
	}
	return c, nil
}

// claim fails with ErrNameTaken if a live node answers to the name, then
// answers for it.
func (n *Node) claim(ctx context.Context) error {
	subj := n.prefix + ".who." + n.cfg.Name
	ctx, cancel := context.WithTimeout(ctx, whoTimeout)
	defer cancel()
	msg, err := n.ctl.RequestWithContext(ctx, subj, nil)
	switch {
	case err == nil:
		var epoch uint64
		if len(msg.Data) == 8 {
			epoch = binary.BigEndian.Uint64(msg.Data)
		}
		return fmt.Errorf("%w (%q in cluster %q, epoch %x)", ErrNameTaken, n.cfg.Name, n.cfg.Cluster, epoch)
	case errors.Is(err, natsgo.ErrNoResponders), errors.Is(err, context.DeadlineExceeded):
	default:
		return fmt.Errorf("node: ask NATS whether %q is taken: %w", n.cfg.Name, err)
	}
	sub, err := n.ctl.Subscribe(subj, func(m *natsgo.Msg) {
		_ = m.Respond(binary.BigEndian.AppendUint64(nil, n.epoch))
	})
	if err != nil {
		return fmt.Errorf("node: subscribe to %s: %w", subj, err)
	}
	n.subs = append(n.subs, sub)
	return nil
}

// whoTimeout bounds Join's question whether the name is taken.
const whoTimeout = 200 * time.Millisecond

func newEpoch() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:]) | 1 // never 0
}

// Name is the node's name.
func (n *Node) Name() string { return n.cfg.Name }

// Kind is the node's kind.
func (n *Node) Kind() string { return n.cfg.Kind }

// Server is the node's gnet.Server: its links to the other nodes are its
// connections (gnet.On, Connections, SendTo and Poll work on it). Player
// connections never reach it.
func (n *Node) Server() *gnet.Server { return n.srv }

// Flows is the node's flow server: register flow handlers on it (Handle,
// HandleFunc) before other nodes call them. Flows run on goroutines of
// their own, never waiting for Update.
func (n *Node) Flows() *flow.Server { return n.flows }

// NATS is the connection of the node's heartbeats and links, for
// programs that publish on NATS themselves.
func (n *Node) NATS() *natsgo.Conn { return n.ctl }

// ClientURL is the URL of the embedded nats-server ("nats://host:port"),
// for `nats sub`, or "" when the node connected to Config.URLs.
func (n *Node) ClientURL() string {
	if n.ns == nil {
		return ""
	}
	return n.ns.ClientURL()
}

// Update runs the node's gnet.Server Update (see gnet.Server.Update:
// handlers run now, on the calling goroutine), then reports peers that
// joined or are gone (Config.OnPeer) and requests that failed or timed
// out (Ask). Call it every frame.
func (n *Node) Update(timeout time.Duration) error {
	err := n.srv.Update(timeout)
	n.scan()
	if err != nil && errors.Is(err, gnet.ErrClosed) {
		return ErrClosed
	}
	return err
}

// Close leaves the cluster at once: it says so to the other nodes (who
// report it gone without waiting for DeadAfter), ends every link and flow
// (flows end with an error at both ends), fails pending requests with
// ErrClosed, closes its NATS connections, stops the embedded server and
// waits for every goroutine. Idempotent.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		n.beat(0, flagBye)
		if n.ctl != nil {
			_ = n.ctl.FlushTimeout(time.Second)
		}
		n.teardown()
	})
	return nil
}

// Shutdown leaves the cluster gracefully: new flows are refused, running
// ones finish (until ctx is done), queued messages are delivered, then it
// closes as Close does.
func (n *Node) Shutdown(ctx context.Context) error {
	var err error
	if n.flows != nil {
		err = n.flows.Shutdown(ctx)
	}
	if n.srv != nil {
		if e := n.srv.Shutdown(ctx, "node "+n.cfg.Name+" is shutting down"); err == nil && e != nil && !errors.Is(e, gnet.ErrClosed) {
			err = e
		}
	}
	n.Close()
	return err
}

// teardown releases what start acquired, in reverse.
func (n *Node) teardown() {
	close(n.stop)
	n.wg.Wait()
	for _, s := range n.subs {
		_ = s.Unsubscribe()
	}
	n.mu.Lock()
	n.closing = true
	fcs := n.fcli
	n.fcli = nil
	pend := n.pending
	n.pending = map[uint64]*pending{}
	n.mu.Unlock()
	for _, fc := range fcs {
		fc.c.Close()
	}
	if n.flows != nil {
		n.flows.Close()
	}
	if n.srv != nil {
		n.srv.Close()
	}
	for _, p := range pend {
		p.fail(ErrClosed)
	}
	if n.bulk != nil {
		n.bulk.Close()
	}
	if n.ctl != nil {
		n.ctl.Close()
	}
	if n.ns != nil {
		n.ns.Shutdown()
		n.ns.WaitForShutdown()
	}
	close(n.closed)
}
