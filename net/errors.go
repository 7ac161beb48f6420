package net

import (
	"errors"
	"fmt"
	"strings"
)

// Errors of the connection API.
var (
	// ErrNotConnected: Send on a connection whose handshake has not
	// finished. Send from OnConnect on, or wait for the Connected event.
	ErrNotConnected = errors.New("gonetic: connection not open yet: send from OnConnect on")
	// ErrClosed: the connection, Server or Client is closed or closing.
	ErrClosed = errors.New("gonetic: closed")
	// ErrConcurrentUpdate: Update (or Dial, which runs it) was called
	// while another goroutine was inside it. Call them from one goroutine,
	// the game loop. Shutdown is the exception: see Server.Shutdown.
	ErrConcurrentUpdate = errors.New("gonetic: Update called from two goroutines at once; call it from the game loop only")
	// ErrRefused is wrapped by the reason a handshake was refused.
	ErrRefused = errors.New("gonetic: connection refused")
	// ErrTimeout is wrapped by the reason of a connection that ended
	// because the peer was silent for Config.Timeout, or because its
	// handshake took longer than Config.HandshakeTimeout.
	ErrTimeout = errors.New("gonetic: timed out")
)

// DisconnectError is the reason a connection ended, as given to
// OnDisconnect and in the Disconnected event.
type DisconnectError struct {
	// Remote is true when the peer ended the connection (or refused it).
	Remote bool
	// Reason is the text given to Disconnect, by this side or the peer;
	// empty when the link broke without one.
	Reason string
	// Err is the underlying error when the link broke or a handshake was
	// refused: io.EOF, a network error, ErrRefused, a decode error.
	Err error
}

// Error says who ended the connection, the reason and the error.
func (e *DisconnectError) Error() string {
	who := "disconnected"
	if e.Remote {
		who = "disconnected by peer"
	}
	switch {
	case e.Reason != "" && e.Err != nil && (e.Err == ErrTimeout || e.Err == ErrRefused || strings.Contains(e.Reason, e.Err.Error())):
		return fmt.Sprintf("gonetic: %s: %s", who, e.Reason) // the reason says it
	case e.Reason != "" && e.Err != nil:
		return fmt.Sprintf("gonetic: %s: %s (%v)", who, e.Reason, e.Err)
	case e.Reason != "":
		return fmt.Sprintf("gonetic: %s: %s", who, e.Reason)
	case e.Err != nil:
		return fmt.Sprintf("gonetic: connection lost: %v", e.Err)
	}
	return "gonetic: " + who
}

// Unwrap returns Err, for errors.Is and errors.As.
func (e *DisconnectError) Unwrap() error { return e.Err }
