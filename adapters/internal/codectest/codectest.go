// Package codectest checks a message.Codec against the contract of
// message.Writer and message.Reader. Every serialization adapter runs it
// from its tests: one suite, every codec.
package codectest

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gonetic/gonetic/message"
)

// Options tells the suite where a codec may differ from the others.
type Options struct {
	// ReplacesInvalidUTF8: a string with invalid UTF-8 comes back with each
	// invalid byte replaced by U+FFFD (JSON); otherwise byte for byte.
	ReplacesInvalidUTF8 bool
	// FiniteFloatsOnly: NaN and infinities do not round-trip (JSON).
	FiniteFloatsOnly bool
}

// Run runs the whole suite as subtests of t.
func Run(t *testing.T, c message.Codec, opt Options) {
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, c) })
	t.Run("Sequence", func(t *testing.T) { testSequence(t, c) })
	t.Run("Truncated", func(t *testing.T) { testTruncated(t, c) })
	t.Run("Mismatch", func(t *testing.T) { testMismatch(t, c) })
	t.Run("IsNil", func(t *testing.T) { testIsNil(t, c) })
	t.Run("Skip", func(t *testing.T) { testSkip(t, c) })
	t.Run("Any", func(t *testing.T) { testAny(t, c) })
	t.Run("Value", func(t *testing.T) { testValue(t, c) })
	t.Run("Reuse", func(t *testing.T) { testReuse(t, c) })
	t.Run("Allocs", func(t *testing.T) { testAllocs(t, c) })
	t.Run("Depth", func(t *testing.T) { testDepth(t, c) })
	t.Run("ArrayLen", func(t *testing.T) { testArrayLen(t, c) })
	t.Run("NonFinite", func(t *testing.T) {
		if opt.FiniteFloatsOnly {
			t.Skip("codec has no NaN or infinity")
		}
		for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
			w := c.NewWriter()
			w.Reset(nil)
			w.Float64(f)
			r := c.NewReader()
			r.Reset(w.Buffer())
			got, err := r.Float64()
			if err != nil || !(got == f || math.IsNaN(f) && math.IsNaN(got)) {
				t.Errorf("Float64(%v): got %v, %v", f, got, err)
			}
		}
	})
}

// A value is one thing to write and read back.
type value struct {
	name  string
	write func(w message.Writer)
	// read reads the value back; a wrong value is a *mismatch error.
	read func(r message.Reader) error
}

type mismatch struct{ msg string }

func (m *mismatch) Error() string { return m.msg }

func mismatchf(format string, args ...any) error {
	return &mismatch{fmt.Sprintf(format, args...)}
}

func intValue(v int64) value {
	return value{
		name:  fmt.Sprintf("Int(%d)", v),
		write: func(w message.Writer) { w.Int(v) },
		read: func(r message.Reader) error {
			got, err := r.Int()
			if err == nil && got != v {
				return mismatchf("Int: got %d, want %d", got, v)
			}
			return err
		},
	}
}

func uintValue(v uint64) value {
	return value{
		name:  fmt.Sprintf("Uint(%d)", v),
		write: func(w message.Writer) { w.Uint(v) },
		read: func(r message.Reader) error {
			got, err := r.Uint()
			if err == nil && got != v {
				return mismatchf("Uint: got %d, want %d", got, v)
			}
			return err
		},
	}
}

func float64Value(v float64) value {
	return value{
		name:  fmt.Sprintf("Float64(%g)", v),
		write: func(w message.Writer) { w.Float64(v) },
		read: func(r message.Reader) error {
			got, err := r.Float64()
			if err == nil && (got != v || math.Signbit(got) != math.Signbit(v)) {
				return mismatchf("Float64: got %g, want %g", got, v)
			}
			return err
		},
	}
}

func float32Value(v float32) value {
	return value{
		name:  fmt.Sprintf("Float32(%g)", v),
		write: func(w message.Writer) { w.Float32(v) },
		read: func(r message.Reader) error {
			got, err := r.Float64()
			if err == nil && float32(got) != v {
				return mismatchf("Float32 read as Float64: got %g, want %g", got, v)
			}
			return err
		},
	}
}

func stringValue(v string) value {
	name := v
	if len(name) > 20 {
		name = fmt.Sprintf("%d bytes", len(v))
	}
	return value{
		name:  fmt.Sprintf("String(%q)", name),
		write: func(w message.Writer) { w.String(v) },
		read: func(r message.Reader) error {
			got, err := r.String()
			if err == nil && got != v {
				return mismatchf("String: got %q, want %q", clip(got), clip(v))
			}
			return err
		},
	}
}

func bytesValue(v []byte) value {
	return value{
		name:  fmt.Sprintf("Bytes(%d bytes)", len(v)),
		write: func(w message.Writer) { w.Bytes(v) },
		read: func(r message.Reader) error {
			got, err := r.Bytes()
			if err == nil && !bytes.Equal(got, v) {
				return mismatchf("Bytes: got %d bytes, want %d", len(got), len(v))
			}
			return err
		},
	}
}

func boolValue(v bool) value {
	return value{
		name:  fmt.Sprintf("Bool(%v)", v),
		write: func(w message.Writer) { w.Bool(v) },
		read: func(r message.Reader) error {
			got, err := r.Bool()
			if err == nil && got != v {
				return mismatchf("Bool: got %v, want %v", got, v)
			}
			return err
		},
	}
}

func nilValue() value {
	return value{
		name:  "Nil",
		write: func(w message.Writer) { w.Nil() },
		read: func(r message.Reader) error {
			if !r.IsNil() {
				_, err := r.Any()
				if err != nil {
					return err
				}
				return mismatchf("IsNil: false")
			}
			return nil
		},
	}
}

// arrayValue is an array of the values vs.
func arrayValue(name string, vs ...value) value {
	return value{
		name: name,
		write: func(w message.Writer) {
			w.Array(len(vs))
			for _, v := range vs {
				v.write(w)
			}
			w.End()
		},
		read: func(r message.Reader) error {
			n, err := r.Array()
			if err != nil {
				return err
			}
			if n != len(vs) {
				return mismatchf("Array: got %d values, want %d", n, len(vs))
			}
			for _, v := range vs {
				if err := v.read(r); err != nil {
					return err
				}
			}
			return r.End()
		},
	}
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

// values is the round-trip table: every method, at the boundaries of the
// compact encodings.
func values() []value {
	var vs []value
	for _, v := range []int64{
		0, 1, 127, 128, 255, 256, 32767, 32768, 65535, 65536,
		math.MaxInt32, math.MaxUint32, math.MaxUint32 + 1, math.MaxInt64,
		-1, -31, -32, -33, -127, -128, -129, -32768, -32769,
		math.MinInt32, math.MinInt32 - 1, math.MinInt64 + 1, math.MinInt64,
	} {
		vs = append(vs, intValue(v))
	}
	for _, v := range []uint64{
		0, 1, 127, 128, 255, 256, 65535, 65536,
		math.MaxUint32, math.MaxUint32 + 1, math.MaxInt64, math.MaxInt64 + 1, math.MaxUint64,
	} {
		vs = append(vs, uintValue(v))
	}
	for _, v := range []float64{
		0, math.Copysign(0, -1), 1, -1, 1.5, -2.25, 0.1, 3, 1e21, 1e20, 1e-6, 1e-7, 123456789.125,
		math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, math.Pi,
	} {
		vs = append(vs, float64Value(v))
	}
	for _, v := range []float32{0, 1, -1.5, 0.1, math.MaxFloat32, math.SmallestNonzeroFloat32, 1e21, 1e-7} {
		vs = append(vs, float32Value(v))
	}
	for _, n := range []int{0, 1, 31, 32, 255, 256, 65535, 65536, 70000} {
		vs = append(vs, stringValue(strings.Repeat("x", n)))
	}
	for _, s := range []string{
		"Tom", "Test message", "héllo, 世界 🎮", "\"\\/\b\f\n\r\t\x00\x01\x1f\x7f",
		"<script>&amp;</script>", "\u2028\u2029", "\ufffd", "\U0010ffff", "a\x00b",
	} {
		vs = append(vs, stringValue(s))
	}
	for _, n := range []int{0, 1, 2, 3, 4, 255, 256, 65535, 65536} {
		vs = append(vs, bytesValue(pattern(n)))
	}
	vs = append(vs, bytesValue(nil), boolValue(true), boolValue(false), nilValue())
	vs = append(vs,
		arrayValue("Array()"),
		arrayValue("Array(Int)", intValue(1)),
		arrayValue("Array(Array())", arrayValue("")),
		arrayValue("Array(Array(Array(String)), Nil, Array())",
			arrayValue("", arrayValue("", stringValue("deep"))), nilValue(), arrayValue("")),
		arrayValue("chat", uintValue(1), stringValue("Tom"), stringValue("Test message")),
	)
	for _, n := range []int{15, 16, 65535, 65536} {
		elems := make([]value, n)
		for i := range elems {
			elems[i] = intValue(int64(i % 100))
		}
		vs = append(vs, arrayValue(fmt.Sprintf("Array(%d ints)", n), elems...))
	}
	return vs
}

func encode(c message.Codec, write func(message.Writer)) []byte {
	w := c.NewWriter()
	w.Reset(nil)
	write(w)
	return w.Buffer()
}

func testRoundTrip(t *testing.T, c message.Codec) {
	r := c.NewReader()
	for _, v := range values() {
		b := encode(c, v.write)
		r.Reset(b)
		if err := v.read(r); err != nil {
			t.Errorf("%s: %v (encoding % x)", v.name, err, head(b))
			continue
		}
		if r.Len() != 0 {
			t.Errorf("%s: %d bytes left after reading (encoding % x)", v.name, r.Len(), head(b))
		}
	}
}

func head(b []byte) []byte {
	if len(b) > 32 {
		return b[:32]
	}
	return b
}

// testSequence writes every value of the table one after another, then in
// an array, and reads them back.
func testSequence(t *testing.T, c message.Codec) {
	vs := values()
	all := arrayValue("all", vs...)
	r := c.NewReader()
	r.Reset(encode(c, all.write))
	if err := all.read(r); err != nil {
		t.Fatalf("in an array: %v", err)
	}
	b := encode(c, func(w message.Writer) {
		for _, v := range vs {
			v.write(w)
		}
	})
	r.Reset(b)
	for _, v := range vs {
		if err := v.read(r); err != nil {
			t.Fatalf("top level, %s: %v", v.name, err)
		}
	}
	if r.Len() != 0 {
		t.Errorf("top level: %d bytes left", r.Len())
	}
}

// testTruncated reads every prefix of every value, wrapped in an array:
// each must give an error, and none may panic.
func testTruncated(t *testing.T, c message.Codec) {
	r := c.NewReader()
	for _, v := range values() {
		wrapped := arrayValue("["+v.name+"]", v)
		b := encode(c, wrapped.write)
		for _, n := range prefixLengths(len(b)) {
			r.Reset(b[:n:n])
			err := readPanicFree(t, r, wrapped)
			var m *mismatch
			if err == nil || errors.As(err, &m) {
				// A mismatch without an error is a silent wrong value.
				t.Errorf("%s: prefix of %d of %d bytes: got no error (%v)", v.name, n, len(b), err)
				break
			}
		}
	}
}

// prefixLengths lists every length below n, or a sample when n is large.
func prefixLengths(n int) []int {
	var ls []int
	if n <= 4096 {
		for i := range n {
			ls = append(ls, i)
		}
		return ls
	}
	for i := range 64 {
		ls = append(ls, i, n-1-i)
	}
	for i := 64; i < n-64; i += n / 64 {
		ls = append(ls, i)
	}
	return ls
}

func readPanicFree(t *testing.T, r message.Reader, v value) (err error) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("%s: panic: %v", v.name, p)
		}
	}()
	err = v.read(r)
	// A decode error, once seen, is what counts; a mismatch means reading
	// went on with a wrong value, which End or a later read must catch.
	var m *mismatch
	if errors.As(err, &m) {
		for range 3 {
			if e := r.End(); e != nil {
				return e
			}
		}
	}
	return err
}

// testMismatch reads each kind of value with each method: the wrong ones
// must fail and leave the value readable.
func testMismatch(t *testing.T, c message.Codec) {
	kinds := []struct {
		name  string
		write func(message.Writer)
		ok    string // methods that accept it
	}{
		{"nil", func(w message.Writer) { w.Nil() }, "Bytes"},
		{"true", func(w message.Writer) { w.Bool(true) }, "Bool"},
		{"-1", func(w message.Writer) { w.Int(-1) }, "Int Float64"},
		{"1", func(w message.Writer) { w.Int(1) }, "Int Uint Float64"},
		{"1<<64-1", func(w message.Writer) { w.Uint(math.MaxUint64) }, "Uint Float64"},
		{"1.5", func(w message.Writer) { w.Float64(1.5) }, "Float64"},
		{"string", func(w message.Writer) { w.String("s!") }, "String Bytes?"},
		{"bytes", func(w message.Writer) { w.Bytes([]byte{1, 2, 3}) }, "Bytes String?"},
		{"array", func(w message.Writer) { w.Array(1); w.Int(1); w.End() }, "Array"},
	}
	methods := []struct {
		name string
		read func(message.Reader) error
	}{
		{"Bool", func(r message.Reader) error { _, err := r.Bool(); return err }},
		{"Int", func(r message.Reader) error { _, err := r.Int(); return err }},
		{"Uint", func(r message.Reader) error { _, err := r.Uint(); return err }},
		{"Float64", func(r message.Reader) error { _, err := r.Float64(); return err }},
		{"String", func(r message.Reader) error { _, err := r.String(); return err }},
		{"Bytes", func(r message.Reader) error { _, err := r.Bytes(); return err }},
		{"Array", func(r message.Reader) error { _, err := r.Array(); return err }},
	}
	r := c.NewReader()
	for _, k := range kinds {
		b := encode(c, func(w message.Writer) { w.Array(2); k.write(w); w.Int(9); w.End() })
		for _, m := range methods {
			if strings.Contains(" "+k.ok+" ", " "+m.name+"? ") {
				continue // codecs differ
			}
			want := strings.Contains(" "+k.ok+" ", " "+m.name+" ")
			r.Reset(b)
			if _, err := r.Array(); err != nil {
				t.Fatal(err)
			}
			err := m.read(r)
			if want != (err == nil) {
				t.Errorf("%s of %s: got error %v", m.name, k.name, err)
				continue
			}
			if err != nil { // the reader must not have moved
				if err := r.Skip(); err != nil {
					t.Errorf("%s of %s: Skip after the error: %v", m.name, k.name, err)
					continue
				}
			} else if m.name == "Array" { // step over the inner array's value
				if err := r.Skip(); err != nil {
					t.Fatal(err)
				}
				if err := r.End(); err != nil {
					t.Fatal(err)
				}
			}
			if n, err := r.Int(); n != 9 || err != nil {
				t.Errorf("%s of %s: next value: %d, %v", m.name, k.name, n, err)
			}
			if err := r.End(); err != nil || r.Len() != 0 {
				t.Errorf("%s of %s: End: %v, %d bytes left", m.name, k.name, err, r.Len())
			}
		}
	}
	// Out of range.
	for _, tc := range []struct {
		name  string
		write func(message.Writer)
		read  func(message.Reader) error
	}{
		{"Int of 1<<63", func(w message.Writer) { w.Uint(1 << 63) }, func(r message.Reader) error { _, err := r.Int(); return err }},
		{"Uint of -1", func(w message.Writer) { w.Int(-1) }, func(r message.Reader) error { _, err := r.Uint(); return err }},
		{"Uint of MinInt64", func(w message.Writer) { w.Int(math.MinInt64) }, func(r message.Reader) error { _, err := r.Uint(); return err }},
	} {
		r.Reset(encode(c, tc.write))
		if err := tc.read(r); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func testIsNil(t *testing.T, c message.Codec) {
	r := c.NewReader()
	r.Reset(encode(c, func(w message.Writer) { w.Array(3); w.Int(5); w.Nil(); w.String("x"); w.End() }))
	if _, err := r.Array(); err != nil {
		t.Fatal(err)
	}
	if r.IsNil() {
		t.Fatal("IsNil of 5: true")
	}
	if n, err := r.Int(); n != 5 || err != nil {
		t.Fatalf("Int after IsNil: %d, %v", n, err)
	}
	if !r.IsNil() {
		t.Fatal("IsNil of nil: false")
	}
	if r.IsNil() {
		t.Fatal("IsNil of string: true")
	}
	if s, err := r.String(); s != "x" || err != nil {
		t.Fatalf("String after IsNil: %q, %v", s, err)
	}
	if r.IsNil() {
		t.Fatal("IsNil at the end of the array: true")
	}
	if err := r.End(); err != nil {
		t.Fatal(err)
	}
	if r.IsNil() {
		t.Fatal("IsNil at the end of the input: true")
	}
}

func testSkip(t *testing.T, c message.Codec) {
	r := c.NewReader()
	for _, v := range values() {
		b := encode(c, func(w message.Writer) {
			w.Array(3)
			w.Int(7)
			v.write(w)
			w.String("after")
			w.End()
		})
		r.Reset(b)
		if _, err := r.Array(); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Int(); err != nil {
			t.Fatal(err)
		}
		if err := r.Skip(); err != nil {
			t.Errorf("Skip %s: %v", v.name, err)
			continue
		}
		if s, err := r.String(); s != "after" || err != nil {
			t.Errorf("Skip %s: then String: %q, %v", v.name, s, err)
		}
		if err := r.End(); err != nil || r.Len() != 0 {
			t.Errorf("Skip %s: End: %v, %d bytes left", v.name, err, r.Len())
		}
	}
	r.Reset(nil)
	if err := r.Skip(); err == nil {
		t.Error("Skip of nothing: no error")
	}
}

func testAny(t *testing.T, c message.Codec) {
	for _, tc := range []struct {
		name  string
		write func(message.Writer)
		want  any
	}{
		{"nil", func(w message.Writer) { w.Nil() }, nil},
		{"true", func(w message.Writer) { w.Bool(true) }, true},
		{"0", func(w message.Writer) { w.Int(0) }, int64(0)},
		{"uint 1", func(w message.Writer) { w.Uint(1) }, int64(1)},
		{"-200", func(w message.Writer) { w.Int(-200) }, int64(-200)},
		{"MinInt64", func(w message.Writer) { w.Int(math.MinInt64) }, int64(math.MinInt64)},
		{"MaxInt64", func(w message.Writer) { w.Uint(math.MaxInt64) }, int64(math.MaxInt64)},
		{"1<<63", func(w message.Writer) { w.Uint(1 << 63) }, uint64(1 << 63)},
		{"MaxUint64", func(w message.Writer) { w.Uint(math.MaxUint64) }, uint64(math.MaxUint64)},
		{"1.5", func(w message.Writer) { w.Float64(1.5) }, 1.5},
		{"float32 -0.25", func(w message.Writer) { w.Float32(-0.25) }, -0.25},
		{"string", func(w message.Writer) { w.String("héllo") }, "héllo"},
		{"empty array", func(w message.Writer) { w.Array(0); w.End() }, []any{}},
		{"nested", func(w message.Writer) {
			w.Array(3)
			w.Int(1)
			w.Array(2)
			w.String("x")
			w.Nil()
			w.End()
			w.Bool(false)
			w.End()
		}, []any{int64(1), []any{"x", nil}, false}},
		{"Value map", func(w message.Writer) {
			if err := w.Value(map[string]any{"a": 1, "b": []any{"c"}}); err != nil {
				t.Fatal(err)
			}
		}, map[string]any{"a": int64(1), "b": []any{"c"}}},
		{"Value empty map", func(w message.Writer) {
			if err := w.Value(map[string]int{}); err != nil {
				t.Fatal(err)
			}
		}, map[string]any{}},
	} {
		r := c.NewReader()
		r.Reset(encode(c, tc.write))
		got, err := r.Any()
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Any of %s: got %#v, %v; want %#v", tc.name, got, err, tc.want)
		}
		if r.Len() != 0 {
			t.Errorf("Any of %s: %d bytes left", tc.name, r.Len())
		}
	}
}

// Point is a struct for Value.
type Point struct {
	X, Y   int
	Name   string
	Tags   []string
	Scores map[string]float64
	Inner  *Point
}

func testValue(t *testing.T, c message.Codec) {
	p := Point{X: -3, Y: 1 << 40, Name: "p", Tags: []string{"a", "b"},
		Scores: map[string]float64{"hp": 0.5}, Inner: &Point{X: 1, Tags: []string{}}}
	b := encode(c, func(w message.Writer) {
		w.Array(4)
		w.Uint(2)
		if err := w.Value(p); err != nil {
			t.Fatal(err)
		}
		if err := w.Value(make(chan int)); err == nil {
			t.Error("Value(chan): no error")
		}
		if err := w.Value([]int{1, 2, 3}); err != nil {
			t.Fatal(err)
		}
		if err := w.Value(nil); err != nil {
			t.Fatal(err)
		}
		w.End()
	})
	r := c.NewReader()
	r.Reset(b)
	if n, err := r.Array(); n != 4 || err != nil {
		t.Fatalf("Array: %d, %v", n, err)
	}
	if id, err := r.Uint(); id != 2 || err != nil {
		t.Fatalf("Uint: %d, %v", id, err)
	}
	var wrong int
	if err := r.Value(&wrong); err == nil {
		t.Error("Value of a struct into an int: no error")
	}
	var got Point
	if err := r.Value(&got); err != nil || !reflect.DeepEqual(got, p) {
		t.Errorf("Value: got %+v, %v; want %+v", got, err, p)
	}
	var s []int
	if err := r.Value(&s); err != nil || !reflect.DeepEqual(s, []int{1, 2, 3}) {
		t.Errorf("Value: got %v, %v", s, err)
	}
	ip := new(int)
	if err := r.Value(&ip); err != nil || ip != nil {
		t.Errorf("Value of nil into a pointer: got %v, %v", ip, err)
	}
	if err := r.End(); err != nil || r.Len() != 0 {
		t.Errorf("End: %v, %d bytes left", err, r.Len())
	}
	r.Reset(b[:len(b)/2])
	if _, err := r.Array(); err == nil {
		if _, err := r.Uint(); err == nil {
			if err := r.Value(&got); err == nil {
				t.Error("Value of a truncated struct: no error")
			}
		}
	}
}

// testReuse writes and reads twice with the same Writer and Reader.
func testReuse(t *testing.T, c message.Codec) {
	w := c.NewWriter()
	r := c.NewReader()
	var buf []byte
	var first []byte
	for i := range 3 {
		w.Reset(buf[:0])
		w.Array(2)
		w.String("again")
		w.Array(1)
		w.Int(int64(i))
		w.End()
		w.End()
		buf = w.Buffer()
		if i == 0 {
			first = bytes.Clone(buf)
		}
		r.Reset(buf)
		v, err := r.Any()
		if want := []any{"again", []any{int64(i)}}; err != nil || !reflect.DeepEqual(v, want) {
			t.Fatalf("round %d: %#v, %v", i, v, err)
		}
	}
	w.Reset(nil)
	w.Array(2)
	w.String("again")
	w.Array(1)
	w.Int(0)
	w.End()
	w.End()
	if !bytes.Equal(w.Buffer(), first) {
		t.Errorf("after Reset: % x, want % x", w.Buffer(), first)
	}
	// Reset appends to dst.
	w.Reset([]byte("prefix"))
	w.Int(1)
	if !bytes.HasPrefix(w.Buffer(), []byte("prefix")) || len(w.Buffer()) <= 6 {
		t.Errorf("Reset(dst) does not append: %q", w.Buffer())
	}
}

// WriteChat writes the chat message [1, "Tom", "Test message"].
func WriteChat(w message.Writer) {
	w.Array(3)
	w.Uint(1)
	w.String("Tom")
	w.String("Test message")
	w.End()
}

// ReadChat reads the chat message WriteChat writes.
func ReadChat(r message.Reader) (id uint64, name, text string, err error) {
	n, err := r.Array()
	if err != nil {
		return 0, "", "", err
	}
	if n != 3 {
		return 0, "", "", fmt.Errorf("chat: %d values", n)
	}
	if id, err = r.Uint(); err != nil {
		return 0, "", "", err
	}
	if name, err = r.String(); err != nil {
		return 0, "", "", err
	}
	if text, err = r.String(); err != nil {
		return 0, "", "", err
	}
	return id, name, text, r.End()
}

func testAllocs(t *testing.T, c message.Codec) {
	w := c.NewWriter()
	var buf []byte
	bs := []byte("bytes")
	scalars := func() {
		w.Reset(buf[:0])
		w.Array(9)
		w.Nil()
		w.Bool(true)
		w.Int(-1 << 40)
		w.Uint(1 << 40)
		w.Float32(1.5)
		w.Float64(-2.5e-10)
		w.String("héllo \"world\"\n\xff")
		w.Bytes(bs)
		w.Array(0)
		w.End()
		w.End()
		buf = w.Buffer()
	}
	scalars()
	if n := testing.AllocsPerRun(100, scalars); n != 0 {
		t.Errorf("Writer: %v allocs per message, want 0", n)
	}
	r := c.NewReader()
	read := func() {
		r.Reset(buf)
		if id, name, text, err := ReadChat(r); id != 1 || name != "Tom" || text != "Test message" || err != nil {
			t.Fatalf("ReadChat: %d %q %q %v", id, name, text, err)
		}
	}
	w.Reset(buf[:0])
	WriteChat(w)
	buf = w.Buffer()
	read()
	if n := testing.AllocsPerRun(100, read); n > 2 {
		t.Errorf("Reader: %v allocs per chat message, want 2 at most", n)
	}
}

func testDepth(t *testing.T, c message.Codec) {
	deep := func(n int) []byte {
		return encode(c, func(w message.Writer) {
			for range n {
				w.Array(1)
			}
			w.Int(1)
			for range n {
				w.End()
			}
		})
	}
	r := c.NewReader()
	r.Reset(deep(50))
	if err := r.Skip(); err != nil {
		t.Errorf("Skip of 50 nested arrays: %v", err)
	}
	r.Reset(deep(50))
	if _, err := r.Any(); err != nil {
		t.Errorf("Any of 50 nested arrays: %v", err)
	}
	b := deep(100_000)
	for name, f := range map[string]func() error{
		"Skip":  r.Skip,
		"Any":   func() error { _, err := r.Any(); return err },
		"Value": func() error { var v any; return r.Value(&v) },
	} {
		r.Reset(b)
		if err := f(); err == nil {
			t.Errorf("%s of 100000 nested arrays: no error", name)
		}
	}
}

// testArrayLen checks what package message relies on before allocating a
// slice of a peer's length: after Array returns n, Len leaves a byte at
// least for each of the n values, at every depth; and a count that the
// bytes cannot hold is an error.
func testArrayLen(t *testing.T, c message.Codec) {
	b := encode(c, func(w message.Writer) {
		w.Array(3)
		w.Array(0)
		w.End()
		w.Array(2)
		w.Nil()
		w.Array(1)
		w.Uint(0)
		w.End()
		w.End()
		w.Bool(true)
		w.End()
	})
	r := c.NewReader()
	r.Reset(b)
	var walk func(depth int) error
	walk = func(depth int) error {
		n, err := r.Array()
		if err != nil {
			return err
		}
		if r.Len() < n {
			return fmt.Errorf("array of %d values at depth %d, %d bytes left", n, depth, r.Len())
		}
		for range n {
			if r.IsNil() {
				continue
			}
			if _, err := r.Uint(); err == nil {
				continue
			}
			if _, err := r.Bool(); err == nil {
				continue
			}
			if err := walk(depth + 1); err != nil {
				return err
			}
		}
		return r.End()
	}
	if err := walk(0); err != nil {
		t.Fatal(err)
	}
	// A count above what is there: Array or End fails, never a longer walk.
	long := encode(c, func(w message.Writer) {
		w.Array(1000)
		for range 3 {
			w.Uint(1)
		}
		w.End()
	})
	r.Reset(long)
	n, err := r.Array()
	if err == nil && n > r.Len() {
		t.Errorf("Array of a 1000-value header with 3 values: %d, with %d bytes left", n, r.Len())
	}
}

// FuzzReader adds seeds and fuzzes a Reader of c with arbitrary input: no
// method may panic, and Any, Skip and Value must agree on where a value
// ends.
func FuzzReader(f *testing.F, c message.Codec, seeds ...[]byte) {
	for _, v := range values() {
		if b := encode(c, v.write); len(b) < 1024 {
			f.Add(b)
		}
	}
	f.Add(encode(c, WriteChat))
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := c.NewReader()

		r.Reset(data)
		_, anyErr := r.Any()
		anyLen := r.Len()
		r.Reset(data)
		skipErr := r.Skip()
		skipLen := r.Len()
		if anyErr == nil && (skipErr != nil || skipLen != anyLen) {
			t.Fatalf("Any ends with %d bytes left, Skip with %d, %v", anyLen, skipLen, skipErr)
		}
		r.Reset(data)
		var v any
		if err := r.Value(&v); err == nil && (skipErr != nil || r.Len() != skipLen) {
			t.Fatalf("Value ends with %d bytes left, Skip with %d, %v", r.Len(), skipLen, skipErr)
		}

		// Walk the input as a message, trying each method in turn.
		r.Reset(data)
		for step := 0; r.Len() > 0 && step < 100; step++ {
			before := r.Len()
			var err error
			switch step % 12 {
			case 0:
				_, err = r.Array()
			case 1:
				_, err = r.Int()
			case 2:
				_, err = r.Uint()
			case 3:
				_, err = r.Float64()
			case 4:
				_, err = r.String()
			case 5:
				_, err = r.Bytes()
			case 6:
				_, err = r.Bool()
			case 7:
				r.IsNil()
			case 8:
				_, err = r.Any()
			case 9:
				var v any
				err = r.Value(&v)
			case 10:
				err = r.End()
			case 11:
				err = r.Skip()
			}
			if err != nil && r.Skip() != nil && r.End() != nil {
				return
			}
			if err != nil && r.Len() == before {
				return // stuck: every method refuses this input
			}
		}
	})
}

// FuzzRoundTrip fuzzes writing values and reading them back.
func FuzzRoundTrip(f *testing.F, c message.Codec, opt Options) {
	f.Add(int64(-1), uint64(1), 1.5, "Tom", []byte("x"), true)
	f.Add(int64(math.MinInt64), uint64(math.MaxUint64), math.Inf(1), "\xff\u2028\"", []byte{}, false)
	f.Fuzz(func(t *testing.T, i int64, u uint64, fl float64, s string, b []byte, bl bool) {
		w := c.NewWriter()
		w.Reset(nil)
		w.Array(6)
		w.Int(i)
		w.Uint(u)
		if opt.FiniteFloatsOnly && (math.IsNaN(fl) || math.IsInf(fl, 0)) {
			fl = 0
		}
		w.Float64(fl)
		w.String(s)
		w.Bytes(b)
		w.Bool(bl)
		w.End()
		r := c.NewReader()
		r.Reset(w.Buffer())
		if n, err := r.Array(); n != 6 || err != nil {
			t.Fatalf("Array: %d, %v", n, err)
		}
		if got, err := r.Int(); got != i || err != nil {
			t.Fatalf("Int: %d, %v; want %d", got, err, i)
		}
		if got, err := r.Uint(); got != u || err != nil {
			t.Fatalf("Uint: %d, %v; want %d", got, err, u)
		}
		if got, err := r.Float64(); err != nil || got != fl && !(math.IsNaN(fl) && math.IsNaN(got)) {
			t.Fatalf("Float64: %v, %v; want %v", got, err, fl)
		}
		want := s
		if opt.ReplacesInvalidUTF8 && !utf8.ValidString(s) {
			want = string([]rune(s))
		}
		if got, err := r.String(); got != want || err != nil {
			t.Fatalf("String: %q, %v; want %q", got, err, want)
		}
		if got, err := r.Bytes(); !bytes.Equal(got, b) || err != nil {
			t.Fatalf("Bytes: %q, %v; want %q", got, err, b)
		}
		if got, err := r.Bool(); got != bl || err != nil {
			t.Fatalf("Bool: %v, %v", got, err)
		}
		if err := r.End(); err != nil || r.Len() != 0 {
			t.Fatalf("End: %v, %d bytes left", err, r.Len())
		}
	})
}
