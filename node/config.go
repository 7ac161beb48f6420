package node

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/gonetic/gonetic/adapters/flow"
	"github.com/gonetic/gonetic/message"
	gnet "github.com/gonetic/gonetic/net"
	natsgo "github.com/nats-io/nats.go"
)

// Defaults of Config.
const (
	DefaultCluster   = "default"
	DefaultKind      = "node"
	DefaultHeartbeat = 250 * time.Millisecond
	DefaultDeadAfter = 1500 * time.Millisecond
	// DefaultFlowWindow is the default Config.Flow.Window: each flow
	// between nodes may have this many bytes sent and not yet consumed.
	DefaultFlowWindow = 8 << 20
	// MaxPeers is the most links a node accepts (the others it dials):
	// a cluster's n nodes make n(n-1)/2 links, and past a few hundred
	// nodes the heartbeats alone are a burden.
	MaxPeers = 1024
	// LocalSeed is the route address the demos' embedded servers meet on
	// (EmbedConfig.Seed): the first process on the machine listens on it,
	// the others route to it.
	LocalSeed = "127.0.0.1:7248"
)

// Config configures Join. Name and Factory are required; every other
// field has a default.
type Config struct {
	// Name is the node's name, unique in its cluster: letters, digits,
	// '-' and '_' (it is a NATS subject token). Join fails with
	// ErrNameTaken if a live node answers to it.
	Name string
	// Kind groups nodes for SendKind and Peers, such as "zone" or "lobby";
	// the same characters as Name. Default DefaultKind.
	Kind string
	// Cluster separates games sharing one NATS: nodes see only the nodes
	// of their cluster. Default DefaultCluster.
	Cluster string
	// Factory is the registry of the messages nodes send each other,
	// with node's own registered last (Register). Every node of a
	// cluster must register the same types in the same order: a node
	// with another registry is not linked, and a warning says why.
	Factory *message.Factory
	// NewHandler returns the handler of one peer's link (see package
	// handler; embed Handler to reach the Peer and the Conn). nil: no
	// handler struct, for games that use gnet.On on Server.
	NewHandler func() any
	// OnPeer, if set, is called inside Update when a peer joins (its
	// link opened) and when it is gone, with why.
	OnPeer func(p Peer, joined bool, reason string)
	// URLs are the NATS servers to connect to ("nats://host:4222"). Empty:
	// Join starts an embedded nats-server (Embed).
	URLs []string
	// NATSOptions are added to the options of the node's NATS connections
	// (credentials, TLS, natsgo.DontRandomize), after the node's own.
	NATSOptions []natsgo.Option
	// Embed configures the embedded nats-server, used when URLs is empty.
	Embed EmbedConfig
	// Heartbeat is how often the node says it is alive. Default
	// DefaultHeartbeat.
	Heartbeat time.Duration
	// DeadAfter is how long a silent node stays listed: after it, the
	// node is gone. It must be longer than Heartbeat (several beats: a
	// heartbeat is at most once). Default DefaultDeadAfter.
	DeadAfter time.Duration
	// Net configures the links (net's Config). Factory and Transport are
	// the node's; PingInterval defaults to Heartbeat and Timeout to
	// DeadAfter plus a second, so that a link outlives a NATS failover.
	Net gnet.Config
	// Flow configures flows between nodes, both ways. Its defaults are a
	// dedicated flow listener's, but for three. Window is
	// DefaultFlowWindow, since credits return through NATS, a longer way
	// than a TCP connection. Rate and ChunkSize are a Station's
	// (flow.DefaultStationRate, 100 MB/s, in 16 KiB chunks), so that a
	// bulk flow leaves the game server's players their round trip: at
	// full speed a flow takes every core (nats-server, the node and the
	// garbage collector), and a game round trip's p99 grows tenfold. A
	// node with no players to serve sets Rate -1 and ChunkSize
	// flow.DefaultChunkSize, and a flow then runs at about raw NATS's
	// speed (docs/PERF.md).
	Flow flow.Config
	// Logger receives the node's log. Default: discarded.
	Logger *slog.Logger
}

// EmbedConfig configures the nats-server Join starts when Config.URLs is
// empty. The zero value is a standalone server on a free loopback port.
type EmbedConfig struct {
	// ClientAddr is where the server takes NATS clients, "host:port".
	// Default "127.0.0.1:0", a free port (Node.ClientURL tells it).
	ClientAddr string
	// RouteAddr, if set, is where the server takes routes from the other
	// servers of its NATS cluster ("host:port"; port 0: a free one).
	RouteAddr string
	// Routes are the route addresses of other servers to join
	// ("host:port").
	Routes []string
	// Seed, if set, joins every embedded server on one machine into one
	// NATS cluster without other setup (LocalSeed): the first to start
	// takes routes on Seed, the others on a free port, routing to Seed.
	// It overrides RouteAddr and Routes.
	Seed string
	// MaxPayload is the server's largest NATS message, in bytes. Default
	// nats-server's (1 MiB).
	MaxPayload int32
}

func (c Config) withDefaults() (Config, error) {
	if err := checkToken("Name", c.Name); err != nil {
		return c, err
	}
	if c.Kind == "" {
		c.Kind = DefaultKind
	}
	if c.Cluster == "" {
		c.Cluster = DefaultCluster
	}
	if err := checkToken("Kind", c.Kind); err != nil {
		return c, err
	}
	if err := checkToken("Cluster", c.Cluster); err != nil {
		return c, err
	}
	if c.Factory == nil {
		return c, errors.New("node: Config.Factory is nil; give it the registry of your node messages, with node.Register(f) called last")
	}
	if c.Factory.ByName(nameReq) == nil || c.Factory.ByName(nameRep) == nil {
		return c, errors.New("node: Config.Factory lacks node's message types; call node.Register(f) after registering your own")
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = DefaultHeartbeat
	}
	if c.DeadAfter <= 0 {
		c.DeadAfter = DefaultDeadAfter
	}
	if c.DeadAfter <= c.Heartbeat {
		return c, fmt.Errorf("node: Config.DeadAfter (%v) must be longer than Heartbeat (%v), by several beats", c.DeadAfter, c.Heartbeat)
	}
	if c.Net.PingInterval == 0 {
		c.Net.PingInterval = c.Heartbeat
	}
	if c.Net.Timeout <= 0 {
		c.Net.Timeout = c.DeadAfter + time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Net.Logger == nil {
		c.Net.Logger = c.Logger
	}
	if c.Flow.Window == 0 {
		c.Flow.Window = DefaultFlowWindow
	}
	if c.Flow.Rate == 0 {
		c.Flow.Rate = flow.DefaultStationRate
	}
	if c.Flow.ChunkSize == 0 {
		c.Flow.ChunkSize = flow.DefaultStationChunkSize
	}
	if c.Flow.Logger == nil {
		c.Flow.Logger = c.Logger
	}
	return c, nil
}

// checkToken checks that s is usable as a NATS subject token.
func checkToken(field, s string) error {
	if s == "" {
		return fmt.Errorf("node: Config.%s is empty", field)
	}
	if len(s) > 64 {
		return fmt.Errorf("node: Config.%s %q is longer than 64 bytes", field, s)
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return fmt.Errorf("node: Config.%s %q has %q; use letters, digits, '-' and '_' (it is a NATS subject token)", field, s, r)
		}
	}
	return nil
}

// linkPending bounds what nats.go holds for one message link whose
// inbox (Config.Net.InboxBytes) is full because Update fell behind; past
// it the link breaks, saying so. Flow links never fill it: flows take
// their chunks at once, within their credit.
const linkPending = 16 << 20
