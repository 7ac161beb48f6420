package net

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/gonetic/gonetic/adapters/msgpack"
	"github.com/gonetic/gonetic/message"
	"github.com/gonetic/gonetic/token"
)

// ProtocolVersion is the version of gonetic's wire protocol, carried in
// the handshake (docs/PROTOCOL.md).
const ProtocolVersion = 1

// controlMark starts every control payload. A message payload never starts
// with 0x00: it is a codec's array ([ in JSON, 0x9N/0xdc/0xdd in msgpack).
const controlMark = 0x00

// Control payloads: controlMark, then a msgpack array whose first element
// names the kind.
const (
	ctlHello   = "hello"   // client → server: [hello, version, codec, hash(bin 16), [type lines], data(bin, optional), ticket(bin), client random(bin 32)]
	ctlSession = "session" // server → client, in clear, then all is sealed: [session, server random(bin 32)]
	ctlWelcome = "welcome" // server → client: [welcome, version]
	ctlRefuse  = "refuse"  // server → client: [refuse, reason], then the server closes
	ctlBye     = "bye"     // either way: [bye, reason], then the sender closes
	ctlPing    = "ping"    // either way: [ping, stamp]; answered at once with pong
	ctlPong    = "pong"    // [pong, stamp, clock]: the stamp of the ping it answers, the answerer's clock
)

// MaxReasonBytes bounds the reason of a bye or a refusal, in bytes of
// UTF-8: a longer one is cut to fit, with "…" at the end, by the side that
// sends it and again by the side that receives it, so that a peer always
// gets a reason it can read and no peer can make another log or relay an
// unbounded text.
const MaxReasonBytes = 1024

// cutReason makes s a reason that fits MaxReasonBytes: valid UTF-8, cut at
// a character boundary.
func cutReason(s string) string { return cutReasonTo(s, MaxReasonBytes) }

// cutReasonTo makes s valid UTF-8 of at most max bytes, cut at a character
// boundary with "…" at the end when it was cut (and max leaves room).
func cutReasonTo(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= max {
		return s
	}
	const ellipsis = "…"
	if max < len(ellipsis) {
		return ""
	}
	n := max - len(ellipsis)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + ellipsis
}

// control is a decoded control payload.
type control struct {
	kind    string
	version uint64
	codec   string
	hash    []byte
	lines   []string
	data    []byte // hello: the game's data (WithHello); nil when absent
	ticket  []byte // hello: a connect token's ticket (WithToken); nil when absent
	random  []byte // hello: the client's random, with a ticket; session: the server's
	reason  string
	stamp   uint64 // ping, pong
	// clock is a pong's third element: the answerer's clock, ns since the
	// Unix epoch (endpoint.now). hasClock is false for a pong of two
	// elements, as peers written from the protocol's first text send.
	clock    uint64
	hasClock bool
}

var ctlCodec = msgpack.New()

// appendControl encodes a control payload.
func appendControl(w message.Writer, dst []byte, c control) []byte {
	w.Reset(append(dst, controlMark))
	switch c.kind {
	case ctlHello:
		// Without data, the five elements of the protocol's first text,
		// which every server reads.
		n := 5
		switch {
		case c.ticket != nil:
			n = 8
		case len(c.data) > 0:
			n = 6
		}
		w.Array(n)
		w.String(c.kind)
		w.Uint(c.version)
		w.String(c.codec)
		w.Bytes(c.hash)
		w.Array(len(c.lines))
		for _, l := range c.lines {
			w.String(l)
		}
		w.End()
		if n >= 6 {
			w.Bytes(c.data)
		}
		if n == 8 {
			w.Bytes(c.ticket)
			w.Bytes(c.random)
		}
	case ctlSession:
		w.Array(2)
		w.String(c.kind)
		w.Bytes(c.random)
	case ctlWelcome:
		w.Array(2)
		w.String(c.kind)
		w.Uint(c.version)
	case ctlPing:
		w.Array(2)
		w.String(c.kind)
		w.Uint(c.stamp)
	case ctlPong:
		w.Array(3)
		w.String(c.kind)
		w.Uint(c.stamp)
		w.Uint(c.clock)
	default: // refuse, bye
		w.Array(2)
		w.String(c.kind)
		w.String(cutReason(c.reason))
	}
	w.End()
	return w.Buffer()
}

var errControl = errors.New("gonetic: malformed control message")

// parseControl decodes a control payload (after controlMark).
func parseControl(r message.Reader, b []byte) (control, error) {
	var c control
	r.Reset(b)
	n, err := r.Array()
	if err != nil || n < 1 {
		return c, fmt.Errorf("%w: %v", errControl, err)
	}
	if c.kind, err = r.String(); err != nil {
		return c, fmt.Errorf("%w: kind: %v", errControl, err)
	}
	switch c.kind {
	case ctlHello:
		if n != 5 && n != 6 && n != 8 {
			return c, fmt.Errorf("%w: hello has %d elements, want 5, 6 or 8", errControl, n)
		}
		if c.version, err = r.Uint(); err != nil {
			return c, fmt.Errorf("%w: hello version: %v", errControl, err)
		}
		if c.codec, err = r.String(); err != nil {
			return c, fmt.Errorf("%w: hello codec: %v", errControl, err)
		}
		if c.hash, err = r.Bytes(); err != nil {
			return c, fmt.Errorf("%w: hello hash: %v", errControl, err)
		}
		if len(c.hash) != len(message.Hash{}) {
			return c, fmt.Errorf("%w: hello hash is %d bytes, want %d", errControl, len(c.hash), len(message.Hash{}))
		}
		m, err := r.Array()
		if err != nil {
			return c, fmt.Errorf("%w: hello types: %v", errControl, err)
		}
		if m > r.Len() { // each line takes at least one byte
			return c, fmt.Errorf("%w: hello claims %d types in %d bytes", errControl, m, r.Len())
		}
		c.lines = make([]string, m)
		for i := range c.lines {
			if c.lines[i], err = r.String(); err != nil {
				return c, fmt.Errorf("%w: hello type %d: %v", errControl, i+1, err)
			}
		}
		if err := r.End(); err != nil {
			return c, fmt.Errorf("%w: %v", errControl, err)
		}
		if n >= 6 {
			// Copied: the approval keeps it, and it may outlive the
			// buffer it was read from. The size is the server's to judge
			// (MaxHelloBytes), with a refusal, not a protocol error.
			data, err := r.Bytes()
			if err != nil {
				return c, fmt.Errorf("%w: hello data: %v", errControl, err)
			}
			if len(data) > 0 {
				c.data = append([]byte(nil), data...)
			}
		}
		if n == 8 {
			ticket, err := r.Bytes()
			if err != nil {
				return c, fmt.Errorf("%w: hello ticket: %v", errControl, err)
			}
			if len(ticket) == 0 || len(ticket) > token.MaxTicketSize {
				return c, fmt.Errorf("%w: hello ticket is %d bytes, want 1 to %d", errControl, len(ticket), token.MaxTicketSize)
			}
			c.ticket = append([]byte(nil), ticket...)
			if c.random, err = parseRandom(r); err != nil {
				return c, fmt.Errorf("%w: hello client random: %v", errControl, err)
			}
		}
	case ctlSession:
		if n != 2 {
			return c, fmt.Errorf("%w: session has %d elements, want 2", errControl, n)
		}
		if c.random, err = parseRandom(r); err != nil {
			return c, fmt.Errorf("%w: session server random: %v", errControl, err)
		}
	case ctlWelcome:
		if n != 2 {
			return c, fmt.Errorf("%w: welcome has %d elements, want 2", errControl, n)
		}
		if c.version, err = r.Uint(); err != nil {
			return c, fmt.Errorf("%w: welcome version: %v", errControl, err)
		}
	case ctlPing:
		if n != 2 {
			return c, fmt.Errorf("%w: ping has %d elements, want 2", errControl, n)
		}
		if c.stamp, err = r.Uint(); err != nil {
			return c, fmt.Errorf("%w: ping stamp: %v", errControl, err)
		}
	case ctlPong:
		if n != 2 && n != 3 {
			return c, fmt.Errorf("%w: pong has %d elements, want 2 or 3", errControl, n)
		}
		if c.stamp, err = r.Uint(); err != nil {
			return c, fmt.Errorf("%w: pong stamp: %v", errControl, err)
		}
		if n == 3 {
			if c.clock, err = r.Uint(); err != nil {
				return c, fmt.Errorf("%w: pong clock: %v", errControl, err)
			}
			c.hasClock = true
		}
	case ctlRefuse, ctlBye:
		if n != 2 {
			return c, fmt.Errorf("%w: %s has %d elements, want 2", errControl, c.kind, n)
		}
		if c.reason, err = r.String(); err != nil {
			return c, fmt.Errorf("%w: %s reason: %v", errControl, c.kind, err)
		}
		c.reason = cutReason(c.reason)
	default:
		return c, fmt.Errorf("%w: unknown kind %q", errControl, cutReason(c.kind[:min(len(c.kind), 32)]))
	}
	if err := r.End(); err != nil {
		return c, fmt.Errorf("%w: %v", errControl, err)
	}
	if r.Len() != 0 {
		return c, fmt.Errorf("%w: %d trailing bytes", errControl, r.Len())
	}
	return c, nil
}

// parseRandom reads a session random: bin of randomSize bytes, copied.
func parseRandom(r message.Reader) ([]byte, error) {
	b, err := r.Bytes()
	if err != nil {
		return nil, err
	}
	if len(b) != randomSize {
		return nil, fmt.Errorf("%d bytes, want %d", len(b), randomSize)
	}
	return append([]byte(nil), b...), nil
}

// checkHello compares a client's hello with the server's registry and
// returns why they cannot talk, or "" when they can. The reason is worded
// for both sides ("client" and "server").
func checkHello(f *message.Factory, h control) string {
	if h.version != ProtocolVersion {
		return fmt.Sprintf("protocol version differs: client %d, server %d", h.version, ProtocolVersion)
	}
	if h.codec != f.Codec().Name() {
		return fmt.Sprintf("codec differs: client %q, server %q; use the same serialization adapter on both ends", h.codec, f.Codec().Name())
	}
	hash := f.Hash()
	if string(h.hash) != string(hash[:]) {
		diff := f.Diff(h.lines, "server", "client")
		if diff == "" {
			diff = "same types, so the registries differ in a way the client's list does not show"
		}
		// The difference first: a refusal to a peer that has not shown it
		// receives at its address may be cut to the size of its hello.
		return fmt.Sprintf("message registry differs: %s; register the same types in the same order on both ends (client hash %x, server hash %s)", diff, h.hash, hash)
	}
	return ""
}

// pingKind reports whether a payload is a ping or a pong, by its bytes:
// 0x00, fixarray(2), fixstr(4) "ping"; or 0x00, fixarray(2 or 3), fixstr(4)
// "pong". The adapter goroutine checks every payload with it, so it must
// be cheap.
func pingKind(p []byte) string {
	if len(p) < 8 || p[0] != controlMark || p[2] != 0xa4 || p[3] != 'p' {
		return ""
	}
	switch string(p[4:7]) {
	case "ing":
		if p[1] == 0x92 {
			return ctlPing
		}
	case "ong":
		if p[1] == 0x92 || p[1] == 0x93 {
			return ctlPong
		}
	}
	return ""
}
