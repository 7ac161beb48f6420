package flow

import (
	"errors"
	"fmt"
)

// Code says why a flow ended early. Codes 1 to 7 travel in flow_fail
// frames; the others are only ever seen locally.
type Code uint8

// Why a flow ended early.
const (
	// CodeHandler: the handler returned an error or panicked. The message
	// is the error's text.
	CodeHandler Code = 1
	// CodeAborted: the side that opened the flow gave up: its context was
	// cancelled, its packet iterator panicked, or it stopped reading the
	// result.
	CodeAborted Code = 2
	// CodeTooManyFlows: the handling side already runs its maximum number
	// of flows (Config.MaxFlows) and refused this one.
	CodeTooManyFlows Code = 3
	// CodeNoHandler: no handler is registered under the requested name.
	CodeNoHandler Code = 4
	// CodeTooLarge: a packet, header or value was larger than allowed.
	CodeTooLarge Code = 5
	// CodeProtocol: the peer broke the flow protocol.
	CodeProtocol Code = 6
	// CodeClosing: the peer is shutting down.
	CodeClosing Code = 7
	// CodeConnLost: the connection carrying the flow broke or closed. Local
	// only.
	CodeConnLost Code = 8
	// CodeClosed: this end was closed (Close) while the flow ran. Local
	// only.
	CodeClosed Code = 9
)

// String names the code: "handler failed", "aborted", ….
func (c Code) String() string {
	switch c {
	case CodeHandler:
		return "handler failed"
	case CodeAborted:
		return "aborted"
	case CodeTooManyFlows:
		return "too many flows"
	case CodeNoHandler:
		return "no such handler"
	case CodeTooLarge:
		return "too large"
	case CodeProtocol:
		return "protocol error"
	case CodeClosing:
		return "peer closing"
	case CodeConnLost:
		return "connection lost"
	case CodeClosed:
		return "closed"
	}
	return fmt.Sprintf("code(%d)", uint8(c))
}

// Sentinel errors, for errors.Is on what a flow ended with. Every error a
// flow ends with is an *Error, which matches the sentinels of its Code.
var (
	// ErrHandler matches a flow whose handler returned an error or
	// panicked (CodeHandler). errors.As to *Error gives the message.
	ErrHandler = errors.New("flow: the handler failed")
	// ErrAborted matches every early end of a flow but the handler's own
	// verdict (ErrHandler): the opener gave up (CodeAborted), the
	// connection was lost, either end closed, a packet was too large, a
	// refusal, a protocol error. Whenever a handler's packet range ends
	// early, its error matches it.
	ErrAborted = errors.New("flow: aborted")
	// ErrConnLost matches a flow whose connection broke (CodeConnLost).
	ErrConnLost = errors.New("flow: connection lost")
	// ErrTooManyFlows matches a flow refused because the handling side
	// runs Config.MaxFlows flows already (CodeTooManyFlows).
	ErrTooManyFlows = errors.New("flow: too many concurrent flows; retry later or raise Config.MaxFlows on the handling side")
	// ErrNoHandler matches a flow whose name has no handler (CodeNoHandler).
	ErrNoHandler = errors.New("flow: no handler registered under that name")
	// ErrTooLarge matches a flow that ended because a packet, a header or a
	// value was over its limit (CodeTooLarge). The sender reports it before
	// sending anything of the oversized packet.
	ErrTooLarge = errors.New("flow: packet larger than Config.MaxPacket")
	// ErrProtocol matches a flow ended by a protocol violation (CodeProtocol).
	ErrProtocol = errors.New("flow: protocol error")
	// ErrClosed matches a flow ended because an end closed (CodeClosing,
	// CodeClosed), and is returned by calls on a closed Server, Client or
	// Station.
	ErrClosed = errors.New("flow: closed")
)

// Error is what a flow ended with, at either end.
type Error struct {
	// Name is the flow's handler name.
	Name string
	// Code says why.
	Code Code
	// Remote is true when the other end reported the failure (in a
	// flow_fail frame); Message is then its text.
	Remote bool
	// Message is the detail: a handler's error text, an abort reason.
	Message string
	// Err is the local cause, when there is one: the context's error, a
	// *PanicError, the connection's error. Nil when Remote.
	Err error
}

// Error says which flow, why, who reported it, and the detail.
func (e *Error) Error() string {
	who := ""
	if e.Remote {
		who = " (reported by the peer)"
	}
	msg := e.Message
	if msg == "" && e.Err != nil {
		msg = e.Err.Error()
	}
	if msg == "" {
		return fmt.Sprintf("flow %q: %s%s", e.Name, e.Code, who)
	}
	return fmt.Sprintf("flow %q: %s%s: %s", e.Name, e.Code, who, msg)
}

// Unwrap returns the local cause, if any.
func (e *Error) Unwrap() error { return e.Err }

// Is matches the sentinel errors of e's Code.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrHandler:
		return e.Code == CodeHandler
	case ErrAborted:
		return e.Code != CodeHandler
	case ErrConnLost:
		return e.Code == CodeConnLost
	case ErrTooManyFlows:
		return e.Code == CodeTooManyFlows
	case ErrNoHandler:
		return e.Code == CodeNoHandler
	case ErrTooLarge:
		return e.Code == CodeTooLarge
	case ErrProtocol:
		return e.Code == CodeProtocol
	case ErrClosed:
		return e.Code == CodeClosing || e.Code == CodeClosed
	}
	return false
}

// PanicError is the cause of a flow ended by a panic in user code that
// runs on a goroutine of this package: the client's packet iterator, or a
// handler. It carries the panic value and the stack.
type PanicError struct {
	Value any
	Stack []byte
}

// Error is "panic: " and the panic value.
func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }
