package node

import (
	"fmt"
	stdnet "net"
	"strconv"
	"strings"
	"time"

	server "github.com/nats-io/nats-server/v2/server"
)

// embedTimeout bounds the embedded server's start, and routeTimeout its
// route to a Seed another process holds (nats-server retries a route
// every second).
var embedTimeout, routeTimeout = 10 * time.Second, 10 * time.Second

// startEmbedded starts the nats-server of a node without URLs; id names
// it, unique among the servers of a NATS cluster (nats-server refuses a
// route from a server of the same name).
func startEmbedded(id string, e EmbedConfig) (*server.Server, error) {
	host, port, err := hostPort(e.ClientAddr, "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("node: EmbedConfig.ClientAddr: %w", err)
	}
	o := &server.Options{
		ServerName: "gonetic-" + id,
		Host:       host, Port: port,
		NoLog: true, NoSigs: true,
		MaxPayload: e.MaxPayload,
	}
	routeAddr, routes := e.RouteAddr, e.Routes
	follower := false // routes to a seed another process holds
	if e.Seed != "" {
		if _, _, err := hostPort(e.Seed, ""); err != nil {
			return nil, fmt.Errorf("node: EmbedConfig.Seed: %w; give it \"host:port\", such as node.LocalSeed", err)
		}
		routeAddr, routes, follower = "127.0.0.1:0", []string{e.Seed}, true
		// The first server on the machine takes the seed. Another may
		// take it between this probe and Start: its route to the seed
		// then reaches that one, and the cluster still forms.
		if l, err := stdnet.Listen("tcp", e.Seed); err == nil {
			l.Close()
			routeAddr, follower = e.Seed, false
		}
	}
	if routeAddr != "" {
		rh, rp, err := hostPort(routeAddr, "")
		if err != nil {
			return nil, fmt.Errorf("node: EmbedConfig.RouteAddr: %w", err)
		}
		o.Cluster = server.ClusterOpts{Name: "gonetic", Host: rh, Port: rp}
		var urls []string
		for _, r := range routes {
			urls = append(urls, "nats-route://"+r)
		}
		o.Routes = server.RoutesFromStr(strings.Join(urls, ","))
	}
	s, err := server.NewServer(o)
	if err != nil {
		return nil, fmt.Errorf("node: embedded nats-server: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(embedTimeout) {
		s.Shutdown()
		s.WaitForShutdown()
		return nil, fmt.Errorf("node: the embedded nats-server did not start within %v (is %s:%d free?)", embedTimeout, host, port)
	}
	if follower {
		// Before the name is claimed and heartbeats go: without the route,
		// this node would see no other and claim any name.
		deadline := time.Now().Add(routeTimeout)
		for s.NumRemotes() == 0 {
			if time.Now().After(deadline) {
				s.Shutdown()
				s.WaitForShutdown()
				return nil, fmt.Errorf("node: the embedded nats-server found no NATS cluster at EmbedConfig.Seed %s within %v: another program holds that port; give every process of the game another free Seed", e.Seed, routeTimeout)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return s, nil
}

// hostPort splits addr ("host:port", def when empty); port 0 becomes
// nats-server's "any free port", since its 0 means the default port.
func hostPort(addr, def string) (string, int, error) {
	if addr == "" {
		addr = def
	}
	h, p, err := stdnet.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port in %q", addr)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	return h, port, nil
}
