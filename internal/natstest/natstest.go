// Package natstest starts embedded nats-servers for tests: one
// standalone server, or a cluster of servers routed to each other, all on
// loopback with free ports, shut down (and waited for) when the test ends.
//
// nats-server reads port 0 as its default (4222): the helpers ask for
// server.RANDOM_PORT (-1) for client and route ports. They never set
// DontListen, which would disable clustering too.
package natstest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// readyTimeout bounds a server's start and a cluster's routing: generous,
// for a loaded machine.
const readyTimeout = 10 * time.Second

// Option changes the server.Options a helper starts a server with.
type Option func(*server.Options)

// MaxPayload sets the servers' max_payload, the largest message a client
// may publish (nats-server's default: 1 MiB).
func MaxPayload(n int32) Option {
	return func(o *server.Options) { o.MaxPayload = n }
}

// Server starts a standalone nats-server on 127.0.0.1 with a free client
// port, without logs or signal handlers, and waits until it takes clients.
// t.Cleanup shuts it down and waits for that. Connect to s.ClientURL().
func Server(t testing.TB, opts ...Option) *server.Server {
	t.Helper()
	return start(t, options(opts), "server")
}

// Cluster starts n servers (Server's options, plus a cluster listener on a
// free loopback port) routed to the first one, and waits until each has a
// route to all n-1 others; it fails the test, listing the routes each one
// has, if that takes more than 10 s.
func Cluster(t testing.TB, n int, opts ...Option) []*server.Server {
	t.Helper()
	if n < 1 {
		t.Fatalf("natstest.Cluster(%d): want at least 1 server", n)
	}
	servers := make([]*server.Server, 0, n)
	for i := range n {
		o := options(opts)
		o.ServerName = fmt.Sprintf("gonetic-test-%d", i+1)
		o.Cluster = server.ClusterOpts{Name: "gonetic-test", Host: "127.0.0.1", Port: server.RANDOM_PORT}
		if i > 0 {
			o.Routes = server.RoutesFromStr("nats-route://" + servers[0].ClusterAddr().String())
		}
		servers = append(servers, start(t, o, o.ServerName))
	}
	deadline := time.Now().Add(readyTimeout)
	for {
		routed := true
		for _, s := range servers {
			if s.NumRemotes() != n-1 {
				routed = false
			}
		}
		if routed {
			return servers
		}
		if time.Now().After(deadline) {
			var b strings.Builder
			for _, s := range servers {
				fmt.Fprintf(&b, "\n  %s (routes at %s): %d of %d other servers routed", s.Name(), s.ClusterAddr(), s.NumRemotes(), n-1)
			}
			t.Fatalf("natstest.Cluster(%d): not fully routed within %v:%s", n, readyTimeout, b.String())
		}
		time.Sleep(10 * time.Millisecond) // nats-server has no route event to wait on
	}
}

func options(opts []Option) *server.Options {
	o := &server.Options{
		Host:   "127.0.0.1",
		Port:   server.RANDOM_PORT,
		NoLog:  true,
		NoSigs: true,
	}
	for _, f := range opts {
		f(o)
	}
	return o
}

func start(t testing.TB, o *server.Options, name string) *server.Server {
	t.Helper()
	s, err := server.NewServer(o)
	if err != nil {
		t.Fatalf("natstest: new %s: %v", name, err)
	}
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	s.Start()
	if !s.ReadyForConnections(readyTimeout) {
		t.Fatalf("natstest: %s not ready for connections within %v", name, readyTimeout)
	}
	return s
}
