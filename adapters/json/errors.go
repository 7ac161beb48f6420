package json

import (
	"errors"
	"fmt"
)

// Errors a Reader wraps; test for them with errors.Is.
var (
	// ErrTruncated means the input ends inside a value.
	ErrTruncated = errors.New("json: truncated input")
	// ErrType means the next value is of another kind than asked for.
	ErrType = errors.New("json: unexpected type")
	// ErrRange means the next value is of the right kind but does not fit.
	ErrRange = errors.New("json: value out of range")
	// ErrInvalid means the input is not JSON or nests deeper than the limit.
	ErrInvalid = errors.New("json: invalid input")
)

// decodeError is a Reader error: a precise message that unwraps to one of
// the sentinels above.
type decodeError struct {
	kind error
	msg  string
}

func (e *decodeError) Error() string { return "json: " + e.msg }
func (e *decodeError) Unwrap() error { return e.kind }

func errorf(kind error, format string, args ...any) error {
	return &decodeError{kind: kind, msg: fmt.Sprintf(format, args...)}
}
