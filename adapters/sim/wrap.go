package sim

import (
	"context"
	"errors"
	"fmt"
	stdnet "net"
	"sync/atomic"
	"time"

	"github.com/gonetic/gonetic/net/transport"
)

// carriers are the adapters Wrap knows, and what carries their traffic.
var carriers = map[string]string{"enet": "udp", "tcp": "tcp"}

// Wrap returns t with every link through s's conditions: a Server or a
// Client given the result plays as if over that network, with nothing
// else changed.
//
// A wrapped listener listens on a free loopback port and puts a relay on
// the address asked for; a wrapped Dial starts a relay of its own towards
// the address and dials it. Links report the real peer's address, not the
// relay's. Wrap knows the enet adapter (UDP: every condition applies) and
// tcp (a byte stream: Loss, Duplicate, Reorder and MTU do not apply, and
// Wrap refuses a Sim that sets them); put a Relay in front of others.
func (s *Sim) Wrap(t transport.Transport) (transport.Transport, error) {
	network, ok := carriers[t.Name()]
	if !ok {
		return nil, fmt.Errorf("sim: Wrap knows the enet and tcp adapters, not %q: put a Relay in front of its server", t.Name())
	}
	if c := s.Config(); network == "tcp" && (c.Up.datagramOnly() || c.Down.datagramOnly()) {
		return nil, fmt.Errorf("sim: %s is a byte stream, which never loses, duplicates or reorders bytes: "+
			"use lag, jitter and rate with it (loss, dup, reorder and mtu are for enet)", t.Name())
	}
	return &wrapped{sim: s, t: t, network: network}, nil
}

// Simulate puts t under the conditions of spec, in Parse's syntax
// ("lag=75ms,loss=5%"), for a program's -sim flag: it returns the
// transport to use and the Sim that applies the conditions, or t itself
// and a nil Sim when spec is empty. It is Parse, New and Wrap in one.
func Simulate(t transport.Transport, spec string) (transport.Transport, *Sim, error) {
	if spec == "" {
		return t, nil, nil
	}
	cfg, err := Parse(spec)
	if err != nil {
		return nil, nil, err
	}
	s, err := New(cfg)
	if err != nil {
		return nil, nil, err
	}
	w, err := s.Wrap(t)
	if err != nil {
		return nil, nil, err
	}
	return w, s, nil
}

type wrapped struct {
	sim     *Sim
	t       transport.Transport
	network string
}

func (w *wrapped) Name() string { return w.t.Name() + "+sim" }

func (w *wrapped) Listen(addr string, cfg transport.Config, accept transport.Accept) (transport.Listener, error) {
	var rp atomic.Pointer[Relay] // set before any client can reach the listener through it
	inner, err := w.t.Listen("127.0.0.1:0", cfg, func(l transport.Link) transport.Sink {
		r := rp.Load()
		if r == nil { // reached past the relay
			return accept(l)
		}
		back := l.RemoteAddr()
		sink := accept(wrapLink(l, r.impl.clientOf(back)))
		if sink == nil {
			r.impl.forget(back) // once the refusal got through
			return nil
		}
		return newEndSink(sink, func() { r.impl.forget(back) })
	})
	if err != nil {
		return nil, err
	}
	r, err := w.sim.Relay(w.network, addr, inner.Addr())
	if err != nil {
		inner.Close()
		return nil, err
	}
	rp.Store(r)
	ln := &listener{inner: inner, relay: r}
	if p, ok := inner.(transport.Poller); ok {
		return pollListener{ln, p}, nil
	}
	return ln, nil
}

func (w *wrapped) Dial(ctx context.Context, addr string, cfg transport.Config, sink transport.Sink) (transport.Link, error) {
	var r *Relay
	switch w.network {
	case "udp":
		impl, err := listenUDP(w.sim, "127.0.0.1:0", addr, true)
		if err != nil {
			return nil, err
		}
		r = &Relay{impl}
	case "tcp":
		// The target first, so that dialing a closed port fails as it
		// would without the relay.
		var d stdnet.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		impl, err := listenTCP(w.sim, "127.0.0.1:0", addr, c.(*stdnet.TCPConn))
		if err != nil {
			c.Close()
			return nil, err
		}
		r = &Relay{impl}
	}
	l, err := w.t.Dial(ctx, r.Addr(), cfg, newEndSink(sink, func() { closeWhenDelivered(r.impl, dialLinger) }))
	if err != nil {
		r.Close()
		return nil, err
	}
	return wrapLink(l, addr), nil
}

// dialLinger bounds how long a dialed link's relay outlives the link, to
// pass on what it still delays.
const dialLinger = 5 * time.Second

// listener is a wrapped listener: the relay in front of the adapter's.
type listener struct {
	inner transport.Listener
	relay *Relay
}

func (l *listener) Addr() string { return l.relay.Addr() }

// Close closes the adapter's listener first, so that what its links say
// on their way out still passes the relay.
func (l *listener) Close() error {
	err := l.inner.Close()
	return errors.Join(err, l.relay.Close())
}

type pollListener struct {
	*listener
	p transport.Poller
}

func (l pollListener) Poll() { l.p.Poll() }

// link is a wrapped link: it reports the real peer's address.
type link struct {
	transport.Link
	remote string
}

func (l *link) RemoteAddr() string { return l.remote }

type pollLink struct {
	*link
	p transport.Poller
}

func (l pollLink) Poll() { l.p.Poll() }

// lossyPollLink is a wrapped ENet link: a Poller, and transport.Lossy, on
// which package net relies to judge a sealed payload that came late or
// twice.
type lossyPollLink struct{ pollLink }

func (lossyPollLink) Lossy() {}

func wrapLink(l transport.Link, remote string) transport.Link {
	w := &link{Link: l, remote: remote}
	p, poll := l.(transport.Poller)
	_, lossy := l.(transport.Lossy)
	switch {
	case poll && lossy: // ENet's; no adapter is Lossy and not a Poller
		return lossyPollLink{pollLink{w, p}}
	case poll:
		return pollLink{w, p}
	}
	return w
}

// endSink is a link's Sink that also ends the link's relay session once
// the link ended. It passes on the abilities the Sink has: refusing
// TryReceive only sends an adapter to its other way of delivering, and a
// Sink without Farewell has nothing to say.
type endSink struct {
	transport.Sink
	try transport.TrySink
	bye transport.Farewell
	end func()
}

func newEndSink(s transport.Sink, end func()) *endSink {
	e := &endSink{Sink: s, end: end}
	e.try, _ = s.(transport.TrySink)
	e.bye, _ = s.(transport.Farewell)
	return e
}

func (s *endSink) TryReceive(ch uint8, p []byte) bool {
	return s.try != nil && s.try.TryReceive(ch, p)
}

func (s *endSink) Farewell(err error) {
	if s.bye != nil {
		s.bye.Farewell(err)
	}
}

func (s *endSink) Closed(err error) {
	s.Sink.Closed(err)
	s.end()
}
