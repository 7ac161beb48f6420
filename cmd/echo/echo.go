package main

import (
	"errors"
	"io"
	"log/slog"

	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/net/transport"
)

// Echo is the echo Protocol: it writes back the data of every frame.
type Echo struct {
	t   Transport
	log *slog.Logger
}

// NewEchoFactory returns a Factory of Echo protocols that log connections
// to log.
func NewEchoFactory(log *slog.Logger) Factory {
	return func() Protocol { return &Echo{log: log} }
}

// ConnectionMade keeps the connection.
func (e *Echo) ConnectionMade(t Transport) {
	e.t = t
	e.log.Debug("connection made", "peer", t.Peer())
}

// DataReceived writes data back. A peer that does not read its echoes,
// so that they pile up, is cut off. Data that arrives while the server
// stops is not echoed.
func (e *Echo) DataReceived(data []byte) {
	err := e.t.Write(data)
	if errors.Is(err, transport.ErrQueueFull) {
		e.log.Warn("dropping a peer that does not read", "peer", e.t.Peer(), "err", err)
		e.t.AbortConnection()
	}
}

// ConnectionLost logs the end of the connection.
func (e *Echo) ConnectionLost(reason error) {
	if reason == nil || errors.Is(reason, io.EOF) {
		e.log.Debug("connection lost", "peer", e.t.Peer())
		return
	}
	e.log.Info("connection lost", "peer", e.t.Peer(), "reason", reason)
}

// Framing reads Twisted's byte-count frames, "<length> <data>", and writes
// each reply bare, as Twisted's echo server does: the framing of the
// requests only.
type Framing struct{ tcp.ByteCount }

// AppendFrame appends payload to dst as it is.
func (Framing) AppendFrame(dst, payload []byte) ([]byte, error) {
	return append(dst, payload...), nil
}
