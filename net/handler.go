package net

import (
	"fmt"

	"github.com/gonetic/gonetic/message"
)

// Handler is the embeddable base of a handler struct: embed it to reach
// the connection (and, on a server, the server) from the handler's
// methods.
//
//	type ChatHandler struct {
//		gnet.Handler
//	}
//
//	func (h *ChatHandler) NetChatMsg(m Chat) {
//		h.Server().Broadcast(&m, h.Conn())
//	}
//
// See package handler for the methods a handler may have.
type Handler struct {
	conn   *Conn
	server *Server
}

func (h *Handler) base() *Handler { return h }

// Conn is the handler's connection.
func (h *Handler) Conn() *Conn { return h.conn }

// Server is the server that accepted the connection, or dialed it
// (Server.Connect); nil on a client.
func (h *Handler) Server() *Server { return h.server }

// Dispatcher is a Server or a Client: what On registers function handlers
// with.
type Dispatcher interface {
	endpoint() *endpoint
}

// On registers fn for messages of type T on every connection of d, for
// programs that prefer functions to handler structs. A connection's handler
// method for T, if it has one, takes precedence. Call it before the first
// Update, from the goroutine that calls Update.
func On[T any](d Dispatcher, fn func(c *Conn, msg T)) error {
	e := d.endpoint()
	var zero T
	t := e.factory.TypeOf(zero)
	if t == nil {
		return fmt.Errorf("%w: %T", message.ErrNotRegistered, zero)
	}
	call, err := t.Bind(func(m T) { fn(e.funcConn, m) })
	if err != nil {
		return err
	}
	e.funcs[t.ID()-1] = call
	return nil
}

// OnValue registers fn for messages of the dynamic type with the given
// name, as On does for struct types.
func OnValue(d Dispatcher, name string, fn func(c *Conn, msg message.Value)) error {
	e := d.endpoint()
	t := e.factory.ByName(name)
	if t == nil {
		return fmt.Errorf("%w: %q", message.ErrUnknownType, name)
	}
	call, err := t.Bind(func(m message.Value) { fn(e.funcConn, m) })
	if err != nil {
		return err
	}
	e.funcs[t.ID()-1] = call
	return nil
}
