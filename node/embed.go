package node

import (
	"fmt"
	stdnet "net"
	"strconv"
	"strings"
	"time"

	server "github.com/nats-io/nats-server/v2/server"
)

// embedTimeout bounds the embedded server's start.
const embedTimeout = 10 * time.Second

// startEmbedded starts the nats-server of a node without URLs.
func startEmbedded(name string, e EmbedConfig) (*server.Server, error) {
	host, port, err := hostPort(e.ClientAddr, "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("node: EmbedConfig.ClientAddr: %w", err)
	}
	o := &server.Options{
		ServerName: "gonetic-" + name,
		Host:       host, Port: port,
		NoLog: true, NoSigs: true,
		MaxPayload: e.MaxPayload,
	}
	routeAddr, routes := e.RouteAddr, e.Routes
	if e.Seed != "" {
		routeAddr, routes = "127.0.0.1:0", []string{e.Seed}
		// The first server on the machine takes the seed. Another may
		// take it between this probe and Start: its route to the seed
		// then reaches that one, and the cluster still forms.
		if l, err := stdnet.Listen("tcp", e.Seed); err == nil {
			l.Close()
			routeAddr = e.Seed
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
