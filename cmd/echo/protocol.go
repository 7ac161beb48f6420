package main

import (
	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/net/transport"
)

// Protocol is what a server does with one connection, as in Twisted: a
// Factory makes one Protocol value per connection; ConnectionMade is called
// first, then DataReceived with each frame's data, then ConnectionLost once.
//
// The calls for one connection come one at a time, from that connection's
// reader goroutine; different connections' calls may run at once. data is
// valid only during the call.
type Protocol interface {
	// ConnectionMade gives the protocol its connection.
	ConnectionMade(t Transport)
	// DataReceived is given one frame's data.
	DataReceived(data []byte)
	// ConnectionLost reports the end of the connection: nil after a local
	// close, io.EOF when the peer closed it, or what broke it, such as a
	// *transport.FrameError for a malformed frame.
	ConnectionLost(reason error)
}

// Factory makes the Protocol for a new connection.
type Factory func() Protocol

// Transport is a Protocol's connection. Its methods are safe to call from
// any goroutine.
type Transport interface {
	// Write queues data for the peer, framed by the server's framing, and
	// copies it before returning. It never blocks on the network; it fails
	// if the connection is closing or the peer is not reading.
	Write(data []byte) error
	// LoseConnection sends what is queued, then closes the connection.
	LoseConnection()
	// AbortConnection closes the connection at once, dropping what is
	// queued.
	AbortConnection()
	// Peer is the peer's address, as "host:port".
	Peer() string
}

// ListenTCP listens on addr with the TCP adapter configured by opts and
// cfg, and runs a Protocol from factory on every connection. Closing the
// returned listener closes every connection gracefully and waits for them.
func ListenTCP(addr string, opts tcp.Options, cfg transport.Config, factory Factory) (transport.Listener, error) {
	return tcp.New(opts).Listen(addr, cfg, func(l transport.Link) transport.Sink {
		p := factory()
		// The adapter starts reading only once Accept returns, so
		// ConnectionMade comes before any DataReceived.
		p.ConnectionMade(link{l})
		return sink{p}
	})
}

// link is a Transport over a transport.Link.
type link struct{ l transport.Link }

func (k link) Write(data []byte) error { return k.l.Send(0, transport.Reliable, data) }
func (k link) LoseConnection()         { k.l.Close() }
func (k link) AbortConnection()        { k.l.Abort() }
func (k link) Peer() string            { return k.l.RemoteAddr() }

// sink hands a link's events to its Protocol.
type sink struct{ p Protocol }

func (s sink) Receive(_ uint8, payload []byte) { s.p.DataReceived(payload) }
func (s sink) Closed(err error)                { s.p.ConnectionLost(err) }
