package nats

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gonetic/gonetic/net/transport"
	natsgo "github.com/nats-io/nats.go"
)

// listenTimeout bounds Listen's wait for the server to confirm the
// subscription.
const listenTimeout = 10 * time.Second

// listener answers dial requests on one address's dial subject.
type listener struct {
	t       *Transport
	addr    string // "<name>/<svc>"
	prefix  string // "<Prefix>.n.<name>.<svc>"
	cfg     transport.Config
	accept  transport.Accept
	sub     *natsgo.Subscription
	subDone chan struct{} // closed when the dial subscription's goroutine is done
	over    chan struct{} // closed when Close has finished

	mu      sync.Mutex       // guards the fields below
	closing bool             // Close was called: no more accepts
	links   map[string]*link // accepted links not yet over, by their in subject
}

// Listen answers dials to addr: "<name>/<svc>", or "<svc>" for
// "<ID>/<svc>", where each part is one subject token. It subscribes to
// "<Prefix>.n.<name>.<svc>.dial" and calls accept, on that subscription's
// goroutine, for every link dialed. One Transport listens on an address
// once; two Transports listening on one address on the same NATS system
// would both answer, so give each node its own name (Options.ID). Safe to
// call from any goroutine.
func (t *Transport) Listen(addr string, cfg transport.Config, accept transport.Accept) (transport.Listener, error) {
	if accept == nil {
		return nil, errors.New("nats: Listen needs a non-nil Accept")
	}
	cfg, err := checkConfig(cfg)
	if err != nil {
		return nil, err
	}
	name, svc, err := t.parseAddr(addr)
	if err != nil {
		return nil, err
	}
	addr = name + "/" + svc
	t.mu.Lock()
	if _, ok := t.listening[addr]; ok {
		t.mu.Unlock()
		return nil, fmt.Errorf("nats: already listening at %s; close that listener first", addr)
	}
	t.listening[addr] = struct{}{}
	t.mu.Unlock()
	ln := &listener{
		t: t, addr: addr, prefix: t.subject("n", name, svc), cfg: cfg, accept: accept,
		subDone: make(chan struct{}), over: make(chan struct{}), links: map[string]*link{},
	}
	sub, err := t.opts.Conn.Subscribe(ln.prefix+".dial", ln.onDial)
	if err == nil {
		sub.SetClosedHandler(func(string) { close(ln.subDone) })
		if !sub.IsValid() {
			err = ErrConnClosed
		}
	}
	if err == nil {
		// Dials come on other connections: the server must know of the
		// subscription before Listen returns.
		if err = t.opts.Conn.FlushTimeout(listenTimeout); err != nil {
			_ = sub.Unsubscribe()
			<-ln.subDone
		}
	}
	if err != nil {
		t.forget(addr)
		return nil, fmt.Errorf("nats: listen at %s: %w", addr, err)
	}
	ln.sub = sub
	return ln, nil
}

func (t *Transport) forget(addr string) {
	t.mu.Lock()
	delete(t.listening, addr)
	t.mu.Unlock()
}

// Addr returns the listener's "<name>/<svc>".
func (ln *listener) Addr() string { return ln.addr }

// onDial makes the link a dial request asks for: it subscribes to the
// link's subject towards us, answers with an accept frame on the one
// towards the dialer, then asks the Accept for the Sink.
func (ln *listener) onDial(m *natsgo.Msg) {
	dialer, linkID, ok := parseDial(m.Data)
	if !ok {
		return // not gonetic's; the dialer, if any, times out
	}
	t := ln.t
	in := ln.prefix + ".l." + dialer + "." + linkID
	l := newLink(t, ln.cfg, in, t.subject("d", dialer, linkID), dialer+"/"+linkID)
	ln.mu.Lock()
	if ln.closing || ln.links[in] != nil { // closing, or a repeated request
		ln.mu.Unlock()
		return
	}
	ln.links[in] = l
	ln.mu.Unlock()
	l.onDone = func() {
		ln.mu.Lock()
		delete(ln.links, in)
		ln.mu.Unlock()
	}
	if err := l.subscribe(); err != nil {
		l.onDone()
		return
	}
	l.mu.Lock()
	l.buf = appendHeader(l.buf[:0], kindAccept, l.seq)
	err := l.nc.Publish(l.out, l.buf)
	if err == nil {
		l.seq++
		l.stats.BytesSent.Add(uint64(len(l.buf)))
	}
	l.mu.Unlock()
	if err != nil {
		l.abandon(false)
		return
	}
	sink := ln.accept(l)
	if sink == nil {
		l.silent.Store(true)
		l.end(nil, true, codeRefused, "the listener's Accept refused the link")
		close(l.ready)
		return
	}
	l.sink = sink
	l.open()
}

// Close stops answering dials, closes every link it accepted (as
// Link.Close does) and returns once their Sinks got Closed. It must not be
// called from a Sink or the Accept, which it waits for. Idempotent.
func (ln *listener) Close() error {
	ln.mu.Lock()
	if ln.closing {
		ln.mu.Unlock()
		<-ln.over
		return nil
	}
	ln.closing = true
	ln.mu.Unlock()
	_ = ln.sub.Unsubscribe() // fails only when the connection closed, which ends it too
	<-ln.subDone             // no accept runs past this
	ln.t.forget(ln.addr)
	ln.mu.Lock()
	links := make([]*link, 0, len(ln.links))
	for _, l := range ln.links {
		links = append(links, l)
	}
	ln.mu.Unlock()
	for _, l := range links {
		l.Close()
	}
	for _, l := range links {
		<-l.done
	}
	close(ln.over)
	return nil
}
