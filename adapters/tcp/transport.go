package tcp

import (
	"context"
	"errors"
	"fmt"
	"math"
	stdnet "net"
	"time"

	"github.com/gonetic/gonetic/net/transport"
)

// Defaults for Options.
const (
	// DefaultMaxQueued is the default Options.MaxQueued: 64 MiB.
	DefaultMaxQueued = 64 << 20
	// DefaultCloseTimeout is the default Options.CloseTimeout.
	DefaultCloseTimeout = 5 * time.Second
)

// Errors of the TCP adapter, besides the shared ones in package transport.
var (
	// ErrQueueFull is returned by Send when a link already holds
	// Options.MaxQueued bytes that the operating system has not taken.
	ErrQueueFull = errors.New("tcp: send queue full: the peer is not reading fast enough; slow down, or raise Options.MaxQueued")
	// ErrCloseTimeout is what a link closed with Close reports to its Sink
	// when Options.CloseTimeout ran out before everything queued was sent.
	ErrCloseTimeout = errors.New("tcp: close timed out before the peer took every queued payload; raise Options.CloseTimeout or check that the peer reads")
)

// Options tune the TCP adapter. The zero value gives the defaults.
type Options struct {
	// MaxQueued bounds, per link, the bytes (payloads plus 4-byte prefixes)
	// queued behind the write in progress. Send returns ErrQueueFull rather
	// than queue past it, except that an empty queue always takes one
	// payload. Zero or negative means DefaultMaxQueued.
	MaxQueued int
	// CloseTimeout bounds a graceful close: the time, from Close or from
	// the peer's end of stream, to send what is queued and to see the
	// peer's end of stream. The connection is then closed regardless. Zero
	// or negative means DefaultCloseTimeout.
	CloseTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.MaxQueued <= 0 {
		o.MaxQueued = DefaultMaxQueued
	}
	if o.CloseTimeout <= 0 {
		o.CloseTimeout = DefaultCloseTimeout
	}
	return o
}

// Transport is the TCP network adapter. It is safe for concurrent use and
// holds no state besides its options: links and listeners own their
// goroutines. The zero value is the same as New(Options{}).
type Transport struct {
	opts Options
}

var _ transport.Transport = (*Transport)(nil)

// New returns a TCP adapter with opts; zero fields take their defaults.
func New(opts Options) *Transport {
	return &Transport{opts: opts.withDefaults()}
}

// Name returns "tcp".
func (t *Transport) Name() string { return "tcp" }

// Listen binds addr ("host:port"; port 0 picks a free one) and calls accept,
// on the listener's goroutine, for every connection. A link the Accept
// refuses is closed at once. Safe to call from any goroutine.
func (t *Transport) Listen(addr string, cfg transport.Config, accept transport.Accept) (transport.Listener, error) {
	if accept == nil {
		return nil, errors.New("tcp: Listen needs a non-nil Accept")
	}
	cfg, err := checkConfig(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := stdnet.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	l := &listener{
		ln:     ln.(*stdnet.TCPListener),
		cfg:    cfg,
		opts:   t.opts.withDefaults(),
		accept: accept,
		stop:   make(chan struct{}),
		links:  make(map[*link]struct{}),
	}
	l.wg.Add(1)
	go l.acceptLoop()
	return l, nil
}

// Dial connects to addr and returns the link once the connection is open.
// ctx bounds the connect only. Safe to call from any goroutine.
func (t *Transport) Dial(ctx context.Context, addr string, cfg transport.Config, sink transport.Sink) (transport.Link, error) {
	if sink == nil {
		return nil, errors.New("tcp: Dial needs a non-nil Sink")
	}
	cfg, err := checkConfig(cfg)
	if err != nil {
		return nil, err
	}
	var d stdnet.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	tc, ok := c.(*stdnet.TCPConn)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("tcp: dial %s: got a %T, not a TCP connection", addr, c)
	}
	l := newLink(tc, cfg, t.opts.withDefaults())
	l.start(sink)
	return l, nil
}

func checkConfig(cfg transport.Config) (transport.Config, error) {
	cfg = cfg.WithDefaults()
	if uint64(cfg.MaxPayload) > math.MaxUint32-headerSize {
		return cfg, fmt.Errorf("tcp: Config.MaxPayload %d does not fit the 4-byte length prefix", cfg.MaxPayload)
	}
	return cfg, nil
}
