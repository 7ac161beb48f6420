package message

import (
	"errors"
	"fmt"
)

// Registration errors.
var (
	ErrFrozen        = errors.New("message: factory is frozen: register every type before starting a Server or Client")
	ErrDuplicateName = errors.New("message: a type with this name is already registered")
	ErrBadFields     = errors.New("message: bad field list")
	ErrBadOption     = errors.New("message: bad option")
)

// Errors of packing and unpacking.
var (
	// ErrNotRegistered is returned when packing a value whose Go type was
	// never registered with Register.
	ErrNotRegistered = errors.New("message: type not registered; call message.Register for it on both ends")
	// ErrUnknownType is returned for a name or id the registry does not have.
	ErrUnknownType = errors.New("message: unknown message type")
	// ErrArity is returned when a message has another number of fields
	// than its type.
	ErrArity = errors.New("message: wrong number of fields")
	// ErrMalformed is returned for bytes that are not a message at all.
	ErrMalformed = errors.New("message: malformed message")
	// ErrDirection is returned for a message of a type that travels the
	// other way (see SentBy, Encoder.SetDirection, Decoder.SetDirection).
	ErrDirection = errors.New("message: type sent the other way")
	// ErrTooLarge is returned for a message larger than its type's MaxSize.
	ErrTooLarge = errors.New("message: message larger than its type's MaxSize")
)

// FieldError reports a field whose value could not be packed or unpacked.
type FieldError struct {
	Type  string // message type name
	Field string // field name
	Err   error
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("message: %s.%s: %v", e.Type, e.Field, e.Err)
}

func (e *FieldError) Unwrap() error { return e.Err }
