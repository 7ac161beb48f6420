// Package json is a [message.Codec] that speaks JSON: slower and bigger than
// package msgpack, but readable, and easy for a browser or a script.
//
// A Writer appends compact JSON. The chat message [1, "Tom", "Test message"]
// is the text [1,"Tom","Test message"]. Strings are escaped as encoding/json
// escapes them, without its HTML escaping: invalid UTF-8 becomes \ufffd,
// U+2028 and U+2029 are escaped. Byte strings are base64 strings (standard
// encoding, padded), as in encoding/json; Bytes(nil) writes "". JSON has no NaN or infinity: a
// Writer writes null for them. Floats are formatted as encoding/json does,
// so a float with an integral value is written without a fraction
// (Float64(2) writes 2). Values written one after another outside any array
// are separated by a newline. Writer.Value uses encoding/json.
//
// A Reader is a small tokenizer over the input. Whitespace is allowed
// between tokens.
//
//   - Array counts the array's values before returning; End checks that the
//     array ends there.
//   - Int and Uint accept integer literals only: 1.5 and 1e3 are errors
//     ([ErrType]); a literal that does not fit is [ErrRange]. Float64
//     accepts any number.
//   - String accepts a string; Bytes accepts a base64 string or null (a nil
//     slice).
//   - Any returns nil, bool, string, []any, map[string]any, and for
//     numbers int64 when the literal is an integer that fits, uint64 when it
//     is an integer from 2⁶³ to 2⁶⁴−1, float64 otherwise. Byte strings come
//     back as their base64 string; JSON cannot tell them apart. Of
//     duplicate object keys, the last wins.
//   - Value uses encoding/json on exactly the bytes of the next value.
//   - Skip, Any, Value and Array refuse values nested more than 100 deep
//     ([ErrInvalid]).
//   - Truncated or malformed input is an error, never a panic. A method
//     that returns an error leaves the Reader where it was.
package json
