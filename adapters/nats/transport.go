package nats

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gonetic/gonetic/net/transport"
	natsgo "github.com/nats-io/nats.go"
)

// Defaults for Options.
const (
	// DefaultPrefix is the default Options.Prefix.
	DefaultPrefix = "gonetic"
	// DefaultTickInterval is the default Options.TickInterval.
	DefaultTickInterval = 250 * time.Millisecond
	// DefaultPendingBytes is the default Options.PendingBytes: 64 MiB,
	// nats.go's own default, far above what a game link holds.
	DefaultPendingBytes = 64 << 20
)

// Errors of the NATS adapter, besides the shared ones in package transport.
var (
	// ErrNoListener is matched (errors.Is) by Dial's error when nobody
	// listens at the address on this NATS system.
	ErrNoListener = errors.New("nats: no gonetic listener at that address")
	// ErrConnClosed is what a link's Sink gets when the NATS connection
	// (Options.Conn) is closed under it.
	// ErrPeerGone is what a link's Sink gets when the peer sent nothing,
	// not even a tick, for Options.PeerTimeout.
	ErrPeerGone   = errors.New("nats: the peer sent nothing, not even a tick, for Options.PeerTimeout: it is gone (its NATS connection or process ended) or NATS is partitioned")
	ErrConnClosed = errors.New("nats: the NATS connection was closed under the link; open a new connection and dial again")
)

// noListener is Dial's error when NATS says nobody subscribes to the
// listener's dial subject.
type noListener string

func (e noListener) Error() string {
	return "nats: no gonetic listener at " + string(e) + " on NATS (is the node up?)"
}
func (e noListener) Is(target error) bool { return target == ErrNoListener }

// GapError is what a link closes with when a frame arrives out of turn:
// NATS delivers at most once, so frames were lost (the NATS connection
// reconnected, or a subscription dropped messages as a slow consumer), or
// a frame came twice or from somewhere else. The link does not resend: it
// breaks, at both ends.
type GapError struct {
	// Want is the sequence number that was due, Got the one that came.
	Want, Got uint64
	// Dropped is how many messages this end's subscription dropped as a
	// slow consumer (its Sink did not keep up past Options.PendingBytes).
	Dropped int
}

func (e *GapError) Error() string {
	if e.Got < e.Want {
		return fmt.Sprintf("nats: link frame %d arrived where %d was due: a repeated or foreign message; the link is closed", e.Got, e.Want)
	}
	msg := fmt.Sprintf("nats: link frame %d arrived where %d was due: messages were lost", e.Got, e.Want)
	if e.Dropped > 0 {
		return msg + fmt.Sprintf(" (this end dropped %d as a slow consumer: its Sink did not keep up; raise Options.PendingBytes); the link is closed", e.Dropped)
	}
	return msg + " (a NATS reconnect, or a slow consumer); the link is closed"
}

// CloseError is what a link's Sink gets when the peer ended the link other
// than with Close: it aborted, its Accept refused the link, or it saw the
// link break (Reason then holds the peer's error text).
type CloseError struct {
	// Reason is the peer's reason, for people.
	Reason string
}

func (e *CloseError) Error() string { return "nats: the peer closed the link: " + e.Reason }

// Options configure the NATS adapter.
type Options struct {
	// Conn is the NATS connection the links run over. Required. It belongs
	// to the caller: closing links and listeners never closes it, and
	// closing it ends every link on it with ErrConnClosed. Its reconnect
	// settings decide how a link fares when a server goes (see the package
	// documentation).
	Conn *natsgo.Conn
	// Prefix is the first part of every subject the adapter uses:
	// subject tokens ([A-Za-z0-9_-]+) separated by '.'. Peers must use the
	// same one. Default DefaultPrefix ("gonetic").
	Prefix string
	// ID names this Transport on the NATS system: one subject token,
	// unique among the peers. It is the node name of Listen("svc") and
	// part of every link it dials. Default: a random 16-character token.
	ID string
	// TickInterval is how long a link may send nothing before it sends a
	// tick, so that the peer sees a lost last frame within about that
	// time. Default DefaultTickInterval (250 ms).
	TickInterval time.Duration
	// PeerTimeout is how long a link waits for any frame (the peer ticks
	// when idle) before it ends with ErrPeerGone: a peer whose NATS
	// connection closed, or whose process died, sends no close frame.
	// Raise it above your NATS reconnect time if idle links should
	// survive a failover. Default 10 × TickInterval (2.5 s).
	PeerTimeout time.Duration
	// PendingBytes bounds, per link, what nats.go holds for a Sink that
	// blocks; past it NATS drops messages and the link closes with a
	// *GapError that says so. Default DefaultPendingBytes (64 MiB).
	PendingBytes int
}

// Transport is the NATS network adapter. Safe for concurrent use.
type Transport struct {
	opts Options

	mu        sync.Mutex          // guards listening
	listening map[string]struct{} // addresses this Transport listens on
}

var _ transport.Transport = (*Transport)(nil)

// New returns a NATS adapter over o.Conn; zero fields of o take their
// defaults. It fails when Conn is missing or Prefix or ID is not made of
// subject tokens.
func New(o Options) (*Transport, error) {
	if o.Conn == nil {
		return nil, errors.New("nats: Options.Conn is nil; connect with nats.go (natsgo.Connect) and pass the *nats.Conn")
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	for _, tok := range strings.Split(o.Prefix, ".") {
		if !isToken(tok) {
			return nil, fmt.Errorf("nats: Options.Prefix %q: want subject tokens of A-Z, a-z, 0-9, '_' and '-' separated by '.'", o.Prefix)
		}
	}
	if o.ID == "" {
		o.ID = randomToken()
	} else if !isToken(o.ID) {
		return nil, fmt.Errorf("nats: Options.ID %q: want one subject token of A-Z, a-z, 0-9, '_' and '-'", o.ID)
	}
	if o.TickInterval <= 0 {
		o.TickInterval = DefaultTickInterval
	}
	if o.PeerTimeout <= 0 {
		o.PeerTimeout = 10 * o.TickInterval
	}
	if o.PendingBytes <= 0 {
		o.PendingBytes = DefaultPendingBytes
	}
	t := &Transport{opts: o, listening: map[string]struct{}{}}
	return t, nil
}

// Name returns "nats".
func (t *Transport) Name() string { return "nats" }

// ID returns this Transport's id (Options.ID, or the random default).
func (t *Transport) ID() string { return t.opts.ID }

// isToken reports whether s is a non-empty subject token we accept.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// newLinkID is a dial's link id: random, so that no peer can foresee the
// next one and claim it at a listener first (a dial request names its
// dialer and link, and NATS does not check them), and so that a restarted
// process does not meet its former self's subjects.
func newLinkID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return strconv.FormatUint(binary.LittleEndian.Uint64(b[:]), 36)
}

func randomToken() string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var b [16]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:])
}

// parseAddr splits "<name>/<svc>" and checks both are tokens; "<svc>"
// alone means this Transport's ID as the name.
func (t *Transport) parseAddr(addr string) (name, svc string, err error) {
	name, svc, ok := strings.Cut(addr, "/")
	if !ok {
		name, svc = t.opts.ID, addr
	}
	if !isToken(name) || !isToken(svc) {
		return "", "", fmt.Errorf("nats: address %q: want \"<name>/<svc>\" or \"<svc>\", each one token of A-Z, a-z, 0-9, '_' and '-'", addr)
	}
	return name, svc, nil
}

// subject joins the prefix and tokens with '.'.
func (t *Transport) subject(tokens ...string) string {
	return t.opts.Prefix + "." + strings.Join(tokens, ".")
}

// checkConfig applies cfg's defaults and refuses what one channel byte
// cannot carry.
func checkConfig(cfg transport.Config) (transport.Config, error) {
	cfg = cfg.WithDefaults()
	if cfg.Channels > 256 {
		return cfg, fmt.Errorf("nats: %d channels do not fit the channel byte; use at most 256", cfg.Channels)
	}
	return cfg, nil
}

// Dial opens a link to the listener at addr ("<name>/<svc>"): a request on
// the listener's dial subject, answered on the new link's subject. ctx
// bounds the wait for the answer. With nobody listening it fails at once
// with an error that matches ErrNoListener. Safe to call from any
// goroutine.
func (t *Transport) Dial(ctx context.Context, addr string, cfg transport.Config, sink transport.Sink) (transport.Link, error) {
	if sink == nil {
		return nil, errors.New("nats: Dial needs a non-nil Sink")
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
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("nats: dial %s: %w", addr, err)
	}
	linkID := newLinkID()
	in := t.subject("d", t.opts.ID, linkID)
	out := t.subject("n", name, svc, "l", t.opts.ID, linkID)
	l := newLink(t, cfg, in, out, addr)
	l.sink = sink
	l.dialed = make(chan error, 1)
	if err := l.subscribe(); err != nil {
		return nil, fmt.Errorf("nats: dial %s: %w", addr, err)
	}
	req := []byte{dialVersion}
	req = binary.AppendUvarint(req, uint64(len(t.opts.ID)))
	req = append(req, t.opts.ID...)
	req = append(req, linkID...)
	if err := t.opts.Conn.PublishRequest(t.subject("n", name, svc, "dial"), in, req); err != nil {
		l.abandon(false)
		return nil, fmt.Errorf("nats: dial %s: %w", addr, err)
	}
	select {
	case err = <-l.dialed:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		// The listener may have made the link already: tell it.
		l.abandon(true)
		if errors.Is(err, ErrNoListener) {
			return nil, err // it names the address
		}
		return nil, fmt.Errorf("nats: dial %s: %w", addr, err)
	}
	l.open()
	return l, nil
}

// dialVersion is the first byte of a dial request.
const dialVersion = 1

// parseDial reads a dial request: the dialer's id and the link id, both
// subject tokens.
func parseDial(b []byte) (dialer, linkID string, ok bool) {
	if len(b) < 1 || b[0] != dialVersion {
		return "", "", false
	}
	n, k := binary.Uvarint(b[1:])
	if k <= 0 || n > uint64(len(b)-1-k) {
		return "", "", false
	}
	rest := b[1+k:]
	dialer, linkID = string(rest[:n]), string(rest[n:])
	return dialer, linkID, isToken(dialer) && isToken(linkID)
}
