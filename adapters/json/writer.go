package json

import (
	"encoding/base64"
	stdjson "encoding/json"
	"math"
	"strconv"
	"unicode/utf8"
)

// writer appends compact JSON to buf. Every method but Value is
// hand-written and allocation-free once buf has room.
type writer struct {
	buf   []byte
	depth int  // arrays opened by Array and not yet closed by End
	comma bool // a value was written at this depth: the next needs a separator
	enc   *stdjson.Encoder
}

func (w *writer) Reset(dst []byte) {
	w.buf = dst
	w.depth = 0
	w.comma = false
}

func (w *writer) Buffer() []byte { return w.buf }

// sep writes the separator the next value needs: a comma inside an array,
// a newline between values outside any array.
func (w *writer) sep() {
	if w.comma {
		if w.depth > 0 {
			w.buf = append(w.buf, ',')
		} else {
			w.buf = append(w.buf, '\n')
		}
	}
	w.comma = true
}

// Array writes '['; JSON needs no count, so n is not used.
func (w *writer) Array(n int) {
	w.sep()
	w.buf = append(w.buf, '[')
	w.depth++
	w.comma = false
}

func (w *writer) End() {
	w.buf = append(w.buf, ']')
	if w.depth > 0 {
		w.depth--
	}
	w.comma = true
}

func (w *writer) Nil() {
	w.sep()
	w.buf = append(w.buf, "null"...)
}

func (w *writer) Bool(v bool) {
	w.sep()
	w.buf = strconv.AppendBool(w.buf, v)
}

func (w *writer) Int(v int64) {
	w.sep()
	w.buf = strconv.AppendInt(w.buf, v, 10)
}

func (w *writer) Uint(v uint64) {
	w.sep()
	w.buf = strconv.AppendUint(w.buf, v, 10)
}

func (w *writer) Float32(v float32) {
	w.sep()
	w.buf = appendFloat(w.buf, float64(v), 32)
}

func (w *writer) Float64(v float64) {
	w.sep()
	w.buf = appendFloat(w.buf, v, 64)
}

func (w *writer) String(v string) {
	w.sep()
	w.buf = appendString(w.buf, v)
}

func (w *writer) Bytes(v []byte) {
	w.sep()
	w.buf = append(w.buf, '"')
	w.buf = base64.StdEncoding.AppendEncode(w.buf, v)
	w.buf = append(w.buf, '"')
}

// Value encodes v with encoding/json (without HTML escaping), appending to
// the same buffer. On error nothing is appended.
func (w *writer) Value(v any) error {
	if w.enc == nil {
		w.enc = stdjson.NewEncoder((*sink)(w))
		w.enc.SetEscapeHTML(false)
	}
	mark, comma := len(w.buf), w.comma
	w.sep()
	if err := w.enc.Encode(v); err != nil {
		w.buf, w.comma = w.buf[:mark], comma
		return err
	}
	if n := len(w.buf); n > mark && w.buf[n-1] == '\n' { // Encode ends with one
		w.buf = w.buf[:n-1]
	}
	return nil
}

// sink is the writer seen as the io.Writer the encoder writes to.
type sink writer

func (s *sink) Write(p []byte) (int, error) {
	s.buf = append(s.buf, p...)
	return len(p), nil
}

// appendFloat formats f as encoding/json does; NaN and infinities, which
// JSON cannot hold, become null.
func appendFloat(b []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) ||
			bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' { // e-09 → e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hex = "0123456789abcdef"

// appendString appends s as a JSON string, escaped as encoding/json does
// without HTML escaping.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xf])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' { // valid JSON, but not valid JavaScript
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
