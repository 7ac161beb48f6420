package net

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/gonetic/gonetic/adapters/msgpack"
	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/message"
	"github.com/gonetic/gonetic/net/transport"
)

// NewFactory returns an empty message registry with the default codec,
// msgpack. Use message.NewFactory to choose another one (adapters/json).
func NewFactory() *message.Factory { return message.NewFactory(msgpack.New()) }

// Defaults of the config fields.
const (
	DefaultMaxConns         = 1024
	DefaultMaxMessageSize   = transport.DefaultMaxPayload
	DefaultInboxBytes       = 8 << 20
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultPingInterval     = time.Second
	DefaultTimeout          = 15 * time.Second
)

// Config is what Server and Client have in common. The zero value of every
// field means its documented default.
type Config struct {
	// Factory is the message registry; both ends must register the same
	// types in the same order, with the same codec. Required. It is frozen
	// when the Server or Client is created.
	Factory *message.Factory
	// Transport is the network adapter. Default: TCP (adapters/tcp), one
	// ordered stream per connection: every message arrives, in order,
	// whatever its delivery mode. adapters/enet honours channels and
	// delivery modes.
	Transport transport.Transport
	// EventQueue turns on typed events (see Poll) with a queue of this many
	// events. Default 0: no events; handlers only. When the queue is full,
	// Update stops reading from the network until the game drains it, so
	// nothing is dropped and senders slow down.
	EventQueue int
	// MaxMessageSize is the largest encoded message, in bytes, sent or
	// received. Default DefaultMaxMessageSize (1 MiB). A peer that sends a
	// larger one is disconnected with a reason.
	MaxMessageSize int
	// InboxBytes bounds what arrived and waits for Update. When it is full
	// the adapter stops reading (backpressure). It also bounds what a
	// client keeps of the messages that overtook the server's welcome
	// (ENet, on another channel), and those that overtook the server's
	// session on a sealed connection (WithToken). Default 8 MiB.
	InboxBytes int
	// HandshakeTimeout bounds the handshake. Default 10 s.
	HandshakeTimeout time.Duration
	// PingInterval is how often Update pings each open connection. The
	// peer's adapter goroutine answers at once, which measures the RTT on
	// adapters that do not (TCP), gives a client the server's clock
	// (Conn.ServerTime), and keeps idle connections alive. Default 1 s;
	// negative turns pings off (and so Timeout, and a client's estimate of
	// the server's clock: ServerTime is then the local clock).
	PingInterval time.Duration
	// Timeout disconnects a peer from which nothing (not even a pong)
	// arrived for this long: the peer is sent the reason "timed out:
	// nothing heard from the peer for 15s", and the handler hears of it at
	// once, with a DisconnectError wrapping ErrTimeout. Default 15 s.
	Timeout time.Duration
	// Logger receives connection-level logs (accepts, refusals,
	// disconnects), never one line per message. Default: discard.
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if c.Factory == nil {
		return c, fmt.Errorf("gonetic: Config.Factory is required: create one with gnet.NewFactory() and register your message types")
	}
	if c.Transport == nil {
		c.Transport = tcp.New(tcp.Options{})
	}
	if c.EventQueue < 0 {
		return c, fmt.Errorf("gonetic: Config.EventQueue is %d; use 0 for no events or a positive capacity", c.EventQueue)
	}
	if c.MaxMessageSize <= 0 {
		c.MaxMessageSize = DefaultMaxMessageSize
	}
	if c.InboxBytes <= 0 {
		c.InboxBytes = DefaultInboxBytes
	}
	if c.InboxBytes < c.MaxMessageSize {
		c.InboxBytes = c.MaxMessageSize
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.PingInterval == 0 {
		c.PingInterval = DefaultPingInterval
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.PingInterval > 0 && c.Timeout <= c.PingInterval {
		return c, fmt.Errorf("gonetic: Config.Timeout (%v) must be longer than PingInterval (%v)", c.Timeout, c.PingInterval)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return c, nil
}

// ServerConfig configures Listen.
type ServerConfig struct {
	Config
	// Addr is the address to listen on, "host:port". Default
	// "127.0.0.1:0" (a free port on loopback; see Server.Addr).
	Addr string
	// MaxConns is the most open connections the server accepted;
	// connection MaxConns+1 is refused with the reason "server full: it
	// allows N connections" when its hello arrives, or at once, before its
	// hello, when 64 more are already in their handshake. One host (IP
	// address) may have at most 64 connections in their handshake at once;
	// the next one from it is refused at once, before its hello
	// (docs/PROTOCOL.md). The connections the server dials (Server.Connect)
	// count in none of these bounds. Default 1024.
	MaxConns int
	// NewHandler returns the handler for one accepted connection (see
	// package handler); nil means connections have no handler. Listen
	// calls it once to check the handler's methods, and that handler
	// serves the first connection; Update calls it for each later one.
	NewHandler func() any
	// Approve, if set, decides whether a client may connect, from what
	// its hello carries (Hello.Data, which the client gives WithHello)
	// and its address. It returns the value Conn.Identity will report
	// (the player it let in), or an error to refuse: the error's text
	// is the reason the client gets, in a DisconnectError wrapping
	// ErrRefused, cut to MaxReasonBytes as every reason is. Until it
	// accepts, the connection is not open: no handler is made, no
	// OnConnect runs, no event is queued, and Connections, Broadcast and
	// SendTo do not reach it.
	//
	// It runs on a goroutine of its own for each hello, never on the game
	// loop, so a slow check (a database, a web backend) does not delay
	// Update; its outcome is applied by a later Update. As many run at
	// once as connections are in their handshake, which MaxConns bounds
	// (see there). ctx is done when the connection's HandshakeTimeout
	// passes (the client is then refused with "handshake timed out",
	// whatever Approve returns later), when the client leaves, and when
	// the server closes: Approve must return soon after, because Close
	// waits for it. Nil: every client whose registry matches is accepted,
	// and its hello data is ignored.
	Approve func(ctx context.Context, h Hello) (identity any, err error)
	// Tokens, if set, admits only clients with a connect token (package
	// token; the client passes it with WithToken) that token.Open
	// accepts with Tokens.Key, for Tokens.Server, now, and that the
	// server's token.Guard admits from the client's address; it refuses
	// the others with the reason: the token's error (expired, for
	// another server, forged or sealed with another key, in use from
	// another address) or "this server admits only clients with a
	// connect token (net.WithToken)". Every payload of an admitted
	// connection is sealed, both ways (Conn.Sealed), from before Approve
	// runs; Approve sees the token's Hello.Grant, and without Approve
	// Conn.Identity is that *token.Grant. Nil: no tokens, and a client
	// that sends one is refused with "this server does not take connect
	// tokens". Listen copies it, and fails when Key or Server is unset.
	Tokens *Tokens
}

// ClientConfig configures NewClient.
type ClientConfig struct {
	Config
}
