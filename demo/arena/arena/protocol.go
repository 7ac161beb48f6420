package arena

import (
	"github.com/gonetic/gonetic/message"
	gnet "github.com/gonetic/gonetic/net"
)

// The arena protocol's messages. Register registers them in the order they
// are declared here; that order is their type id on the wire.

// Join asks to play under Name (client → server). The server answers
// Welcome, then sends You and Snapshot every tick and Roster when players
// come and go.
type Join struct {
	Name string
}

// Welcome tells a client its player's id, where it starts, and the arena
// it plays in (server → client).
type Welcome struct {
	ID            uint32
	X, Y          float64
	It            bool
	Width, Height float64
	TickRate      int // ticks per second
}

// Entry is one player of a Roster.
type Entry struct {
	ID   uint32
	Name string
	Bot  bool
}

// Roster lists every player (server → client), sent to everyone when one
// joins or leaves: names travel here once, not in every Snapshot.
type Roster struct {
	Players []Entry
}

// Input is one tick of a client's keyboard (client → server): Seq is the
// number game.Predictor.Apply gave it. The server applies inputs in Seq
// order, one per tick, and acknowledges the last one applied in You.
// Reliable: a lost input would make the prediction diverge.
type Input struct {
	Seq  uint32
	Keys Keys
}

// You is a client's own authoritative state after the input numbered Ack
// (server → client, every tick): for game.Predictor.Reconcile. Positions
// are float64 so that the client replays from exactly the server's state.
type You struct {
	Tick  uint64
	Ack   uint32
	X, Y  float64
	It    bool
	Score uint32
}

// Player is one player in a Snapshot.
type Player struct {
	ID    uint32
	X, Y  float32
	It    bool
	Score uint32 // seconds not being it
}

// Snapshot is the world as a client's view sees it at one tick (server →
// client, every tick): At is the tick's server time (Unix nanoseconds),
// for game.Interpolator. With interest management on it holds the players
// near the client, and one Snapshot is encoded per view, not per client.
type Snapshot struct {
	Tick    uint64
	At      int64
	Players []Player
}

// Channels: inputs and control are reliable on channel 0; snapshots and
// the per-client state each have an unreliable sequenced channel, so that
// over ENet a lost one is never resent (the next tick's supersedes it) and
// never holds up the reliable stream. Over TCP everything is reliable and
// in order anyway.
const (
	chanControl  = 0
	chanSnapshot = 1
	chanYou      = 2
)

// NewFactory returns the arena protocol's registry with the default codec
// (msgpack).
func NewFactory() *message.Factory {
	f := gnet.NewFactory()
	Register(f)
	return f
}

// Register registers the arena protocol's message types with f, in
// protocol order. It panics if f is frozen or already has one of the
// names, which only a programming mistake can cause.
func Register(f *message.Factory) {
	c2s, s2c := message.SentBy(message.ClientToServer), message.SentBy(message.ServerToClient)
	message.MustRegister[Join](f, c2s, message.MaxSize(256))
	message.MustRegister[Welcome](f, s2c)
	message.MustRegister[Roster](f, s2c)
	message.MustRegister[Input](f, c2s, message.MaxSize(64))
	message.MustRegister[You](f, s2c, message.Channel(chanYou), message.Deliver(message.Sequenced))
	message.MustRegister[Snapshot](f, s2c, message.Channel(chanSnapshot), message.Deliver(message.Sequenced))
}
