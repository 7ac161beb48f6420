package websocket

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	stdnet "net"
	"net/url"
	"strings"
	"time"

	"github.com/gonetic/gonetic/net/transport"
)

// Defaults for Options.
const (
	// DefaultMaxQueued is the default Options.MaxQueued: 4 MiB, seconds of
	// a game's traffic, as for adapters/tcp.
	DefaultMaxQueued = 4 << 20
	// DefaultWriteTimeout is the default Options.WriteTimeout.
	DefaultWriteTimeout = 10 * time.Second
)

// closeTimeout bounds a graceful close: sending what is queued, the close
// frame and waiting for the peer's. coder/websocket bounds the two close
// frames by 5 s each; this bounds the rest.
const closeTimeout = 15 * time.Second

// Errors of the WebSocket adapter, besides the shared ones in package
// transport.
var (
	// ErrQueueFull is returned by Send when a link already holds
	// Options.MaxQueued bytes that were not yet written. It matches
	// transport.ErrQueueFull.
	ErrQueueFull = transport.QueueFull("websocket: send queue full: the peer is not reading fast enough; slow down, or raise Options.MaxQueued")
	// ErrTooSlow is what a link closes with when its peer does not read: a
	// message's write did not finish, or Send found the queue full all
	// along, for Options.WriteTimeout. It matches transport.ErrTooSlow.
	ErrTooSlow = transport.TooSlow("websocket: peer too slow: a write did not finish, or the send queue stayed full, for Options.WriteTimeout; disconnected")
	// ErrCloseTimeout is what a link closed with Close reports to its Sink
	// when the graceful close (what was queued, then the close handshake)
	// took more than 15 s.
	ErrCloseTimeout = errors.New("websocket: close timed out before the peer took every queued payload and answered the close; check that the peer reads")
)

// CloseError is what a link's Sink.Closed reports when the peer closed
// the WebSocket with a status other than a normal closure (1000, or a close
// frame without a status) or 1009 (message too big, reported as a
// *transport.FrameError).
type CloseError struct {
	// Code is the WebSocket close status, e.g. 1001 (going away: a browser
	// tab closed) or 1008 (policy violation).
	Code int
	// Reason is the peer's reason text; it may be empty.
	Reason string
}

func (e *CloseError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("websocket: peer closed with status %d", e.Code)
	}
	return fmt.Sprintf("websocket: peer closed with status %d: %s", e.Code, e.Reason)
}

// Options tune the WebSocket adapter. The zero value gives the defaults.
type Options struct {
	// OriginPatterns widens which browser pages may connect to a
	// listener. By default a handshake is accepted when it carries no
	// Origin header (a native client) or when the Origin's host is the
	// request's Host (a page served by the same server); any other Origin
	// is refused with 403 Forbidden, so that another site's page cannot
	// use a visitor's browser to connect. Each pattern is matched, with
	// path.Match and ignoring case, against the Origin's host
	// ("*.example.com", "localhost:8080") or, when it contains "://",
	// against scheme and host ("https://play.example.com"). Dial ignores
	// it.
	OriginPatterns []string
	// MaxQueued bounds, per link, the bytes (payloads plus their channel
	// bytes) queued behind the write in progress. Send returns
	// ErrQueueFull rather than queue past it, except that an empty queue
	// always takes one payload. Zero or negative means DefaultMaxQueued.
	MaxQueued int
	// WriteTimeout is how long a peer may go without reading: a link whose
	// message write does not finish for this long, or whose Send finds the
	// queue full for this long, is closed with ErrTooSlow, and what it
	// queued is dropped. Zero or negative means DefaultWriteTimeout.
	WriteTimeout time.Duration
	// TLS, when not nil, is the TLS (crypto/tls) configuration of wss.
	// Dial verifies a wss:// server's certificate against its RootCAs (nil
	// means the system's roots) and ServerName (by default the URL's host),
	// and dials a plain "host:port" as wss://host:port/. Listen("host:port")
	// serves wss with its Certificates (or GetCertificate). Listen("")
	// ignores it: TLS is then the job of the http.Server that serves the
	// Transport (ListenAndServeTLS). In the browser it is ignored: the
	// browser does TLS for wss:// and trusts its own roots. The config is
	// cloned by New. docs/SECURITY.md says when to use TLS. Nil means ws,
	// except for a wss:// URL given to Dial, which then uses the system's
	// roots.
	TLS *tls.Config
}

func (o Options) withDefaults() Options {
	if o.MaxQueued <= 0 {
		o.MaxQueued = DefaultMaxQueued
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	o.OriginPatterns = append([]string(nil), o.OriginPatterns...)
	if o.TLS != nil {
		o.TLS = o.TLS.Clone()
	}
	return o
}

// Transport is the WebSocket network adapter, and the http.Handler that
// hands a mounted listener its upgrades (see ServeHTTP). Safe for
// concurrent use.
type Transport struct {
	opts Options
	//lint:ignore U1000 used on every platform but the browser (listen.go)
	mount mount // the listener of Listen(""), which ServeHTTP serves
}

var _ transport.Transport = (*Transport)(nil)

// New returns a WebSocket adapter with opts; zero fields take their
// defaults.
func New(opts Options) *Transport {
	return &Transport{opts: opts.withDefaults()}
}

// Name returns "websocket".
func (t *Transport) Name() string { return "websocket" }

// Dial opens a WebSocket to addr and returns the link once the handshake
// is done. addr is a URL, "ws://host:port/path" or "wss://host:port/path",
// or a plain "host:port", which means "ws://host:port/", or
// "wss://host:port/" with Options.TLS. A ws:// URL with Options.TLS is
// refused rather than dialled in the clear. ctx bounds the
// connect and the handshake only. It works natively and in the browser
// (GOOS=js), where the browser's WebSocket does the work. Safe to call from
// any goroutine.
func (t *Transport) Dial(ctx context.Context, addr string, cfg transport.Config, sink transport.Sink) (transport.Link, error) {
	if sink == nil {
		return nil, errors.New("websocket: Dial needs a non-nil Sink")
	}
	cfg, err := checkConfig(cfg)
	if err != nil {
		return nil, err
	}
	u, err := dialURL(addr, t.opts.TLS != nil)
	if err != nil {
		return nil, err
	}
	c, err := dial(ctx, u, t.opts.TLS)
	if err != nil {
		return nil, fmt.Errorf("websocket: dial %s: %w", u, err)
	}
	l := newLink(c, cfg, t.opts, true)
	l.start(sink)
	return l, nil
}

// dialURL turns Dial's addr into a ws:// or wss:// URL; secure says
// Options.TLS is set.
func dialURL(addr string, secure bool) (string, error) {
	if strings.Contains(addr, "://") {
		u, err := url.Parse(addr)
		if err != nil {
			return "", fmt.Errorf("websocket: Dial address %q: %w", addr, err)
		}
		if u.Scheme != "ws" && u.Scheme != "wss" {
			return "", fmt.Errorf("websocket: Dial address %q: the scheme must be ws or wss", addr)
		}
		if u.Host == "" {
			return "", fmt.Errorf("websocket: Dial address %q has no host", addr)
		}
		if secure && u.Scheme == "ws" {
			return "", fmt.Errorf("websocket: Dial address %q is ws://, which is not encrypted, but Options.TLS is set; dial wss://", addr)
		}
		return u.String(), nil
	}
	if _, _, err := stdnet.SplitHostPort(addr); err != nil {
		return "", fmt.Errorf("websocket: Dial address %q is neither a ws:// or wss:// URL nor host:port", addr)
	}
	if secure {
		return "wss://" + addr + "/", nil
	}
	return "ws://" + addr + "/", nil
}

// checkConfig applies cfg's defaults and refuses what one channel byte
// cannot carry.
func checkConfig(cfg transport.Config) (transport.Config, error) {
	cfg = cfg.WithDefaults()
	if cfg.Channels > 256 {
		return cfg, fmt.Errorf("websocket: %d channels do not fit the channel byte; use at most 256", cfg.Channels)
	}
	if cfg.MaxPayload > 1<<40 {
		return cfg, fmt.Errorf("websocket: MaxPayload %d is too large", cfg.MaxPayload)
	}
	return cfg, nil
}
