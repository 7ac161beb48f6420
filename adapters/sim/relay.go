package sim

import "fmt"

// Relay passes the traffic of every client that reaches its address on to
// a target server, through a Sim's conditions. It is how a program that is
// not built on gonetic, a C or Python client or server say, plays under the
// same conditions; Wrap uses relays too.
//
// The target sees the relay as its peer, one address per client.
type Relay struct {
	impl relay
}

type relay interface {
	addr() string
	clientOf(back string) string
	forget(back string) // the target ended the session whose socket is back
	close() error
}

// Relay starts a relay for network "udp" (datagrams: ENet, every
// condition applies) or "tcp" (a byte stream: Lag, Jitter, Rate and Queue
// apply) that listens on addr ("host:port"; port 0 picks a free one) and
// passes what it gets to target.
func (s *Sim) Relay(network, addr, target string) (*Relay, error) {
	switch network {
	case "udp":
		r, err := listenUDP(s, addr, target, false)
		if err != nil {
			return nil, err
		}
		return &Relay{r}, nil
	case "tcp":
		r, err := listenTCP(s, addr, target, nil)
		if err != nil {
			return nil, err
		}
		return &Relay{r}, nil
	}
	return nil, fmt.Errorf("sim: network %q: a relay is for \"udp\" or \"tcp\"", network)
}

// Addr is the address clients reach the relay at, "host:port".
func (r *Relay) Addr() string { return r.impl.addr() }

// Close stops the relay at once: datagrams on their way are dropped, and
// TCP connections through it are reset. It waits for the relay's
// goroutines and is idempotent.
func (r *Relay) Close() error { return r.impl.close() }
