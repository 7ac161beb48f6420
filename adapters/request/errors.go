package request

import (
	"context"
	"errors"
	"fmt"
	"syscall"
)

// Errors of package request.
var (
	// ErrTimeout matches (with errors.Is) the error a request returns when
	// its context's deadline passed before the reply came. That error also
	// matches context.DeadlineExceeded, and it and ErrTimeout are net.Error
	// values whose Timeout method reports true. An empty reply is never an
	// error: it is a nil error and a reply of length 0.
	ErrTimeout error = timeoutError{}

	// ErrServerClosed is what Serve and ServeOne return once the Server is
	// closed.
	ErrServerClosed = errors.New("request: server closed")

	// ErrNoReply is matched by the error of a request whose connection
	// closed before a whole reply came: the server closed it, crashed or
	// does not speak this protocol.
	ErrNoReply = errors.New("request: the connection closed before the reply came")

	// ErrForeignPeer is matched by the error of a binary-mode request
	// whose peer answered with bytes that are no reply frame: it does not
	// speak gonetic request/reply (an HTTP server, another protocol, a
	// line-mode server). The error quotes the peer's first bytes. Check
	// the address, or the mode (Options.Lines, DoLineRequest).
	ErrForeignPeer = errors.New("request: the peer does not speak gonetic request/reply")

	// ErrTooLarge is matched by the error of a request, or of a reply,
	// larger than Options.MaxSize.
	ErrTooLarge = errors.New("request: larger than Options.MaxSize")

	// ErrLineBreak is returned, in line mode, for a request holding a CR
	// or LF other than one final CRLF: the peer would read it as more than
	// one line. Send such a request in binary mode.
	ErrLineBreak = errors.New("request: line mode: the request holds a CR or LF (only one final CRLF is allowed); use binary mode for multi-line requests")

	// ErrLineTooLong is returned, in line mode, for a request line longer
	// than Options.MaxLine.
	ErrLineTooLong = errors.New("request: line mode: request line longer than Options.MaxLine")
)

// RemoteError is the error a request returns when the server's handler
// failed or panicked: Message is the handler's error text, or "panic: "
// and the panic value. In binary mode only: a line-mode server sends the
// message as text (see the package documentation), which a line-mode
// client cannot tell from a reply.
type RemoteError struct {
	Message string
}

// Error returns "request: server error: " and Message.
func (e *RemoteError) Error() string { return "request: server error: " + e.Message }

// DialError is the error a request returns when it cannot connect: Err is
// the dialer's error. When nothing listens at Address (the connection was
// refused), errors.Is(err, syscall.ECONNREFUSED) is true and the message
// says so.
type DialError struct {
	Address string
	Err     error
}

// Error says that nothing listens at Address when the connection was
// refused, that it cannot connect otherwise, and gives Err.
func (e *DialError) Error() string {
	if errors.Is(e.Err, syscall.ECONNREFUSED) {
		return "request: nothing listens at " + e.Address + ": " + e.Err.Error()
	}
	return "request: cannot connect to " + e.Address + ": " + e.Err.Error()
}

// Unwrap returns Err.
func (e *DialError) Unwrap() error { return e.Err }

// timeoutError is ErrTimeout: a net.Error that timed out.
type timeoutError struct{}

func (timeoutError) Error() string   { return "request: timed out" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

// deadlineError is what a request returns when its context's deadline
// passed: a net.Error with Timeout true, matching both ErrTimeout and
// context.DeadlineExceeded.
type deadlineError struct {
	address string
	during  string // "connecting", "waiting for the reply"
}

func (e *deadlineError) Error() string {
	return fmt.Sprintf("request: %s: timed out %s (context deadline exceeded)", e.address, e.during)
}
func (e *deadlineError) Timeout() bool   { return true }
func (e *deadlineError) Temporary() bool { return true }
func (e *deadlineError) Is(target error) bool {
	return target == ErrTimeout || target == context.DeadlineExceeded
}

// contextError is the error of a request whose context ended while it was
// connecting or waiting.
func contextError(ctx context.Context, address, during string) error {
	err := ctx.Err()
	if errors.Is(err, context.DeadlineExceeded) {
		return &deadlineError{address: address, during: during}
	}
	return fmt.Errorf("request: %s: %s: %w", address, during, err)
}

// dialError is the error of a failed connect.
func dialError(ctx context.Context, address string, err error) error {
	if ctx.Err() != nil {
		return contextError(ctx, address, "connecting")
	}
	return &DialError{Address: address, Err: err}
}

// foreignPeerError is the error of a request whose peer does not speak
// the protocol: it matches ErrForeignPeer and quotes the peer's first bytes.
type foreignPeerError struct {
	address string
	first   []byte // at most foreignShown+1 bytes: one more means there were more
}

func (e *foreignPeerError) Error() string {
	more := ""
	first := e.first
	if len(first) > foreignShown {
		first, more = first[:foreignShown], "…"
	}
	return fmt.Sprintf("request: the peer at %s does not speak gonetic request/reply (binary mode): its first bytes are %q%s; check the address, or use line mode (DoLineRequest) for a text server",
		e.address, first, more)
}

func (e *foreignPeerError) Is(target error) bool { return target == ErrForeignPeer }
