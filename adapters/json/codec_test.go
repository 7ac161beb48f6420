package json_test

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/gonetic/gonetic/adapters/internal/codectest"
	"github.com/gonetic/gonetic/adapters/json"
	"github.com/gonetic/gonetic/message"
)

func TestCodec(t *testing.T) {
	codectest.Run(t, json.New(), codectest.Options{ReplacesInvalidUTF8: true, FiniteFloatsOnly: true})
}

func TestName(t *testing.T) {
	if got := json.New().Name(); got != "json" {
		t.Errorf("Name: %q", got)
	}
}

func encode(write func(message.Writer)) string {
	w := json.New().NewWriter()
	w.Reset(nil)
	write(w)
	return string(w.Buffer())
}

func TestChatText(t *testing.T) {
	if got, want := encode(codectest.WriteChat), `[1,"Tom","Test message"]`; got != want {
		t.Fatalf("chat message: %s, want %s", got, want)
	}
}

func TestWriterText(t *testing.T) {
	for _, tc := range []struct {
		write func(message.Writer)
		want  string
	}{
		{func(w message.Writer) { w.Nil() }, `null`},
		{func(w message.Writer) { w.Bool(true) }, `true`},
		{func(w message.Writer) { w.Int(math.MinInt64) }, `-9223372036854775808`},
		{func(w message.Writer) { w.Uint(math.MaxUint64) }, `18446744073709551615`},
		{func(w message.Writer) { w.Float64(2) }, `2`},
		{func(w message.Writer) { w.Float64(1e21) }, `1e+21`},
		{func(w message.Writer) { w.Float64(1e-7) }, `1e-7`},
		{func(w message.Writer) { w.Float64(math.NaN()) }, `null`},
		{func(w message.Writer) { w.Float32(float32(math.Inf(-1))) }, `null`},
		{func(w message.Writer) { w.Float32(0.1) }, `0.1`},
		{func(w message.Writer) { w.String("a\"\\\n\x01<&>\u2028\xffé") }, `"a\"\\\n\u0001<&>\u2028\ufffdé"`},
		{func(w message.Writer) { w.Bytes([]byte{0, 1, 2, 3}) }, `"AAECAw=="`},
		{func(w message.Writer) { w.Bytes(nil) }, `""`},
		{func(w message.Writer) { w.Array(0); w.End() }, `[]`},
		{func(w message.Writer) {
			w.Array(3)
			w.Array(0)
			w.End()
			w.Array(2)
			w.Int(1)
			w.Nil()
			w.End()
			if err := w.Value(map[string]int{"a": 1}); err != nil {
				t.Fatal(err)
			}
			w.End()
		}, `[[],[1,null],{"a":1}]`},
		{func(w message.Writer) { w.Int(1); w.String("x"); w.Array(0); w.End(); w.Int(2) }, "1\n\"x\"\n[]\n2"},
		{func(w message.Writer) {
			w.Array(2)
			w.Int(1)
			if err := w.Value(func() {}); err == nil {
				t.Error("Value(func): no error")
			}
			w.Int(2)
			w.End()
		}, `[1,2]`},
	} {
		if got := encode(tc.write); got != tc.want {
			t.Errorf("got %s, want %s", got, tc.want)
		}
	}
}

// TestStringsLikeEncodingJSON: every string encodes as encoding/json
// encodes it without HTML escaping, and decodes as it decodes.
func TestStringsLikeEncodingJSON(t *testing.T) {
	var all []string
	for c := range 256 {
		all = append(all, string([]byte{byte(c)}), "a"+string([]byte{byte(c)})+"é")
	}
	all = append(all, "\u2028\u2029", "\U0001F3AE", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82", strings.Repeat("é", 100))
	r := json.New().NewReader()
	for _, s := range all {
		var want bytes.Buffer
		enc := stdjson.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		got := encode(func(w message.Writer) { w.String(s) })
		if got+"\n" != want.String() {
			t.Errorf("String(%q): %s, encoding/json %s", s, got, want.String())
		}
		var back string
		if err := stdjson.Unmarshal([]byte(got), &back); err != nil {
			t.Fatal(err)
		}
		r.Reset([]byte(got))
		if ours, err := r.String(); ours != back || err != nil {
			t.Errorf("read %s: %q, %v; encoding/json %q", got, ours, err, back)
		}
	}
}

func TestUnescape(t *testing.T) {
	r := json.New().NewReader()
	for in, want := range map[string]string{
		`"\u00e9\u4e16\uD83C\uDFAE"`: "é世🎮",
		`"\ud83c\udfae"`:             "🎮",
		`"\ud83c"`:                   "\ufffd",
		`"\ud83cx"`:                  "\ufffdx",
		`"\udfae\ud83c"`:             "\ufffd\ufffd",
		`"\ud83c\u0041"`:             "\ufffdA",
		`"\/\b\f\n\r\t\"\\"`:         "/\b\f\n\r\t\"\\",
		`"\u0000"`:                   "\x00",
		"\"\xff\xfe\"":               "\ufffd\ufffd",
	} {
		var std string
		if err := stdjson.Unmarshal([]byte(in), &std); err != nil || std != want {
			t.Errorf("encoding/json disagrees on %s: %q, %v", in, std, err)
		}
		r.Reset([]byte(in))
		if got, err := r.String(); got != want || err != nil {
			t.Errorf("String of %s: %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestReadSyntax(t *testing.T) {
	r := json.New().NewReader()
	// Whitespace anywhere between tokens.
	r.Reset([]byte(" \t\n[ 1 ,\r\n \"Tom\" , [ ] , { \"a\" : [ true , null ] } ] \n"))
	if n, err := r.Array(); n != 4 || err != nil {
		t.Fatalf("Array: %d, %v", n, err)
	}
	if v, err := r.Int(); v != 1 || err != nil {
		t.Errorf("Int: %d, %v", v, err)
	}
	if v, err := r.String(); v != "Tom" || err != nil {
		t.Errorf("String: %q, %v", v, err)
	}
	if n, err := r.Array(); n != 0 || err != nil {
		t.Errorf("Array: %d, %v", n, err)
	}
	if err := r.End(); err != nil {
		t.Error(err)
	}
	if v, err := r.Any(); err != nil || !reflect.DeepEqual(v, map[string]any{"a": []any{true, nil}}) {
		t.Errorf("Any: %#v, %v", v, err)
	}
	if err := r.End(); err != nil || r.Len() != 0 {
		t.Errorf("End: %v, %d left", err, r.Len())
	}

	bad := []string{
		``, ` `, `[`, `[1`, `[1,`, `[1,]`, `[,1]`, `[1 2]`, `{`, `{"a"`, `{"a":`, `{"a":1`, `{"a" 1}`,
		`{a:1}`, `{"a":1,}`, `tru`, `truex`, `nul`, `nil`, `"abc`, `"\x"`, `"\u12"`, `"\u12g4"`, "\"\x01\"",
		`01`, `-`, `1.`, `1.e3`, `1e`, `1e+`, `.5`, `+1`, `1x`, `]`, `}`, `NaN`, `Infinity`, `'a'`,
	}
	for _, in := range bad {
		r.Reset([]byte(in))
		if err := r.Skip(); err == nil && r.Len() == 0 {
			t.Errorf("Skip of %q: no error", in)
		}
		r.Reset([]byte(in))
		if _, err := r.Any(); err == nil && r.Len() == 0 {
			t.Errorf("Any of %q: no error", in)
		}
		var std any
		if stdjson.Unmarshal([]byte(in), &std) == nil {
			t.Errorf("encoding/json accepts %q", in)
		}
	}
}

func TestNumbers(t *testing.T) {
	r := json.New().NewReader()
	for _, tc := range []struct {
		in   string
		i    int64
		iErr error
		u    uint64
		uErr error
		f    float64
		any  any
	}{
		{in: "0", any: int64(0)},
		{in: "-0", any: int64(0)},
		{in: "12", i: 12, u: 12, f: 12, any: int64(12)},
		{in: "-12", i: -12, uErr: json.ErrRange, f: -12, any: int64(-12)},
		{in: "9223372036854775807", i: math.MaxInt64, u: math.MaxInt64, f: math.MaxInt64, any: int64(math.MaxInt64)},
		{in: "9223372036854775808", iErr: json.ErrRange, u: 1 << 63, f: 1 << 63, any: uint64(1 << 63)},
		{in: "-9223372036854775808", i: math.MinInt64, uErr: json.ErrRange, f: math.MinInt64, any: int64(math.MinInt64)},
		{in: "-9223372036854775809", iErr: json.ErrRange, uErr: json.ErrRange, f: -9223372036854775809, any: float64(-9223372036854775809)},
		{in: "18446744073709551615", iErr: json.ErrRange, u: math.MaxUint64, f: math.MaxUint64, any: uint64(math.MaxUint64)},
		{in: "18446744073709551616", iErr: json.ErrRange, uErr: json.ErrRange, f: 18446744073709551616, any: float64(18446744073709551616)},
		{in: "1.5", iErr: json.ErrType, uErr: json.ErrType, f: 1.5, any: 1.5},
		{in: "1e3", iErr: json.ErrType, uErr: json.ErrType, f: 1000, any: 1000.0},
		{in: "-2.5E-3", iErr: json.ErrType, uErr: json.ErrType, f: -2.5e-3, any: -2.5e-3},
		{in: "1.0", iErr: json.ErrType, uErr: json.ErrType, f: 1, any: 1.0},
	} {
		b := []byte(tc.in)
		r.Reset(b)
		i, err := r.Int()
		if !errors.Is(err, tc.iErr) || (tc.iErr == nil && (err != nil || i != tc.i)) {
			t.Errorf("Int of %s: %d, %v", tc.in, i, err)
		}
		r.Reset(b)
		u, err := r.Uint()
		if !errors.Is(err, tc.uErr) || (tc.uErr == nil && (err != nil || u != tc.u)) {
			t.Errorf("Uint of %s: %d, %v", tc.in, u, err)
		}
		r.Reset(b)
		if f, err := r.Float64(); f != tc.f || err != nil {
			t.Errorf("Float64 of %s: %v, %v", tc.in, f, err)
		}
		r.Reset(b)
		if a, err := r.Any(); a != tc.any || err != nil {
			t.Errorf("Any of %s: %#v, %v; want %#v", tc.in, a, err, tc.any)
		}
	}
	r.Reset([]byte("1e400"))
	if _, err := r.Float64(); !errors.Is(err, json.ErrRange) {
		t.Errorf("Float64 of 1e400: %v", err)
	}
}

func TestErrors(t *testing.T) {
	r := json.New().NewReader()
	for _, tc := range []struct {
		in   string
		read func() error
		want error
	}{
		{`"x"`, func() error { _, err := r.Int(); return err }, json.ErrType},
		{`"x!"`, func() error { _, err := r.Bytes(); return err }, json.ErrType},
		{`"abc`, func() error { _, err := r.String(); return err }, json.ErrTruncated},
		{`[1,2]`, func() error { r.Array(); r.Int(); return r.End() }, json.ErrType},
		{`[1]`, func() error { r.Array(); r.Int(); r.Int(); _, err := r.Int(); return err }, json.ErrType},
		{`]`, func() error { return r.End() }, json.ErrInvalid},
		{`@`, func() error { return r.Skip() }, json.ErrInvalid},
		{strings.Repeat("[", 101) + strings.Repeat("]", 101), func() error { return r.Skip() }, json.ErrInvalid},
		{strings.Repeat(`{"a":`, 101) + "1" + strings.Repeat("}", 101), func() error { _, err := r.Any(); return err }, json.ErrInvalid},
	} {
		r.Reset([]byte(tc.in))
		if err := tc.read(); !errors.Is(err, tc.want) {
			t.Errorf("%.20s: got %v, want %v", tc.in, err, tc.want)
		}
	}
}

// TestCrossEncodingJSON: our output decodes with encoding/json to the same
// values, and encoding/json's output decodes with our Reader.
func TestCrossEncodingJSON(t *testing.T) {
	text := encode(func(w message.Writer) {
		w.Array(10)
		w.Uint(math.MaxUint64)
		w.Int(math.MinInt64)
		w.Float64(-1.25e-300)
		w.Float32(3.4e38)
		w.String("Tom \"the\" <cat>\n")
		w.Bytes([]byte{0xff, 0, 1})
		w.Bool(false)
		w.Nil()
		w.Array(1)
		w.Array(0)
		w.End()
		w.End()
		if err := w.Value(struct{ A, B int }{1, 2}); err != nil {
			t.Fatal(err)
		}
		w.End()
	})
	var v struct {
		U uint64
		I int64
		F float64
		G float32
		S string
		B []byte
		T bool
		N *int
		A [][]int
		O map[string]int
	}
	var raw []stdjson.RawMessage
	if err := stdjson.Unmarshal([]byte(text), &raw); err != nil || len(raw) != 10 {
		t.Fatalf("encoding/json: %v, %d values", err, len(raw))
	}
	for i, p := range []any{&v.U, &v.I, &v.F, &v.G, &v.S, &v.B, &v.T, &v.N, &v.A, &v.O} {
		if err := stdjson.Unmarshal(raw[i], p); err != nil {
			t.Fatalf("value %d: %v", i, err)
		}
	}
	if v.U != math.MaxUint64 || v.I != math.MinInt64 || v.F != -1.25e-300 || v.G != 3.4e38 ||
		v.S != "Tom \"the\" <cat>\n" || !bytes.Equal(v.B, []byte{0xff, 0, 1}) || v.T || v.N != nil ||
		!reflect.DeepEqual(v.A, [][]int{{}}) || !reflect.DeepEqual(v.O, map[string]int{"A": 1, "B": 2}) {
		t.Errorf("encoding/json decoded %+v", v)
	}

	in := []any{uint64(math.MaxUint64), int64(math.MinInt64), 0.1, float32(1.5), "é\u2028<>&\x00",
		[]byte("bytes"), true, nil, map[string]any{"k": []any{1, "v"}}}
	b, err := stdjson.Marshal(in) // with HTML escaping: \u003c and friends
	if err != nil {
		t.Fatal(err)
	}
	r := json.New().NewReader()
	r.Reset(b)
	if n, err := r.Array(); n != len(in) || err != nil {
		t.Fatalf("Array: %d, %v", n, err)
	}
	check := func(what string, got, want any, err error) {
		t.Helper()
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %#v, %v; want %#v", what, got, err, want)
		}
	}
	u, err := r.Uint()
	check("Uint", u, uint64(math.MaxUint64), err)
	i, err := r.Int()
	check("Int", i, int64(math.MinInt64), err)
	f, err := r.Float64()
	check("Float64", f, 0.1, err)
	f, err = r.Float64()
	check("Float64", f, 1.5, err)
	s, err := r.String()
	check("String", s, "é\u2028<>&\x00", err)
	bs, err := r.Bytes()
	check("Bytes", bs, []byte("bytes"), err)
	bo, err := r.Bool()
	check("Bool", bo, true, err)
	check("IsNil", r.IsNil(), true, nil)
	a, err := r.Any()
	check("Any", a, map[string]any{"k": []any{int64(1), "v"}}, err)
	check("End", nil, nil, r.End())
	if r.Len() != 0 {
		t.Errorf("%d bytes left", r.Len())
	}
}

func TestEndChecks(t *testing.T) {
	r := json.New().NewReader()
	r.Reset([]byte(`[1,2]`))
	r.Array()
	r.Int()
	if err := r.End(); err == nil {
		t.Error("End with a value left: no error")
	}
	if v, err := r.Int(); v != 2 || err != nil {
		t.Errorf("Int after the failed End: %d, %v", v, err)
	}
	if err := r.End(); err != nil {
		t.Error(err)
	}
	if err := r.End(); err == nil {
		t.Error("End without an array: no error")
	}
}
