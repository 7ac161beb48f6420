package json

import (
	"encoding/base64"
	stdjson "encoding/json"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth is how deep arrays and objects may nest.
const maxDepth = 100

// reader tokenizes JSON in buf. The scanning is done by pure functions over
// (buf, position) that return the position after the value; the methods
// commit that position only on success, so an error leaves the reader where
// it was.
type reader struct {
	buf     []byte
	pos     int    // 0 <= pos <= len(buf)
	depth   int    // arrays opened by Array and not yet closed by End
	comma   bool   // a value was read at this depth: the next follows a ','
	scratch []byte // unescaped string bytes, reused
}

func (r *reader) Reset(src []byte) {
	r.buf = src
	r.pos = 0
	r.depth = 0
	r.comma = false
}

func (r *reader) Len() int { return len(r.buf) - r.pos }

// next returns the position of the first byte of the next value: past
// whitespace and, inside an array after its first value, the comma.
func (r *reader) next(want string) (int, error) {
	b := r.buf
	p := skipWS(b, r.pos)
	if r.comma {
		if p >= len(b) {
			return p, errEOF(want)
		}
		switch b[p] {
		case ',':
			p = skipWS(b, p+1)
		case ']':
			return p, errorf(ErrType, "want %s, got the end of the array", want)
		default:
			return p, errorf(ErrInvalid, "%s after a value in an array, want ',' or ']'", describe(b[p]))
		}
	}
	if p >= len(b) {
		return p, errEOF(want)
	}
	return p, nil
}

// done commits a value that ended at end. Past a top-level value it skips
// trailing whitespace, so that Len tells whether anything else follows.
func (r *reader) done(end int) {
	if r.depth == 0 {
		end = skipWS(r.buf, end)
	}
	r.pos = end
	r.comma = r.depth > 0
}

func (r *reader) Array() (int, error) {
	p, err := r.next("array")
	if err != nil {
		return 0, err
	}
	if r.buf[p] != '[' {
		return 0, errType("array", r.buf[p])
	}
	n, _, err := skipArray(r.buf, p, r.depth)
	if err != nil {
		return 0, err
	}
	r.pos = p + 1
	r.depth++
	r.comma = false
	return n, nil
}

func (r *reader) End() error {
	b := r.buf
	p := skipWS(b, r.pos)
	switch {
	case r.depth == 0:
		return errorf(ErrInvalid, "End without an open array")
	case p >= len(b):
		return errEOF("']'")
	case b[p] == ']':
		r.depth--
		r.done(p + 1)
		return nil
	}
	// Array checked the array's syntax: anything else is another value.
	return errorf(ErrType, "want the end of the array, the array has more values")
}

func (r *reader) IsNil() bool {
	p, err := r.next("null")
	if err != nil || r.buf[p] != 'n' {
		return false
	}
	end, err := literal(r.buf, p, "null")
	if err != nil {
		return false
	}
	r.done(end)
	return true
}

func (r *reader) Bool() (bool, error) {
	p, err := r.next("bool")
	if err != nil {
		return false, err
	}
	var lit string
	switch r.buf[p] {
	case 't':
		lit = "true"
	case 'f':
		lit = "false"
	default:
		return false, errType("bool", r.buf[p])
	}
	end, err := literal(r.buf, p, lit)
	if err != nil {
		return false, err
	}
	r.done(end)
	return lit == "true", nil
}

// integer reads an integer literal: its magnitude and sign, and where it
// starts and ends.
func (r *reader) integer(want string) (v uint64, neg bool, p, end int, err error) {
	if p, err = r.next(want); err != nil {
		return 0, false, p, p, err
	}
	b := r.buf
	if c := b[p]; c != '-' && !isDigit(c) {
		return 0, false, p, p, errType(want, c)
	}
	end, isInt, err := scanNumber(b, p)
	if err != nil {
		return 0, false, p, p, err
	}
	if !isInt {
		return 0, false, p, p, errorf(ErrType, "want %s, got number %s", want, clip(b[p:end]))
	}
	v, neg, ok := parseInt(b[p:end])
	if !ok {
		return 0, false, p, p, errorf(ErrRange, "%s overflows %s64", clip(b[p:end]), want)
	}
	return v, neg, p, end, nil
}

func (r *reader) Int() (int64, error) {
	v, neg, p, end, err := r.integer("int")
	if err != nil {
		return 0, err
	}
	i, ok := toInt64(v, neg)
	if !ok {
		return 0, errorf(ErrRange, "%s overflows int64", clip(r.buf[p:end]))
	}
	r.done(end)
	return i, nil
}

func (r *reader) Uint() (uint64, error) {
	v, neg, _, end, err := r.integer("uint")
	if err != nil {
		return 0, err
	}
	if neg && v != 0 {
		return 0, errorf(ErrRange, "-%d is negative, want uint", v)
	}
	r.done(end)
	return v, nil
}

func (r *reader) Float64() (float64, error) {
	p, err := r.next("number")
	if err != nil {
		return 0, err
	}
	b := r.buf
	if c := b[p]; c != '-' && !isDigit(c) {
		return 0, errType("number", c)
	}
	end, _, err := scanNumber(b, p)
	if err != nil {
		return 0, err
	}
	f, err := parseFloat(b[p:end])
	if err != nil {
		return 0, err
	}
	r.done(end)
	return f, nil
}

func (r *reader) String() (string, error) {
	p, err := r.next("string")
	if err != nil {
		return "", err
	}
	if r.buf[p] != '"' {
		return "", errType("string", r.buf[p])
	}
	s, end, err := r.str(p)
	if err != nil {
		return "", err
	}
	r.done(end)
	return string(s), nil
}

// str returns the contents of the string at b[p], unescaped. The slice is
// the input or r.scratch: valid until the next call.
func (r *reader) str(p int) ([]byte, int, error) {
	end, plain, err := scanString(r.buf, p)
	if err != nil {
		return nil, p, err
	}
	body := r.buf[p+1 : end-1]
	if plain {
		return body, end, nil
	}
	r.scratch = unquote(r.scratch[:0], body)
	return r.scratch, end, nil
}

func (r *reader) Bytes() ([]byte, error) {
	p, err := r.next("bytes")
	if err != nil {
		return nil, err
	}
	switch r.buf[p] {
	case 'n':
		end, err := literal(r.buf, p, "null")
		if err != nil {
			return nil, err
		}
		r.done(end)
		return nil, nil
	case '"':
	default:
		return nil, errType("bytes", r.buf[p])
	}
	s, end, err := r.str(p)
	if err != nil {
		return nil, err
	}
	dst := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	n, err := base64.StdEncoding.Decode(dst, s)
	if err != nil {
		return nil, errorf(ErrType, "want bytes, got a string that is not base64: %v", err)
	}
	r.done(end)
	return dst[:n], nil
}

// Value finds the extent of the next value, then lets encoding/json decode
// exactly those bytes into ptr.
func (r *reader) Value(ptr any) error {
	p, err := r.next("value")
	if err != nil {
		return err
	}
	end, err := skipValue(r.buf, p, r.depth)
	if err != nil {
		return err
	}
	if err := stdjson.Unmarshal(r.buf[p:end], ptr); err != nil {
		return err
	}
	r.done(end)
	return nil
}

func (r *reader) Any() (any, error) {
	p, err := r.next("value")
	if err != nil {
		return nil, err
	}
	v, end, err := r.value(p, r.depth)
	if err != nil {
		return nil, err
	}
	r.done(end)
	return v, nil
}

func (r *reader) Skip() error {
	p, err := r.next("value")
	if err != nil {
		return err
	}
	end, err := skipValue(r.buf, p, r.depth)
	if err != nil {
		return err
	}
	r.done(end)
	return nil
}

// value decodes the value at b[p], which is depth containers deep, as a
// generic Go value.
func (r *reader) value(p, depth int) (any, int, error) {
	b := r.buf
	if p >= len(b) {
		return nil, p, errEOF("value")
	}
	switch c := b[p]; {
	case c == '"':
		s, end, err := r.str(p)
		return string(s), end, err
	case c == '-' || isDigit(c):
		end, isInt, err := scanNumber(b, p)
		if err != nil {
			return nil, p, err
		}
		if isInt {
			if v, neg, ok := parseInt(b[p:end]); ok {
				if i, ok := toInt64(v, neg); ok {
					return i, end, nil
				}
				if !neg {
					return v, end, nil
				}
			}
		}
		f, err := parseFloat(b[p:end])
		return f, end, err
	case c == 't':
		end, err := literal(b, p, "true")
		return true, end, err
	case c == 'f':
		end, err := literal(b, p, "false")
		return false, end, err
	case c == 'n':
		end, err := literal(b, p, "null")
		return nil, end, err
	case c == '[':
		if depth >= maxDepth {
			return nil, p, errDepth()
		}
		s := []any{}
		q := skipWS(b, p+1)
		if q < len(b) && b[q] == ']' {
			return s, q + 1, nil
		}
		for {
			v, end, err := r.value(q, depth+1)
			if err != nil {
				return nil, p, err
			}
			s = append(s, v)
			var closed bool
			if q, closed, err = afterValue(b, end, ']'); err != nil {
				return nil, p, err
			}
			if closed {
				return s, q, nil
			}
		}
	case c == '{':
		if depth >= maxDepth {
			return nil, p, errDepth()
		}
		m := map[string]any{}
		q := skipWS(b, p+1)
		if q < len(b) && b[q] == '}' {
			return m, q + 1, nil
		}
		for {
			var key []byte
			var err error
			if q, err = objectKey(b, q); err != nil {
				return nil, p, err
			}
			if key, q, err = r.str(q); err != nil {
				return nil, p, err
			}
			k := string(key)
			if q, err = colon(b, q); err != nil {
				return nil, p, err
			}
			v, end, err := r.value(q, depth+1)
			if err != nil {
				return nil, p, err
			}
			m[k] = v
			var closed bool
			if q, closed, err = afterValue(b, end, '}'); err != nil {
				return nil, p, err
			}
			if closed {
				return m, q, nil
			}
		}
	default:
		return nil, p, errorf(ErrInvalid, "%s, want a value", describe(c))
	}
}

// skipValue returns the position after the value at b[p], which is depth
// containers deep.
func skipValue(b []byte, p, depth int) (int, error) {
	if p >= len(b) {
		return p, errEOF("value")
	}
	switch c := b[p]; {
	case c == '"':
		end, _, err := scanString(b, p)
		return end, err
	case c == '-' || isDigit(c):
		end, _, err := scanNumber(b, p)
		return end, err
	case c == 't':
		return literal(b, p, "true")
	case c == 'f':
		return literal(b, p, "false")
	case c == 'n':
		return literal(b, p, "null")
	case c == '[':
		_, end, err := skipArray(b, p, depth)
		return end, err
	case c == '{':
		return skipObject(b, p, depth)
	default:
		return p, errorf(ErrInvalid, "%s, want a value", describe(c))
	}
}

// skipArray returns the number of values of the array at b[p] and the
// position after it.
func skipArray(b []byte, p, depth int) (n, end int, err error) {
	if depth >= maxDepth {
		return 0, p, errDepth()
	}
	q := skipWS(b, p+1)
	if q < len(b) && b[q] == ']' {
		return 0, q + 1, nil
	}
	for {
		if q, err = skipValue(b, q, depth+1); err != nil {
			return 0, p, err
		}
		n++
		var closed bool
		if q, closed, err = afterValue(b, q, ']'); err != nil {
			return 0, p, err
		}
		if closed {
			return n, q, nil
		}
	}
}

// skipObject returns the position after the object at b[p].
func skipObject(b []byte, p, depth int) (int, error) {
	if depth >= maxDepth {
		return p, errDepth()
	}
	q := skipWS(b, p+1)
	if q < len(b) && b[q] == '}' {
		return q + 1, nil
	}
	var err error
	for {
		if q, err = objectKey(b, q); err != nil {
			return p, err
		}
		if q, _, err = scanString(b, q); err != nil {
			return p, err
		}
		if q, err = colon(b, q); err != nil {
			return p, err
		}
		if q, err = skipValue(b, q, depth+1); err != nil {
			return p, err
		}
		var closed bool
		if q, closed, err = afterValue(b, q, '}'); err != nil {
			return p, err
		}
		if closed {
			return q, nil
		}
	}
}

// afterValue reads what follows a value inside an array or object: a comma
// (returning the position of the next value) or the closing byte (returning
// the position after it, and closed).
func afterValue(b []byte, p int, closing byte) (q int, closed bool, err error) {
	p = skipWS(b, p)
	if p >= len(b) {
		return p, false, errEOF("',' or '" + string(closing) + "'")
	}
	switch b[p] {
	case ',':
		return skipWS(b, p+1), false, nil
	case closing:
		return p + 1, true, nil
	}
	return p, false, errorf(ErrInvalid, "%s after a value, want ',' or '%c'", describe(b[p]), closing)
}

// objectKey checks that an object key starts at b[p] (after whitespace)
// and returns its position.
func objectKey(b []byte, p int) (int, error) {
	p = skipWS(b, p)
	if p >= len(b) {
		return p, errEOF("object key")
	}
	if b[p] != '"' {
		return p, errorf(ErrInvalid, "%s, want a string object key", describe(b[p]))
	}
	return p, nil
}

// colon reads the ':' after an object key and returns the position of the
// value.
func colon(b []byte, p int) (int, error) {
	p = skipWS(b, p)
	if p >= len(b) {
		return p, errEOF("':'")
	}
	if b[p] != ':' {
		return p, errorf(ErrInvalid, "%s after an object key, want ':'", describe(b[p]))
	}
	return skipWS(b, p+1), nil
}

func skipWS(b []byte, p int) int {
	for p < len(b) {
		switch b[p] {
		case ' ', '\t', '\n', '\r':
			p++
		default:
			return p
		}
	}
	return p
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// endsToken reports whether a literal or number may end at b[p].
func endsToken(b []byte, p int) bool {
	if p >= len(b) {
		return true
	}
	switch b[p] {
	case ' ', '\t', '\n', '\r', ',', ']', '}', ':':
		return true
	}
	return false
}

// literal checks for lit (true, false or null) at b[p].
func literal(b []byte, p int, lit string) (int, error) {
	rest := b[p:]
	if len(rest) < len(lit) {
		if string(rest) == lit[:len(rest)] {
			return p, errorf(ErrTruncated, "truncated %s", lit)
		}
	} else if string(rest[:len(lit)]) == lit && endsToken(b, p+len(lit)) {
		return p + len(lit), nil
	}
	return p, errorf(ErrInvalid, "invalid literal %q, want %s", rest[:min(len(rest), len(lit))], lit)
}

// scanNumber returns the end of the number at b[p] and whether it is an
// integer literal (no fraction, no exponent).
func scanNumber(b []byte, p int) (end int, isInt bool, err error) {
	i := p
	if b[i] == '-' {
		i++
	}
	digits := func(what string) error {
		if i >= len(b) {
			return errorf(ErrTruncated, "truncated number %s", clip(b[p:]))
		}
		if !isDigit(b[i]) {
			return errorf(ErrInvalid, "%s in number, want %s", char(b[i]), what)
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
		return nil
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	default:
		if err := digits("a digit"); err != nil {
			return p, false, err
		}
	}
	isInt = true
	if i < len(b) && b[i] == '.' {
		i++
		isInt = false
		if err := digits("a digit after '.'"); err != nil {
			return p, false, err
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		isInt = false
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if err := digits("a digit in the exponent"); err != nil {
			return p, false, err
		}
	}
	if !endsToken(b, i) {
		return p, false, errorf(ErrInvalid, "%s after number %s", char(b[i]), clip(b[p:i]))
	}
	return i, isInt, nil
}

// parseInt parses a scanned integer literal; ok is false if its magnitude
// overflows uint64.
func parseInt(s []byte) (v uint64, neg, ok bool) {
	if s[0] == '-' {
		neg, s = true, s[1:]
	}
	for _, c := range s {
		d := uint64(c - '0')
		if v > (math.MaxUint64-d)/10 {
			return 0, neg, false
		}
		v = v*10 + d
	}
	return v, neg, true
}

func toInt64(v uint64, neg bool) (int64, bool) {
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return int64(-v), true // -v wraps to the two's complement
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// parseFloat parses a scanned number.
func parseFloat(s []byte) (float64, error) {
	f, err := strconv.ParseFloat(string(s), 64)
	if err != nil {
		return 0, errorf(ErrRange, "number %s does not fit a float64", clip(s))
	}
	return f, nil
}

// scanString returns the end of the string at b[p] (after the closing
// quote), checking its escapes. plain reports a string that is all ASCII
// without escapes: its bytes between the quotes are its value.
func scanString(b []byte, p int) (end int, plain bool, err error) {
	plain = true
	for i := p + 1; i < len(b); {
		switch c := b[i]; {
		case c == '"':
			return i + 1, plain, nil
		case c == '\\':
			plain = false
			if i+1 >= len(b) {
				return p, false, errorf(ErrTruncated, "truncated string")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				for j := i + 2; j < i+6; j++ {
					if j >= len(b) {
						return p, false, errorf(ErrTruncated, "truncated string")
					}
					if unhex(b[j]) < 0 {
						return p, false, errorf(ErrInvalid, "%s in \\u escape, want a hex digit", char(b[j]))
					}
				}
				i += 6
			default:
				return p, false, errorf(ErrInvalid, "invalid escape character %s in string", char(b[i+1]))
			}
		case c < 0x20:
			return p, false, errorf(ErrInvalid, "control character %#02x in string", c)
		case c >= utf8.RuneSelf:
			plain = false
			i++
		default:
			i++
		}
	}
	return p, false, errorf(ErrTruncated, "truncated string: no closing quote")
}

func unhex(c byte) rune {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0')
	case 'a' <= c && c <= 'f':
		return rune(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

// hex4 decodes the four hex digits that scanString checked.
func hex4(s []byte) rune {
	return unhex(s[0])<<12 | unhex(s[1])<<8 | unhex(s[2])<<4 | unhex(s[3])
}

// unquote appends the value of the scanned string body s to dst: escapes
// decoded, surrogate pairs joined, invalid UTF-8 and lone surrogates
// replaced by U+FFFD, as encoding/json does.
func unquote(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c == '\\' {
			switch s[i+1] {
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				r := hex4(s[i+2:])
				i += 6
				if utf16.IsSurrogate(r) {
					r2 := utf8.RuneError
					if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
						r2 = utf16.DecodeRune(r, hex4(s[i+2:]))
					}
					if r2 != utf8.RuneError {
						i += 6
					}
					r = r2
				}
				dst = utf8.AppendRune(dst, r)
				continue
			default: // '"', '\\', '/'
				dst = append(dst, s[i+1])
			}
			i += 2
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return dst
}

// describe names the byte c for an error message.
func describe(c byte) string {
	switch {
	case c == '"':
		return "string"
	case c == '-' || isDigit(c):
		return "number"
	case c == 't' || c == 'f':
		return "bool"
	case c == 'n':
		return "null"
	case c == '[':
		return "array"
	case c == '{':
		return "object"
	}
	return char(c)
}

// char shows the byte c for an error message.
func char(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return strconv.QuoteRune(rune(c))
	}
	return "byte 0x" + string(hex[c>>4]) + string(hex[c&0xf])
}

// clip shortens input quoted in an error message.
func clip(b []byte) string {
	const max = 32
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}

func errEOF(want string) error {
	return errorf(ErrTruncated, "truncated input: want %s, no bytes left", want)
}

func errType(want string, c byte) error {
	return errorf(ErrType, "want %s, got %s", want, describe(c))
}

func errDepth() error {
	return errorf(ErrInvalid, "values nested more than %d deep", maxDepth)
}
