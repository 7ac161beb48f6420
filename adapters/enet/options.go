package enet

import (
	"errors"
	"fmt"
	"time"

	"github.com/gonetic/gonetic/net/transport"
)

// Wire constants. A gonetic ENet client connects with ConnectData as the
// 32-bit data of enet_host_connect; a listener refuses any other value by
// disconnecting the peer with DisconnectMismatch.
const (
	// ConnectMagic is the high 24 bits of the connect data: "gnt".
	ConnectMagic uint32 = 0x676E74
	// ProtocolVersion is the low 8 bits of the connect data: the version
	// of what this adapter adds to ENet (docs/PROTOCOL.md, "ENet"), apart
	// from gonetic's protocol version, which the handshake carries. A
	// listener accepts only its own version. Version 2 added bundles;
	// version 1 ends had none.
	ProtocolVersion uint8 = 2
	// ConnectData is the 32-bit ENet connect data: ConnectMagic<<8 |
	// ProtocolVersion = 0x676E7402.
	ConnectData = ConnectMagic<<8 | uint32(ProtocolVersion)
)

// Disconnect codes: the 32-bit data of the ENet disconnect a peer sends.
// Zero is never sent: ENet reports a timed-out peer with zero, so a zero
// from the other side reads as ErrTimeout.
const (
	DisconnectClose     uint32 = 1 // Link.Close or Listener.Close, after flushing: the peer sees io.EOF
	DisconnectAbort     uint32 = 2 // Link.Abort: the peer sees ErrAborted
	DisconnectRefused   uint32 = 3 // the listener's Accept refused the link, or it is closing: ErrRefused
	DisconnectMismatch  uint32 = 4 // wrong ConnectData: ErrMismatch
	DisconnectTooLarge  uint32 = 5 // a payload above the receiver's MaxPayload: ErrTooLarge
	DisconnectMalformed uint32 = 6 // a bundle the receiver could not split: ErrMalformed
)

// Errors a link's Sink may see, besides io.EOF and *transport.FrameError,
// and ErrQueueFull from Send.
var (
	// ErrQueueFull is returned by Send when the link already holds
	// Options.QueueLimit bytes that ENet has not taken yet. It matches
	// transport.ErrQueueFull.
	ErrQueueFull = transport.QueueFull("enet: send queue full: the peer is not keeping up (send less, or raise Options.QueueLimit)")
	// ErrTimeout closes a link whose peer stopped acknowledging, and fails
	// a Dial that got no answer. It is a net.Error whose Timeout() is true.
	ErrTimeout error = timeoutError{}
	// ErrAborted closes a link whose peer called Abort.
	ErrAborted = errors.New("enet: peer aborted the link")
	// ErrRefused closes a link the listener refused (Accept returned nil,
	// or the listener was closing).
	ErrRefused = errors.New("enet: peer refused the link")
	// ErrMismatch closes a link whose peer speaks another protocol or
	// version (its connect data was not ConnectData).
	ErrMismatch = fmt.Errorf("enet: peer refused the link: protocol mismatch (this side sends connect data %#08x)", ConnectData)
	// ErrTooLarge closes a link whose peer received a payload above its
	// own Config.MaxPayload from this side.
	ErrTooLarge = errors.New("enet: peer closed the link: a payload exceeded its Config.MaxPayload")
	// ErrMalformed closes a link whose peer received a bundle from this
	// side that it could not split (see docs/PROTOCOL.md): a bug in one of
	// the two ends, or a peer that is not gonetic.
	ErrMalformed = errors.New("enet: peer closed the link: it received a malformed bundle from this side")
)

type timeoutError struct{}

func (timeoutError) Error() string   { return "enet: peer timed out" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

// Defaults of Options, and the most peer slots ENet has.
const (
	DefaultPeerLimit       = 1024 + 64 // package net's DefaultMaxConns and its 64 half-open connections
	MaxPeerLimit           = 4095      // ENET_PROTOCOL_MAXIMUM_PEER_ID
	DefaultInFlight        = 1024
	DefaultInFlightBytes   = 1 << 20
	DefaultQueueLimit      = 64 << 20
	DefaultShutdownTimeout = 2 * time.Second
	// DefaultHalfOpenPerAddress is Options.HalfOpenPerAddress's default:
	// package net's bound on one host's connections in their handshake.
	DefaultHalfOpenPerAddress = 64
)

// maxChannels is ENet's channel limit (ENET_PROTOCOL_MAXIMUM_CHANNEL_COUNT).
const maxChannels = 255

// entryOverhead is what each queued payload counts against QueueLimit
// beyond its bytes, and each received one against the inbox limit: empty
// payloads cost memory too.
const entryOverhead = 16

// Options tune a Transport. The zero value is the default; every field
// documents its own.
type Options struct {
	// IncomingBandwidth and OutgoingBandwidth, in bytes per second, are
	// what each host tells its peers; ENet throttles to them. Default 0:
	// unlimited.
	IncomingBandwidth, OutgoingBandwidth uint32
	// Compress turns on ENet's range coder for every datagram. Both ends
	// must agree: a host without it drops compressed datagrams. Default off.
	Compress bool
	// PeerLimit is how many peers a listener serves at once (ENet's peer
	// slots; a connect beyond them takes the slot of a peer that has not
	// completed its own connect, if any, see Half-open peers in the
	// package doc, and otherwise goes unanswered and times out at the
	// client). Default DefaultPeerLimit, 1088: package net's default
	// MaxConns (1024) plus the 64 connections it lets handshake beyond
	// it, so that a default server answers connection 1025 with "server
	// full". Maximum MaxPeerLimit, 4095; raise it with MaxConns.
	//
	// ENet walks its peer slots on every service, used or not, so the
	// adapter lets it walk only those up to the last one in use plus some
	// slack, growing the part as peers connect: a high PeerLimit costs
	// nothing until peers use it. That takes libenet internals: with an
	// untested libenet, ENet walks them all (see the package doc, libenet
	// versions). docs/PERF.md has what slots and peers cost.
	PeerLimit int
	// InFlight bounds the packets of one link that ENet holds (queued,
	// sent and not yet acknowledged); the rest wait in Go. libenet 1.3.17
	// slows down quadratically when it holds many. Default 1024.
	InFlight int
	// InFlightBytes bounds their bytes (a bundle's with its framing):
	// ENet gets another packet
	// while it holds fewer, so it may hold up to one packet more than
	// this; one packet of any size is always let through. Default 1 MiB.
	InFlightBytes int
	// QueueLimit bounds the bytes one link holds in Go that ENet has not
	// taken yet (each payload counts 16 bytes more than its length); Send
	// fails with ErrQueueFull beyond it. It is raised to MaxPayload when
	// lower. Default 64 MiB.
	QueueLimit int
	// PeerTimeout is how long a peer may leave every reliable command
	// unacknowledged before its link closes with ErrTimeout (it also bounds
	// Dial, and how long a listener holds a half-open peer). Default 0:
	// ENet's maximum, 30 s (see Loss in the package doc; with libenet's
	// public API only, 5 to 30 s depending on the round trip). Package
	// net's Config.Timeout usually ends a silent peer first.
	PeerTimeout time.Duration
	// HalfOpenPerAddress bounds the peers from one IP address that a
	// listener holds half-open: their CONNECT received, the reply not yet
	// acknowledged (see Half-open peers in the package doc). A CONNECT
	// beyond it takes the place of that address's oldest half-open peer
	// once that one has had a second to answer, and is dropped before (its
	// client resends it). Default 64 (DefaultHalfOpenPerAddress), as many
	// as package net lets one host have in their handshake: players behind
	// one NAT, or a load test, connect 64 handshakes at a time. Load tests
	// that connect hundreds of clients from one machine at once may raise
	// it (up to PeerLimit).
	HalfOpenPerAddress int
	// ShutdownTimeout bounds how long Listener.Close lets its links flush
	// before dropping them. Default 2 s.
	ShutdownTimeout time.Duration
	// NoBundling sends every payload as an ENet packet of its own. By
	// default, payloads that wait for ENet together (sent between two
	// rounds of the host, or held back by the in-flight bounds) on the same
	// channel with the same delivery go out as bundles: one ENet packet of
	// up to one datagram that carries several payloads (docs/PROTOCOL.md).
	// Nothing waits to be bundled; a payload sent alone goes alone. A
	// bundle costs ENet one packet, one command and one acknowledgement
	// instead of one per payload: see the package's Bundles section for
	// what that buys. Receivers always accept bundles.
	NoBundling bool
}

func (o *Options) withDefaults() (Options, error) {
	var c Options
	if o != nil {
		c = *o
	}
	switch {
	case c.PeerLimit < 0 || c.PeerLimit > MaxPeerLimit:
		return c, fmt.Errorf("enet: Options.PeerLimit %d outside 0…%d", c.PeerLimit, MaxPeerLimit)
	case c.InFlight < 0, c.InFlightBytes < 0, c.QueueLimit < 0:
		return c, errors.New("enet: Options.InFlight, InFlightBytes and QueueLimit must not be negative")
	case c.PeerTimeout < 0, c.ShutdownTimeout < 0:
		return c, errors.New("enet: Options.PeerTimeout and ShutdownTimeout must not be negative")
	case c.HalfOpenPerAddress < 0:
		return c, errors.New("enet: Options.HalfOpenPerAddress must not be negative")
	case c.PeerTimeout > 0 && c.PeerTimeout < 10*time.Millisecond:
		return c, errors.New("enet: Options.PeerTimeout below 10ms")
	}
	if c.PeerLimit == 0 {
		c.PeerLimit = DefaultPeerLimit
	}
	if c.InFlight == 0 {
		c.InFlight = DefaultInFlight
	}
	if c.InFlightBytes == 0 {
		c.InFlightBytes = DefaultInFlightBytes
	}
	if c.QueueLimit == 0 {
		c.QueueLimit = DefaultQueueLimit
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.HalfOpenPerAddress == 0 {
		c.HalfOpenPerAddress = DefaultHalfOpenPerAddress
	}
	return c, nil
}

// checkConfig applies the transport defaults and ENet's limits.
func checkConfig(cfg transport.Config) (transport.Config, error) {
	cfg = cfg.WithDefaults()
	if cfg.Channels > maxChannels {
		return cfg, fmt.Errorf("enet: Config.Channels %d above ENet's %d", cfg.Channels, maxChannels)
	}
	if cfg.MaxPayload > 1<<30 {
		return cfg, fmt.Errorf("enet: Config.MaxPayload %d above 1 GiB", cfg.MaxPayload)
	}
	return cfg, nil
}

// Transport is the ENet network adapter; make one with New (a zero
// Transport uses the default Options). Its methods are safe for concurrent
// use.
type Transport struct {
	opts Options
	made bool // by New
}

var _ transport.Transport = (*Transport)(nil)

// New returns an ENet transport. opts may be nil for the defaults; it is
// copied. New fails when opts is invalid or the package was built without
// cgo.
func New(opts *Options) (*Transport, error) {
	if err := available(); err != nil {
		return nil, err
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Transport{opts: o, made: true}, nil
}

// settings returns t's options, the defaults for a Transport not made by
// New.
func (t *Transport) settings() Options {
	if !t.made {
		o, _ := (*Options)(nil).withDefaults()
		return o
	}
	return t.opts
}

// knobs let tests do what a broken or foreign peer does; nothing else sets
// them. A test sets them before it makes the hosts they apply to (they are
// read when a host is made, and by Dial), and resets them.
var knobs struct {
	rawSend     bool   // send payloads as they are: neither bundle nor wrap them
	inboxBytes  int    // a link's inbox limit, instead of inboxBytes
	connectData uint32 // what Dial connects with, instead of ConnectData
}

// Name returns "enet".
func (t *Transport) Name() string { return "enet" }
