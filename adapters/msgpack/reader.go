package msgpack

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/bits"

	"github.com/vmihailenco/msgpack/v5"
)

const (
	// maxDepth is how deep Skip, Any and Value let containers nest.
	maxDepth = 100
	// maxPrealloc bounds the room Any makes for an array or map before
	// decoding its values: a header's count is checked against the bytes
	// left, but a []any takes 16 bytes per value where the input may take one.
	maxPrealloc = 1024
)

// reader decodes MessagePack from buf. The decoding itself is done by pure
// functions over (buf, position) that return the position after the value;
// the methods commit that position only on success, so an error leaves the
// reader where it was.
type reader struct {
	buf []byte
	pos int // 0 <= pos <= len(buf)

	// Short strings decoded before, by a hash of their bytes: a string
	// that comes again (a player's name, a command) is shared, not
	// allocated again (see intern). A reader is one endpoint's, reused for
	// every message it decodes.
	interned [internSlots]string

	dec *msgpack.Decoder // for Value, created on first use; reads br
	br  bytes.Reader
}

func (r *reader) Reset(src []byte) {
	r.buf = src
	r.pos = 0
}

func (r *reader) Len() int { return len(r.buf) - r.pos }

func (r *reader) Array() (int, error) {
	n, end, err := readArray(r.buf, r.pos)
	if err != nil {
		return 0, err
	}
	r.pos = end
	return n, nil
}

// End is a no-op: a MessagePack array is closed by its length.
func (r *reader) End() error { return nil }

func (r *reader) IsNil() bool {
	if r.pos < len(r.buf) && r.buf[r.pos] == 0xc0 {
		r.pos++
		return true
	}
	return false
}

func (r *reader) Bool() (bool, error) {
	if r.pos >= len(r.buf) {
		return false, errEOF("bool")
	}
	switch c := r.buf[r.pos]; c {
	case 0xc2, 0xc3:
		r.pos++
		return c == 0xc3, nil
	default:
		return false, errType("bool", c)
	}
}

func (r *reader) Int() (int64, error) {
	v, signed, end, err := readInt(r.buf, r.pos, "int")
	if err != nil {
		return 0, err
	}
	if !signed && v > math.MaxInt64 {
		return 0, errorf(ErrRange, "%d overflows int64", v)
	}
	r.pos = end
	return int64(v), nil
}

func (r *reader) Uint() (uint64, error) {
	v, signed, end, err := readInt(r.buf, r.pos, "uint")
	if err != nil {
		return 0, err
	}
	if signed && int64(v) < 0 {
		return 0, errorf(ErrRange, "%d is negative, want uint", int64(v))
	}
	r.pos = end
	return v, nil
}

func (r *reader) Float64() (float64, error) {
	b := r.buf[r.pos:]
	if len(b) == 0 {
		return 0, errEOF("float")
	}
	switch b[0] {
	case 0xca:
		if len(b) < 5 {
			return 0, errShort("float32", 4, len(b)-1)
		}
		r.pos += 5
		return float64(math.Float32frombits(binary.BigEndian.Uint32(b[1:]))), nil
	case 0xcb:
		if len(b) < 9 {
			return 0, errShort("float64", 8, len(b)-1)
		}
		r.pos += 9
		return math.Float64frombits(binary.BigEndian.Uint64(b[1:])), nil
	}
	v, signed, end, err := readInt(r.buf, r.pos, "float")
	if err != nil {
		return 0, err
	}
	r.pos = end
	if signed {
		return float64(int64(v)), nil
	}
	return float64(v), nil
}

func (r *reader) String() (string, error) {
	body, end, err := readBlob(r.buf, r.pos, "string")
	if err != nil {
		return "", err
	}
	r.pos = end
	return r.intern(body), nil
}

// Strings up to internMax bytes go through a direct-mapped cache of
// internSlots entries.
const (
	internMax   = 32
	internBits  = 6
	internSlots = 1 << internBits
)

// intern returns b as a string, the one decoded before when it is short and
// its slot holds it: two allocations fewer per chat message that a server
// decodes (player and text), at the cost of a hash of its first and last eight bytes.
// Strings are immutable, so sharing one is invisible to the game.
func (r *reader) intern(b []byte) string {
	if len(b) == 0 || len(b) > internMax {
		return string(b)
	}
	// Length and the first and last eight bytes (or all of fewer): a
	// collision costs only a miss, since the bytes are compared.
	h := uint64(len(b))
	if len(b) >= 8 {
		h ^= binary.LittleEndian.Uint64(b) ^ bits.RotateLeft64(binary.LittleEndian.Uint64(b[len(b)-8:]), 31)
	} else {
		for _, c := range b {
			h = h<<8 | uint64(c)
		}
	}
	slot := &r.interned[(h*0x9e3779b97f4a7c15)>>(64-internBits)]
	if *slot == string(b) { // compared without a copy
		return *slot
	}
	*slot = string(b)
	return *slot
}

func (r *reader) Bytes() ([]byte, error) {
	if r.pos < len(r.buf) && r.buf[r.pos] == 0xc0 {
		r.pos++
		return nil, nil
	}
	body, end, err := readBlob(r.buf, r.pos, "bytes")
	if err != nil {
		return nil, err
	}
	r.pos = end
	return append([]byte{}, body...), nil
}

// Value finds the extent of the next value with skip, then lets
// vmihailenco/msgpack decode exactly those bytes into ptr.
func (r *reader) Value(ptr any) error {
	end, err := skip(r.buf, r.pos, 0)
	if err != nil {
		return err
	}
	if r.dec == nil {
		r.dec = msgpack.NewDecoder(&r.br)
	}
	r.br.Reset(r.buf[r.pos:end])
	r.dec.ResetReader(&r.br)
	err = r.dec.Decode(ptr)
	r.br.Reset(nil) // keep no reference to the input
	if err != nil {
		return err
	}
	r.pos = end
	return nil
}

func (r *reader) Any() (any, error) {
	v, end, err := readAny(r.buf, r.pos, 0)
	if err != nil {
		return nil, err
	}
	r.pos = end
	return v, nil
}

func (r *reader) Skip() error {
	end, err := skip(r.buf, r.pos, 0)
	if err != nil {
		return err
	}
	r.pos = end
	return nil
}

// readInt reads an integer of any form at b[p:]. signed reports an int
// form, whose value is int64(v); v of an unsigned form is the value itself.
func readInt(b []byte, p int, want string) (v uint64, signed bool, end int, err error) {
	if p >= len(b) {
		return 0, false, p, errEOF(want)
	}
	c := b[p]
	switch {
	case c <= 0x7f:
		return uint64(c), false, p + 1, nil
	case c >= 0xe0:
		return uint64(int64(int8(c))), true, p + 1, nil
	}
	var n int
	switch c {
	case 0xcc, 0xd0:
		n = 1
	case 0xcd, 0xd1:
		n = 2
	case 0xce, 0xd2:
		n = 4
	case 0xcf, 0xd3:
		n = 8
	default:
		return 0, false, p, errType(want, c)
	}
	if len(b)-p-1 < n {
		return 0, false, p, errShort(kindOf(c), n, len(b)-p-1)
	}
	d := b[p+1:]
	switch c {
	case 0xcc:
		v = uint64(d[0])
	case 0xcd:
		v = uint64(binary.BigEndian.Uint16(d))
	case 0xce:
		v = uint64(binary.BigEndian.Uint32(d))
	case 0xcf:
		v = binary.BigEndian.Uint64(d)
	case 0xd0:
		v, signed = uint64(int64(int8(d[0]))), true
	case 0xd1:
		v, signed = uint64(int64(int16(binary.BigEndian.Uint16(d)))), true
	case 0xd2:
		v, signed = uint64(int64(int32(binary.BigEndian.Uint32(d)))), true
	case 0xd3:
		v, signed = binary.BigEndian.Uint64(d), true
	}
	return v, signed, p + 1 + n, nil
}

// readLength reads the size-byte (1, 2 or 4) length after the code byte at
// b[p]. It checks that the length is there, not what it counts.
func readLength(b []byte, p, size int) (n int, ok bool) {
	d := b[p+1:]
	if len(d) < size {
		return 0, false
	}
	switch size {
	case 1:
		return int(d[0]), true
	case 2:
		return int(binary.BigEndian.Uint16(d)), true
	}
	u := binary.BigEndian.Uint32(d)
	if uint64(u) > math.MaxInt { // 32-bit platforms: more than any input
		return math.MaxInt, true
	}
	return int(u), true
}

// ReadBytesHeader reads the header of the bin (byte string) at the start
// of src, in any of its three forms: the byte string's length n and the
// header's size. The n bytes follow the header and need not be in src:
// for a framing that reads them itself, so as not to copy them (flow
// chunks). It errs, never panics, on anything but a whole bin header.
func ReadBytesHeader(src []byte) (n, size int, err error) {
	if len(src) == 0 {
		return 0, 0, errEOF("bytes")
	}
	switch c := src[0]; c {
	case 0xc4:
		size = 1
	case 0xc5:
		size = 2
	case 0xc6:
		size = 4
	default:
		return 0, 0, errType("bytes", c)
	}
	n, ok := readLength(src, 0, size)
	if !ok {
		return 0, 0, errShort(kindOf(src[0])+" header", size, len(src)-1)
	}
	return n, 1 + size, nil
}

// readBlob returns the body of the str or bin at b[p:], not copied.
func readBlob(b []byte, p int, want string) (body []byte, end int, err error) {
	if p >= len(b) {
		return nil, p, errEOF(want)
	}
	c := b[p]
	var n, h int
	if c&0xe0 == 0xa0 { // fixstr
		n, h = int(c&0x1f), 1
	} else {
		var size int
		switch c {
		case 0xd9, 0xc4:
			size = 1
		case 0xda, 0xc5:
			size = 2
		case 0xdb, 0xc6:
			size = 4
		default:
			return nil, p, errType(want, c)
		}
		var ok bool
		if n, ok = readLength(b, p, size); !ok {
			return nil, p, errShort(kindOf(c)+" header", size, len(b)-p-1)
		}
		h = 1 + size
	}
	if have := len(b) - p - h; n > have {
		return nil, p, errShort(kindOf(c), n, have)
	}
	start := p + h
	return b[start : start+n : start+n], start + n, nil
}

// readArray reads an array header at b[p:]: the count and the position of
// the first value.
func readArray(b []byte, p int) (n, end int, err error) {
	n, h, err := readCount(b, p, "array", 0x90, 0xdc)
	if err != nil {
		return 0, p, err
	}
	if have := len(b) - p - h; n > have { // every value takes a byte at least
		return 0, p, errorf(ErrTruncated, "truncated array: %d values need %d bytes at least, have %d", n, n, have)
	}
	return n, p + h, nil
}

// readMap reads a map header at b[p:]: the number of pairs and the position
// of the first key.
func readMap(b []byte, p int) (n, end int, err error) {
	n, h, err := readCount(b, p, "map", 0x80, 0xde)
	if err != nil {
		return 0, p, err
	}
	if have := len(b) - p - h; n > have/2 { // every pair takes two bytes at least
		return 0, p, errorf(ErrTruncated, "truncated map: %d pairs need %d bytes at least, have %d", n, 2*uint64(n), have)
	}
	return n, p + h, nil
}

// readCount reads the header of an array or a map at b[p:]: fix is the
// fix-size form's high nibble (count in the low one), c16 the 16-bit form
// and c16+1 the 32-bit form. It returns the count and the header's length.
func readCount(b []byte, p int, what string, fix, c16 byte) (n, h int, err error) {
	if p >= len(b) {
		return 0, 0, errEOF(what)
	}
	switch c := b[p]; {
	case c&0xf0 == fix:
		return int(c & 0x0f), 1, nil
	case c == c16 || c == c16+1:
		size := 2
		if c == c16+1 {
			size = 4
		}
		n, ok := readLength(b, p, size)
		if !ok {
			return 0, 0, errShort(what+" header", size, len(b)-p-1)
		}
		return n, 1 + size, nil
	default:
		return 0, 0, errType(what, c)
	}
}

// skip returns the position after the value at b[p:], which is depth
// containers deep.
func skip(b []byte, p, depth int) (int, error) {
	if p >= len(b) {
		return p, errEOF("value")
	}
	c := b[p]
	switch {
	case c <= 0x7f || c >= 0xe0:
		return p + 1, nil
	case c&0xe0 == 0xa0:
		_, end, err := readBlob(b, p, "string")
		return end, err
	case c <= 0x8f, c == 0xde, c == 0xdf:
		n, q, err := readMap(b, p)
		if err != nil {
			return p, err
		}
		return skipValues(b, q, 2*n, depth)
	case c <= 0x9f, c == 0xdc, c == 0xdd:
		n, q, err := readArray(b, p)
		if err != nil {
			return p, err
		}
		return skipValues(b, q, n, depth)
	}
	size := 0 // bytes after the code byte, for fixed-size values
	switch c {
	case 0xc0, 0xc2, 0xc3:
		return p + 1, nil
	case 0xc1:
		return p, errorf(ErrInvalid, "reserved byte 0xc1")
	case 0xc4, 0xc5, 0xc6, 0xd9, 0xda, 0xdb:
		_, end, err := readBlob(b, p, "string")
		return end, err
	case 0xc7, 0xc8, 0xc9: // ext 8/16/32: length, type, data
		lsize := 1 << (c - 0xc7)
		n, ok := readLength(b, p, lsize)
		if !ok {
			return p, errShort("ext header", lsize, len(b)-p-1)
		}
		if have := len(b) - p - 1 - lsize; n > have-1 {
			return p, errShort("ext", n+1, have)
		}
		return p + 1 + lsize + 1 + n, nil
	case 0xcc, 0xd0:
		size = 1
	case 0xcd, 0xd1:
		size = 2
	case 0xca, 0xce, 0xd2:
		size = 4
	case 0xcb, 0xcf, 0xd3:
		size = 8
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1/2/4/8/16: type, data
		size = 1 + 1<<(c-0xd4)
	}
	if have := len(b) - p - 1; size > have {
		return p, errShort(kindOf(c), size, have)
	}
	return p + 1 + size, nil
}

// skipValues skips n values starting at b[p:], inside a container that is
// depth deep.
func skipValues(b []byte, p, n, depth int) (int, error) {
	if n > 0 && depth >= maxDepth {
		return p, errDepth()
	}
	var err error
	for range n {
		if p, err = skip(b, p, depth+1); err != nil {
			return p, err
		}
	}
	return p, nil
}

// readAny decodes the value at b[p:], which is depth containers deep, as a
// generic Go value.
func readAny(b []byte, p, depth int) (any, int, error) {
	if p >= len(b) {
		return nil, p, errEOF("value")
	}
	c := b[p]
	switch {
	case c <= 0x7f || c >= 0xe0 || (c >= 0xcc && c <= 0xd3):
		v, signed, end, err := readInt(b, p, "int")
		if err != nil {
			return nil, p, err
		}
		if !signed && v > math.MaxInt64 {
			return v, end, nil
		}
		return int64(v), end, nil
	case c&0xe0 == 0xa0, c == 0xd9, c == 0xda, c == 0xdb:
		body, end, err := readBlob(b, p, "string")
		if err != nil {
			return nil, p, err
		}
		return string(body), end, nil
	case c == 0xc4, c == 0xc5, c == 0xc6:
		body, end, err := readBlob(b, p, "bytes")
		if err != nil {
			return nil, p, err
		}
		return append([]byte{}, body...), end, nil
	case c <= 0x8f, c == 0xde, c == 0xdf:
		return readAnyMap(b, p, depth)
	case c <= 0x9f, c == 0xdc, c == 0xdd:
		n, q, err := readArray(b, p)
		if err != nil {
			return nil, p, err
		}
		if n > 0 && depth >= maxDepth {
			return nil, p, errDepth()
		}
		s := make([]any, 0, min(n, maxPrealloc))
		for range n {
			var v any
			if v, q, err = readAny(b, q, depth+1); err != nil {
				return nil, p, err
			}
			s = append(s, v)
		}
		return s, q, nil
	}
	switch c {
	case 0xc0:
		return nil, p + 1, nil
	case 0xc2, 0xc3:
		return c == 0xc3, p + 1, nil
	case 0xca:
		if len(b)-p < 5 {
			return nil, p, errShort("float32", 4, len(b)-p-1)
		}
		return float64(math.Float32frombits(binary.BigEndian.Uint32(b[p+1:]))), p + 5, nil
	case 0xcb:
		if len(b)-p < 9 {
			return nil, p, errShort("float64", 8, len(b)-p-1)
		}
		return math.Float64frombits(binary.BigEndian.Uint64(b[p+1:])), p + 9, nil
	case 0xc1:
		return nil, p, errorf(ErrInvalid, "reserved byte 0xc1")
	}
	return nil, p, errType("a value Any returns", c) // ext
}

func readAnyMap(b []byte, p, depth int) (any, int, error) {
	n, q, err := readMap(b, p)
	if err != nil {
		return nil, p, err
	}
	if n > 0 && depth >= maxDepth {
		return nil, p, errDepth()
	}
	m := make(map[string]any, min(n, maxPrealloc))
	for range n {
		if q < len(b) && (b[q] == 0xc4 || b[q] == 0xc5 || b[q] == 0xc6) {
			return nil, p, errType("string map key", b[q])
		}
		var key []byte
		if key, q, err = readBlob(b, q, "string map key"); err != nil {
			return nil, p, err
		}
		var v any
		if v, q, err = readAny(b, q, depth+1); err != nil {
			return nil, p, err
		}
		m[string(key)] = v
	}
	return m, q, nil
}

// kindOf names the kind of value that code byte c starts.
func kindOf(c byte) string {
	switch {
	case c <= 0x7f || c >= 0xe0:
		return "int"
	case c <= 0x8f:
		return "map"
	case c <= 0x9f:
		return "array"
	case c <= 0xbf:
		return "string"
	}
	switch c {
	case 0xc0:
		return "nil"
	case 0xc1:
		return "reserved byte"
	case 0xc2, 0xc3:
		return "bool"
	case 0xc4, 0xc5, 0xc6:
		return "bytes"
	case 0xca:
		return "float32"
	case 0xcb:
		return "float64"
	case 0xcc, 0xcd, 0xce, 0xcf:
		return "uint"
	case 0xd0, 0xd1, 0xd2, 0xd3:
		return "int"
	case 0xd9, 0xda, 0xdb:
		return "string"
	case 0xdc, 0xdd:
		return "array"
	case 0xde, 0xdf:
		return "map"
	}
	return "ext"
}

func errEOF(want string) error {
	return errorf(ErrTruncated, "truncated input: want %s, no bytes left", want)
}

func errShort(what string, need, have int) error {
	return errorf(ErrTruncated, "truncated %s: need %d bytes, have %d", what, need, have)
}

func errType(want string, c byte) error {
	return errorf(ErrType, "want %s, got %s (0x%02x)", want, kindOf(c), c)
}

func errDepth() error {
	return errorf(ErrInvalid, "values nested more than %d deep", maxDepth)
}
