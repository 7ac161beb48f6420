package sim

import (
	"fmt"
	"sync/atomic"
	"time"
)

// Relay passes the traffic of every client that reaches its address on to
// a target server, through a Sim's conditions. It is how a program that is
// not built on gonetic, a C or Python client or server say, plays under the
// same conditions; Wrap uses relays too.
//
// The target sees the relay as its peer, one address per client. A UDP
// relay takes at most 8,192 clients at once (it is a test tool: a flood of
// forged sources must not take a socket each without end); a client quiet
// for 30 s is forgotten.
type Relay struct {
	impl relay
}

type relay interface {
	addr() string
	clientOf(back string) string
	forget(back string) // the target ended the session whose socket is back
	close() error
	// lastDue is when the latest packet given a release time is due.
	lastDue() time.Time
	idle() bool // nothing held for later: no datagram waiting (UDP), no session left (TCP)
	// settle returns once what reached the relay so far has its fate (UDP:
	// a datagram still in the socket's buffer is read), true when it knows.
	settle() bool
}

// dueClock records the latest release time given to a packet.
type dueClock struct{ unixNano atomic.Int64 }

func (d *dueClock) note(due time.Time) {
	n := due.UnixNano()
	for {
		old := d.unixNano.Load()
		if n <= old || d.unixNano.CompareAndSwap(old, n) {
			return
		}
	}
}

func (d *dueClock) lastDue() time.Time { return time.Unix(0, d.unixNano.Load()) }

// closeWhenDelivered closes r once what it holds was passed on (the last
// release time given, and a stream's sessions ended by themselves), within
// linger at most, on a goroutine of its own: a dialed link's end must not
// drop its last words (ENet's disconnect, a TCP stream's last bytes and
// end), which the relay may still be delaying.
func closeWhenDelivered(r relay, linger time.Duration) {
	go func() {
		end := time.Now().Add(linger)
		r.settle()
		for {
			now := time.Now()
			if now.After(end) || now.After(r.lastDue()) && r.idle() {
				r.close()
				return
			}
			time.Sleep(min(max(time.Until(r.lastDue()), time.Millisecond), 10*time.Millisecond))
		}
	}()
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
