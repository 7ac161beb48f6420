package flow

import (
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/gonetic/gonetic/adapters/msgpack"
	"github.com/gonetic/gonetic/message"
	"github.com/gonetic/gonetic/net/transport"
)

// Limits and defaults.
const (
	// InitialWindow is the credit every flow starts with in each direction,
	// before the receiver's first flow_credit: a sender may send this many
	// chunk bytes right after flow_open. Part of the protocol.
	InitialWindow = 64 << 10
	// MaxChunkSize is the largest chunk, header or success value, in bytes;
	// receivers refuse more. Part of the protocol.
	MaxChunkSize = 1<<20 - 1024

	// DefaultWindow and DefaultChunkSize are the defaults of a dedicated
	// listener and its clients: large, for throughput.
	DefaultWindow    = 2 << 20
	DefaultChunkSize = 256 << 10
	// DefaultStationWindow and DefaultStationChunkSize are the defaults of
	// a Station: small chunks, so that game messages wait little behind
	// one; a Station's throughput is bounded by Config.InFlight anyway.
	DefaultStationWindow    = 512 << 10
	DefaultStationChunkSize = 16 << 10
	// DefaultStationRate is the default Config.Rate of a Station, in bytes
	// per second: on a 2-vCPU VM with nothing else running, flows at this
	// rate leave the game's p99 round trip within about twice its idle
	// value (BenchmarkGameRTT); unlimited, they multiply it several times.
	DefaultStationRate = 100_000_000
	// DefaultMaxPacket is the default Config.MaxPacket.
	DefaultMaxPacket = 16 << 20
	// DefaultMaxFlows is the default Config.MaxFlows.
	DefaultMaxFlows = 64
	// DefaultInFlight is the default Config.InFlight of a Station.
	DefaultInFlight = 64 << 10
	// DefaultMaxConns is the default ServerConfig.MaxConns.
	DefaultMaxConns = 256
	// DefaultHandshakeTimeout is the default handshake bound of the
	// dedicated listener.
	DefaultHandshakeTimeout = 10 * time.Second
	// DefaultWatchInterval is how often a Station checks the connections
	// that carry flows, to end the flows of those that closed.
	DefaultWatchInterval = 50 * time.Millisecond
)

// Config is what every carrier has in common. The zero value of every field
// means its documented default.
type Config struct {
	// Window is the credit window of one flow in one direction, in chunk
	// bytes as they travel: how much a sender may have sent that the
	// receiving code has not consumed yet. A slow handler stops its own
	// sender at this bound, and only that sender; it bounds the memory a
	// flow takes at the receiver. Default DefaultWindow (2 MiB) for a
	// dedicated listener, DefaultStationWindow (512 KiB) for a Station; at
	// least InitialWindow. The two ends may differ.
	Window int
	// ChunkSize is the most packet bytes (before compression) sent in one
	// frame: packets are batched up to it, and a larger packet is split.
	// Over a shared connection it bounds how long a game message waits
	// behind a chunk. Default DefaultChunkSize (256 KiB) for a dedicated
	// listener, DefaultStationChunkSize (16 KiB) for a Station; at most
	// MaxChunkSize. The two ends may differ.
	ChunkSize int
	// MaxPacket is the largest packet, in bytes, this end sends or
	// accepts. Sending a larger one fails the flow with ErrTooLarge at the
	// sender; receiving one fails it too. Set the same on both ends.
	// Default 16 MiB.
	MaxPacket int
	// MaxFlows is how many flows this end handles at once, over all its
	// connections; the next one is refused with ErrTooManyFlows. Default 64.
	MaxFlows int
	// InFlight applies to a Station only: over each connection, the most
	// chunk bytes sent and not yet received by the peer's Update, all flows
	// together. It bounds how much bulk data a game message can find ahead
	// of it, so it trades flow throughput (at most InFlight per round trip
	// of the peer's Update loop) for game latency. Default 64 KiB, at least
	// 32 KiB; negative means no limit.
	InFlight int
	// Rate is the most chunk bytes per second one connection sends, all
	// its flows together (in bursts of 10 ms worth at most). On a game server
	// a bulk flow at full speed takes every CPU it can, and game messages
	// then wait for one; a rate leaves them room. Default: no limit for a
	// dedicated listener, DefaultStationRate (100 MB/s) for a Station;
	// negative means no limit.
	Rate int
	// Codec encodes packets, headers and values that are not []byte. For a
	// Station it must be nil or the factory's codec (the default there);
	// elsewhere the default is msgpack. Both ends must use the same.
	Codec message.Codec
	// Logger receives flow-level logs (handler panics, protocol errors,
	// refused flows); never one line per packet. Default: discard.
	Logger *slog.Logger
}

func (c Config) withDefaults(window, chunkSize, rate int) (Config, error) {
	if c.Window == 0 {
		c.Window = window
	}
	if c.Window < InitialWindow {
		return c, fmt.Errorf("flow: Config.Window %d is below InitialWindow (%d)", c.Window, InitialWindow)
	}
	if c.ChunkSize == 0 {
		c.ChunkSize = chunkSize
	}
	if c.ChunkSize < 64 || c.ChunkSize > MaxChunkSize {
		return c, fmt.Errorf("flow: Config.ChunkSize %d outside 64..%d", c.ChunkSize, MaxChunkSize)
	}
	if c.MaxPacket == 0 {
		c.MaxPacket = DefaultMaxPacket
	}
	if c.MaxPacket < 0 {
		return c, fmt.Errorf("flow: Config.MaxPacket %d is negative", c.MaxPacket)
	}
	if c.MaxFlows == 0 {
		c.MaxFlows = DefaultMaxFlows
	}
	if c.MaxFlows < 0 {
		return c, fmt.Errorf("flow: Config.MaxFlows %d is negative", c.MaxFlows)
	}
	if c.InFlight == 0 {
		c.InFlight = DefaultInFlight
	}
	if c.InFlight > 0 && c.InFlight < 2*ackEvery {
		return c, fmt.Errorf("flow: Config.InFlight %d is below %d", c.InFlight, 2*ackEvery)
	}
	if c.Rate == 0 {
		c.Rate = rate
	}
	c.Rate = max(c.Rate, 0)
	if c.Codec == nil {
		c.Codec = msgpack.New()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return c, nil
}

// ServerConfig configures Listen, the dedicated flow listener.
type ServerConfig struct {
	Config
	// Addr is the address to listen on: "host:port" over TCP, or the
	// Transport's address form when Transport is set. Default
	// "127.0.0.1:0" (a free port on loopback; see Server.Addr).
	Addr string
	// MaxConns is the most clients connected at once; the next is refused.
	// Default 256.
	MaxConns int
	// HandshakeTimeout bounds a client's handshake. Default 10 s.
	HandshakeTimeout time.Duration
	// Transport, if set, is the network adapter that carries the
	// connections: Listen calls its Listen with Addr, and the protocol,
	// handshake, credits, compression and errors are those of the default
	// carrier, one frame per payload on channel 0 (Reliable), with
	// payloads up to a full chunk frame (Listen sets the adapter's
	// transport.Config). The adapter must deliver reliably and in order:
	// links that implement transport.Lossy (ENet) are refused. Default
	// nil: TCP sockets of the package's own, the fast path (no copy of a
	// chunk between socket and handler). Clients must use the same kind
	// of adapter.
	Transport transport.Transport
}

// ClientConfig configures Dial.
type ClientConfig struct {
	Config
	// Transport, if set, is the network adapter that carries the
	// connection, as ServerConfig.Transport: Dial's addr is then in its
	// address form, and a lossy adapter (transport.Lossy) is refused with
	// an error. Default nil: a TCP socket of the package's own.
	Transport transport.Transport
}
