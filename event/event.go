// Package event holds gonetic's typed events and the bounded queue they
// wait in.
//
// Events are opt-in: a program that handles everything in handler structs
// never sees them. A program that prefers polling turns the queue on (a
// non-zero EventQueue in package net's configs), calls Update every frame
// and then drains the queue with Poll:
//
//	for ev, ok := srv.Poll(); ok; ev, ok = srv.Poll() {
//		switch ev := ev.(type) {
//		case gnet.Received:
//			…
//		}
//	}
//
// The event types are generic over the connection type so that this
// package stays below package net; package net gives them short names
// (gnet.Connected, gnet.Received, …).
package event

import "github.com/gonetic/gonetic/message"

// Event is one of Connected, Accepted, Disconnected, Refused and Received.
// The set is sealed: no other package can add to it.
type Event interface {
	event()
}

// Connected: a client's connection finished its handshake and is open.
type Connected[C any] struct{ Conn C }

// Accepted: a server accepted a connection; its handshake is done.
type Accepted[C any] struct{ Conn C }

// Disconnected: a connection ended, or a client's connection attempt
// failed. Reason says why; it is never nil.
type Disconnected[C any] struct {
	Conn   C
	Reason error
}

// Refused: a server refused a peer during the handshake (a different
// registry, codec or protocol version, or the server is full). The peer
// was told the same reason.
type Refused struct {
	Addr   string
	Reason error
}

// Received: a message arrived. Msg is the registered struct type T, or a
// message.Value for a dynamic type.
type Received[C any] struct {
	Conn C
	Type *message.Type
	Msg  any
}

func (Connected[C]) event()    {}
func (Accepted[C]) event()     {}
func (Disconnected[C]) event() {}
func (Refused) event()         {}
func (Received[C]) event()     {}
