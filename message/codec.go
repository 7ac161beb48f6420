package message

// Codec is a serialization adapter: it writes and reads the values a message
// is made of. adapters/msgpack (the default) and adapters/json implement it.
//
// A message travels as an array [typeID, field1, field2, …]; a nested
// struct as the array of its fields, a slice or array of them as an array
// of those. The Factory walks a message's fields and calls a Writer or
// Reader once per value, so a codec never sees Go structs on the fast path
// and encoding needs no reflection. Values of other kinds (slices and maps
// of plain values, structs with an encoding of their own, interface
// fields) go through Writer.Value and Reader.Value, the codec's own
// general encoding.
type Codec interface {
	// Name is part of the registry hash: two ends with different codecs
	// refuse each other at the handshake.
	Name() string
	// NewWriter returns a Writer. Each goroutine needs its own.
	NewWriter() Writer
	// NewReader returns a Reader. Each goroutine needs its own.
	NewReader() Reader
}

// Writer appends encoded values to a byte slice. It is not safe for
// concurrent use; Reset makes it reusable without allocating.
type Writer interface {
	// Reset starts a new encoding appended to dst (which may be nil).
	Reset(dst []byte)
	// Array starts an array of n values; End closes it after the n values.
	Array(n int)
	End()
	Nil()
	Bool(v bool)
	Int(v int64)
	Uint(v uint64)
	Float32(v float32)
	Float64(v float64)
	String(v string)
	Bytes(v []byte)
	// Value encodes any other Go value with the codec's general encoding.
	Value(v any) error
	// Buffer returns dst with everything written since Reset appended.
	Buffer() []byte
}

// Reader decodes values from a byte slice, in the order a Writer wrote them.
// Every method returns an error, never panics, on truncated or malformed
// input or on a value of another kind than asked for. It is not safe for
// concurrent use.
type Reader interface {
	// Reset starts reading src. The Reader does not keep src past the
	// values it returns: strings are copied.
	Reset(src []byte)
	// Array reads an array header and returns its length; End checks the
	// array's end (a no-op for formats without a terminator).
	Array() (int, error)
	End() error
	// IsNil consumes a nil and reports true if the next value is nil.
	IsNil() bool
	Bool() (bool, error)
	Int() (int64, error)
	Uint() (uint64, error)
	Float64() (float64, error)
	String() (string, error)
	// Bytes returns a copy of a byte string.
	Bytes() ([]byte, error)
	// Value decodes the next value into the value ptr points to, with the
	// codec's general decoding.
	Value(ptr any) error
	// Any decodes the next value as a generic Go value: nil, bool, int64,
	// uint64, float64, string, []byte, []any or map[string]any.
	Any() (any, error)
	// Skip steps over the next value, whatever it is.
	Skip() error
	// Len is the number of bytes not yet read. Every value takes one of
	// them at least, an array's header too: the Factory checks the length
	// Array returns against Len before it allocates a slice that long.
	Len() int
}
