package tcp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	stdnet "net"
	"net/netip"
	"time"

	"github.com/gonetic/gonetic/net/transport"
)

// Defaults for Options.
const (
	// DefaultMaxQueued is the default Options.MaxQueued: 4 MiB, seconds of
	// a game's traffic (20-600 KB/s per client at 30 Hz).
	DefaultMaxQueued = 4 << 20
	// DefaultMaxQueuedTotal is the default Options.MaxQueuedTotal: 64 MiB.
	DefaultMaxQueuedTotal = 64 << 20
	// DefaultMaxReceiving is the default Options.MaxReceiving: 64 MiB.
	DefaultMaxReceiving = 64 << 20
	// DefaultWriteTimeout is the default Options.WriteTimeout.
	DefaultWriteTimeout = 10 * time.Second
	// DefaultCloseTimeout is the default Options.CloseTimeout.
	DefaultCloseTimeout = 5 * time.Second
	// DefaultHandshakeTimeout is the default Options.HandshakeTimeout.
	DefaultHandshakeTimeout = 10 * time.Second
	// DefaultMaxHandshakes is the default Options.MaxHandshakes.
	DefaultMaxHandshakes = 1024
	// DefaultMaxHandshakesPerIP is the default Options.MaxHandshakesPerIP.
	DefaultMaxHandshakesPerIP = 16
)

// Errors of the TCP adapter, besides the shared ones in package transport.
var (
	// ErrQueueFull is returned by Send when a link already holds
	// Options.MaxQueued bytes that the operating system has not taken, or
	// the listener's links hold Options.MaxQueuedTotal. It matches
	// transport.ErrQueueFull.
	ErrQueueFull = transport.QueueFull("tcp: send queue full: the peer is not reading fast enough; slow down, or raise Options.MaxQueued and Options.MaxQueuedTotal")
	// ErrTooSlow is what a link closes with when its peer does not read:
	// a write made no progress, or Send found the queue full all along, for
	// Options.WriteTimeout. It matches transport.ErrTooSlow.
	ErrTooSlow = transport.TooSlow("tcp: peer too slow: it read nothing for Options.WriteTimeout, or so little that the send queue stayed full that long; disconnected")
	// ErrBusy is what a listener's link closes with when a frame in
	// progress needs more buffer than Options.MaxReceiving has left: the
	// links of the listener are receiving that much in large frames at
	// once. The peer may retry later.
	ErrBusy = errors.New("tcp: busy: the listener's links hold Options.MaxReceiving bytes of frames in progress; retry later, or raise Options.MaxReceiving")
	// ErrCloseTimeout is what a link closed with Close reports to its Sink
	// when Options.CloseTimeout ran out before everything queued was sent.
	ErrCloseTimeout = errors.New("tcp: close timed out before the peer took every queued payload; raise Options.CloseTimeout or check that the peer reads")
)

// Options tune the TCP adapter. The zero value gives the defaults.
type Options struct {
	// MaxQueued bounds, per link, the bytes (payloads plus framing)
	// queued behind the write in progress. Send returns ErrQueueFull rather
	// than queue past it, except that an empty queue always takes one
	// payload. Zero or negative means DefaultMaxQueued.
	MaxQueued int
	// MaxQueuedTotal bounds the bytes that all the links of one listener
	// hold queued or being written, together. Past it Send returns
	// ErrQueueFull, except that an empty queue always takes one payload,
	// so that peers that keep up are not starved by those that do not.
	// Links from Dial are bounded by MaxQueued only. Zero or negative
	// means DefaultMaxQueuedTotal.
	MaxQueuedTotal int
	// MaxReceiving bounds the bytes that all the links of one listener
	// hold of frames in progress beyond their usual 64 KiB read buffers. A
	// frame's buffer grows as its bytes arrive, not to the length its
	// header announces; a link whose frame needs more than is left is
	// closed with ErrBusy (its Sink's transport.Farewell told first). Zero
	// or negative means DefaultMaxReceiving.
	MaxReceiving int
	// WriteTimeout is how long a peer may go without reading: a link whose
	// write makes no progress for this long, or whose Send finds the queue
	// full (MaxQueued) for this long, is closed with ErrTooSlow, and what
	// it queued is dropped. Zero or negative means DefaultWriteTimeout.
	WriteTimeout time.Duration
	// CloseTimeout bounds a graceful close: the time, from Close or from
	// the peer's end of stream, to send what is queued and to see the
	// peer's end of stream. The connection is then closed regardless. Zero
	// or negative means DefaultCloseTimeout.
	CloseTimeout time.Duration
	// Framing is how payloads are delimited on the wire; both ends must
	// use the same. Nil means Binary: a 4-byte big-endian length prefix.
	Framing Framing
	// TLS, when not nil, runs every connection over TLS (crypto/tls); both
	// ends must use it. Listen needs Certificates (or GetCertificate or
	// GetConfigForClient): the server's certificate and key. Dial verifies
	// the server's certificate against RootCAs (nil means the system's
	// roots) and ServerName, which defaults to the host of the dialled
	// address. The config is cloned by New; later changes to it are not
	// seen. docs/SECURITY.md says when to use TLS and when connect tokens.
	// Nil means plain TCP.
	TLS *tls.Config
	// HandshakeTimeout bounds a TLS handshake, from the accepted
	// connection (or the dial's connect) to the handshake's end: a peer
	// that connects and never completes it is disconnected then, and never
	// reaches the Accept. Zero or negative means DefaultHandshakeTimeout.
	// Unused without TLS.
	HandshakeTimeout time.Duration
	// MaxHandshakes bounds the TLS handshakes one listener runs at once;
	// a connection accepted past it is closed at once, so that a flood of
	// connections that never finish their handshake costs a bounded number
	// of goroutines. Zero or negative means DefaultMaxHandshakes. Unused
	// without TLS.
	MaxHandshakes int
	// MaxHandshakesPerIP bounds the TLS handshakes under way from one IP
	// address, so that one source cannot take all of MaxHandshakes; past
	// it a connection from that address is closed at once. Players behind
	// one NAT share it, but a handshake lasts milliseconds. Zero or
	// negative means DefaultMaxHandshakesPerIP. Unused without TLS.
	MaxHandshakesPerIP int
}

func (o Options) withDefaults() Options {
	if o.MaxQueued <= 0 {
		o.MaxQueued = DefaultMaxQueued
	}
	if o.MaxQueuedTotal <= 0 {
		o.MaxQueuedTotal = DefaultMaxQueuedTotal
	}
	if o.MaxReceiving <= 0 {
		o.MaxReceiving = DefaultMaxReceiving
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.CloseTimeout <= 0 {
		o.CloseTimeout = DefaultCloseTimeout
	}
	if o.Framing == nil {
		o.Framing = Binary{}
	}
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if o.MaxHandshakes <= 0 {
		o.MaxHandshakes = DefaultMaxHandshakes
	}
	if o.MaxHandshakesPerIP <= 0 {
		o.MaxHandshakesPerIP = DefaultMaxHandshakesPerIP
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
	if opts.TLS != nil {
		opts.TLS = opts.TLS.Clone()
	}
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
	opts := t.opts.withDefaults()
	cfg, overhead, err := checkConfig(cfg, opts.Framing)
	if err != nil {
		return nil, err
	}
	if c := opts.TLS; c != nil && len(c.Certificates) == 0 && c.GetCertificate == nil && c.GetConfigForClient == nil {
		return nil, errors.New("tcp: Options.TLS has no certificate for Listen: set its Certificates (tls.LoadX509KeyPair) or GetCertificate")
	}
	ln, err := stdnet.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &listener{
		ln:       ln.(*stdnet.TCPListener),
		cfg:      cfg,
		opts:     opts,
		overhead: overhead,
		accept:   accept,
		stop:     make(chan struct{}),
		links:    make(map[*link]struct{}),
		shaking:  make(map[netip.Addr]int),
		queued:   newBudget(opts.MaxQueuedTotal),
		receive:  newBudget(opts.MaxReceiving),
		ctx:      ctx,
		cancel:   cancel,
	}
	if opts.TLS == nil {
		// TLS encrypts in the tls.Conn, which only the link's writer
		// writes: the flusher's raw write would bypass it.
		l.flusher = newFlusher()
	}
	l.wg.Add(1)
	go l.acceptLoop()
	return l, nil
}

// Dial connects to addr and returns the link once the connection is open,
// and with Options.TLS once the TLS handshake is done. ctx bounds the
// connect and the handshake; Options.HandshakeTimeout bounds the handshake
// too. Safe to call from any goroutine.
func (t *Transport) Dial(ctx context.Context, addr string, cfg transport.Config, sink transport.Sink) (transport.Link, error) {
	if sink == nil {
		return nil, errors.New("tcp: Dial needs a non-nil Sink")
	}
	opts := t.opts.withDefaults()
	cfg, overhead, err := checkConfig(cfg, opts.Framing)
	if err != nil {
		return nil, err
	}
	if c := opts.TLS; c != nil && c.ServerName == "" && !c.InsecureSkipVerify {
		if host, _, _ := stdnet.SplitHostPort(addr); host == "" {
			return nil, fmt.Errorf("tcp: Dial %q with Options.TLS: no host to check the server's certificate against; dial host:port, or set Options.TLS.ServerName", addr)
		}
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
	var sc *tls.Conn
	if opts.TLS != nil {
		if sc, err = clientHandshake(ctx, tc, addr, opts); err != nil {
			return nil, err
		}
	}
	l := newLink(tc, sc, cfg, opts, overhead, nil, nil, nil)
	l.start(sink)
	return l, nil
}

// clientHandshake runs Dial's TLS handshake over c, and closes c when it
// fails.
func clientHandshake(ctx context.Context, c *stdnet.TCPConn, addr string, opts Options) (*tls.Conn, error) {
	conf := opts.TLS
	if conf.ServerName == "" && !conf.InsecureSkipVerify {
		conf = conf.Clone()
		conf.ServerName, _, _ = stdnet.SplitHostPort(addr)
	}
	sc := tls.Client(c, conf)
	ctx, cancel := context.WithTimeout(ctx, opts.HandshakeTimeout)
	defer cancel()
	if err := sc.HandshakeContext(ctx); err != nil {
		_ = c.Close()
		return nil, handshakeError(addr, conf.ServerName, err)
	}
	return sc, nil
}

// handshakeError explains the usual reasons a client's handshake fails.
func handshakeError(addr, name string, err error) error {
	var (
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		invalid x509.CertificateInvalidError
		record  tls.RecordHeaderError
	)
	hint := "check that the server listens with the same Options.TLS"
	switch {
	case errors.As(err, &unknown):
		hint = "the server's certificate is signed by an authority this client does not trust: put the authority's certificate (or the server's self-signed one) in Options.TLS.RootCAs"
	case errors.As(err, &host):
		hint = fmt.Sprintf("the server's certificate is not valid for %q: dial a name the certificate holds, or set Options.TLS.ServerName to it", name)
	case errors.As(err, &invalid):
		hint = "the server's certificate is not valid (expired, not yet valid, or not for a server): renew it on the server"
	case errors.As(err, &record):
		hint = "the server does not speak TLS: it listens without Options.TLS, or it is not a gonetic TCP listener"
	case errors.Is(err, context.DeadlineExceeded):
		hint = "the server did not complete the handshake in time: it may not speak TLS, or be overloaded; raise Options.HandshakeTimeout or the context's deadline"
	}
	return fmt.Errorf("tcp: TLS handshake with %s: %w; %s", addr, err, hint)
}

// checkConfig applies cfg's defaults and returns the framing's overhead for
// payloads of cfg.MaxPayload bytes.
func checkConfig(cfg transport.Config, f Framing) (transport.Config, int, error) {
	cfg = cfg.WithDefaults()
	overhead, err := f.Overhead(cfg.MaxPayload)
	if err != nil {
		return cfg, 0, err
	}
	if overhead < 0 || cfg.MaxPayload > math.MaxInt-readBufferSize-overhead {
		return cfg, 0, fmt.Errorf("tcp: %T cannot frame payloads of %d bytes (overhead %d)", f, cfg.MaxPayload, overhead)
	}
	return cfg, overhead, nil
}
