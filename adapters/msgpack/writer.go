package msgpack

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/vmihailenco/msgpack/v5"
)

// writer appends MessagePack to buf. Every method but Value is hand-written
// and allocation-free once buf has room.
type writer struct {
	buf []byte
	enc *msgpack.Encoder // for Value, created on first use; writes to buf
}

func (w *writer) Reset(dst []byte) { w.buf = dst }
func (w *writer) Buffer() []byte   { return w.buf }

func (w *writer) Array(n int) {
	switch {
	case n >= 0 && n < 16:
		w.buf = append(w.buf, 0x90|byte(n))
	case n >= 0 && n <= math.MaxUint16:
		w.buf = append(w.buf, 0xdc, byte(n>>8), byte(n))
	case n >= 0 && uint64(n) <= math.MaxUint32:
		w.buf = binary.BigEndian.AppendUint32(append(w.buf, 0xdd), uint32(n))
	default:
		panic(fmt.Sprintf("msgpack: array of %d values cannot be encoded", n))
	}
}

// End is a no-op: a MessagePack array is closed by its length.
func (w *writer) End() {}

func (w *writer) Nil() { w.buf = append(w.buf, 0xc0) }

func (w *writer) Bool(v bool) {
	if v {
		w.buf = append(w.buf, 0xc3)
	} else {
		w.buf = append(w.buf, 0xc2)
	}
}

func (w *writer) Int(v int64) {
	switch {
	case v >= 0:
		w.Uint(uint64(v))
	case v >= -32:
		w.buf = append(w.buf, byte(v)) // negative fixint
	case v >= math.MinInt8:
		w.buf = append(w.buf, 0xd0, byte(v))
	case v >= math.MinInt16:
		w.buf = append(w.buf, 0xd1, byte(v>>8), byte(v))
	case v >= math.MinInt32:
		w.buf = binary.BigEndian.AppendUint32(append(w.buf, 0xd2), uint32(v))
	default:
		w.buf = binary.BigEndian.AppendUint64(append(w.buf, 0xd3), uint64(v))
	}
}

func (w *writer) Uint(v uint64) {
	switch {
	case v <= 0x7f:
		w.buf = append(w.buf, byte(v)) // positive fixint
	case v <= math.MaxUint8:
		w.buf = append(w.buf, 0xcc, byte(v))
	case v <= math.MaxUint16:
		w.buf = append(w.buf, 0xcd, byte(v>>8), byte(v))
	case v <= math.MaxUint32:
		w.buf = binary.BigEndian.AppendUint32(append(w.buf, 0xce), uint32(v))
	default:
		w.buf = binary.BigEndian.AppendUint64(append(w.buf, 0xcf), v)
	}
}

func (w *writer) Float32(v float32) {
	w.buf = binary.BigEndian.AppendUint32(append(w.buf, 0xca), math.Float32bits(v))
}

func (w *writer) Float64(v float64) {
	w.buf = binary.BigEndian.AppendUint64(append(w.buf, 0xcb), math.Float64bits(v))
}

func (w *writer) String(v string) {
	n := len(v)
	if b := w.buf; n < 32 && cap(b)-len(b) > n { // the usual case: one check, one copy
		l := len(b)
		b = b[:l+1+n]
		b[l] = 0xa0 | byte(n)
		copy(b[l+1:], v)
		w.buf = b
		return
	}
	switch {
	case n < 32:
		w.buf = append(w.buf, 0xa0|byte(n))
	case n <= math.MaxUint8:
		w.buf = append(w.buf, 0xd9, byte(n))
	case n <= math.MaxUint16:
		w.buf = append(w.buf, 0xda, byte(n>>8), byte(n))
	case uint64(n) <= math.MaxUint32:
		w.buf = binary.BigEndian.AppendUint32(append(w.buf, 0xdb), uint32(n))
	default:
		panic(fmt.Sprintf("msgpack: string of %d bytes cannot be encoded", n))
	}
	w.buf = append(w.buf, v...)
}

func (w *writer) Bytes(v []byte) {
	w.buf = append(AppendBytesHeader(w.buf, len(v)), v...)
}

// AppendBytesHeader appends to dst what Writer.Bytes writes before a byte
// string of n bytes (bin 8, 16 or 32, the shortest), without the bytes:
// for a framing that places them itself, so as not to copy them (flow
// chunks). Like Bytes, it panics for a length the format cannot carry.
func AppendBytesHeader(dst []byte, n int) []byte {
	switch {
	case n >= 0 && n <= math.MaxUint8:
		return append(dst, 0xc4, byte(n))
	case n >= 0 && n <= math.MaxUint16:
		return append(dst, 0xc5, byte(n>>8), byte(n))
	case n >= 0 && uint64(n) <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(dst, 0xc6), uint32(n))
	}
	panic(fmt.Sprintf("msgpack: byte string of %d bytes cannot be encoded", n))
}

// Value encodes v with vmihailenco/msgpack (compact integers), appending to
// the same buffer. On error nothing is appended.
func (w *writer) Value(v any) error {
	if w.enc == nil {
		w.enc = msgpack.NewEncoder((*sink)(w))
		w.enc.UseCompactInts(true)
	}
	mark := len(w.buf)
	if err := w.enc.Encode(v); err != nil {
		w.buf = w.buf[:mark]
		return err
	}
	return nil
}

// sink is the writer seen as the io.Writer and io.ByteWriter the encoder
// writes to.
type sink writer

func (s *sink) Write(p []byte) (int, error) {
	s.buf = append(s.buf, p...)
	return len(p), nil
}

func (s *sink) WriteByte(c byte) error {
	s.buf = append(s.buf, c)
	return nil
}
