// Package msgpack is gonetic's default serialization adapter: a
// [message.Codec] that speaks MessagePack (https://msgpack.org).
//
// The values a message is made of (arrays, nil, booleans, integers, floats,
// strings, byte strings) are encoded and decoded by hand, in the smallest
// MessagePack form, without reflection. The chat message
// [1, "Tom", "Test message"] is 19 bytes. Writing allocates nothing once the
// destination buffer has grown: pass the previous buffer, cut to zero
// length, to Writer.Reset. Reading allocates only the strings and byte
// slices it returns, and not a string of up to 32 bytes that the same
// Reader returned recently: a small cache shares it (a player's name, a
// command; the chat message decodes with no allocation, about 30 ns
// sooner). A string the cache has not seen costs about 15 ns more.
//
// Other Go values (slices and maps of plain values, structs with an
// encoding of their own such as time.Time; package message walks the other
// structs itself, as arrays) go through Writer.Value and Reader.Value, which
// use github.com/vmihailenco/msgpack/v5 with compact integers.
//
// # Decoding rules
//
//   - Int accepts every integer form whose value fits an int64, unsigned
//     forms included; Uint accepts every integer form with a non-negative
//     value; Float64 accepts float32, float64 and every integer form.
//   - String accepts str and bin; Bytes accepts bin, str and nil (as a nil
//     slice).
//   - Any returns nil, bool, int64 (uint64 only for values of 2⁶³ and more),
//     float64 (float32 widened), string, []byte, []any or map[string]any.
//     A map key that is not a str, and any ext value, is an error
//     ([ErrType]).
//   - Skip, Any and Value refuse values nested more than 100 deep
//     ([ErrInvalid]).
//   - A length is checked against the bytes left before anything is
//     allocated; truncated or malformed input is an error, never a panic.
//   - A method that returns an error leaves the Reader where it was.
//
// Writer methods cannot fail; a string, byte string or array longer than
// the format's limit of 2³²−1 is a programming error and panics. Bytes(nil)
// writes an empty bin; End writes nothing, as an array's length is in its
// header.
package msgpack
