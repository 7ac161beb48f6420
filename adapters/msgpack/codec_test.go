package msgpack_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	vmsgpack "github.com/vmihailenco/msgpack/v5"

	"github.com/gonetic/gonetic/adapters/internal/codectest"
	"github.com/gonetic/gonetic/adapters/msgpack"
	"github.com/gonetic/gonetic/message"
)

func TestCodec(t *testing.T) {
	codectest.Run(t, msgpack.New(), codectest.Options{})
}

func TestName(t *testing.T) {
	if got := msgpack.New().Name(); got != "msgpack" {
		t.Errorf("Name: %q", got)
	}
}

func TestChatBytes(t *testing.T) {
	w := msgpack.New().NewWriter()
	w.Reset(nil)
	codectest.WriteChat(w)
	const want = "93 01 a3 54 6f 6d ac 54 65 73 74 20 6d 65 73 73 61 67 65"
	if got := hex.EncodeToString(w.Buffer()); got != strings.ReplaceAll(want, " ", "") {
		t.Fatalf("chat message: % x (%d bytes), want %s", w.Buffer(), len(w.Buffer()), want)
	}
}

func encode(write func(message.Writer)) []byte {
	w := msgpack.New().NewWriter()
	w.Reset(nil)
	write(w)
	return w.Buffer()
}

// TestSmallestForm checks the exact bytes at every boundary.
func TestSmallestForm(t *testing.T) {
	for _, tc := range []struct {
		write func(message.Writer)
		want  string
	}{
		{func(w message.Writer) { w.Nil() }, "c0"},
		{func(w message.Writer) { w.Bool(false) }, "c2"},
		{func(w message.Writer) { w.Bool(true) }, "c3"},
		{func(w message.Writer) { w.Int(0) }, "00"},
		{func(w message.Writer) { w.Int(127) }, "7f"},
		{func(w message.Writer) { w.Int(128) }, "cc80"},
		{func(w message.Writer) { w.Int(255) }, "ccff"},
		{func(w message.Writer) { w.Int(256) }, "cd0100"},
		{func(w message.Writer) { w.Int(65535) }, "cdffff"},
		{func(w message.Writer) { w.Int(65536) }, "ce00010000"},
		{func(w message.Writer) { w.Int(math.MaxUint32) }, "ceffffffff"},
		{func(w message.Writer) { w.Int(math.MaxUint32 + 1) }, "cf0000000100000000"},
		{func(w message.Writer) { w.Int(math.MaxInt64) }, "cf7fffffffffffffff"},
		{func(w message.Writer) { w.Int(-1) }, "ff"},
		{func(w message.Writer) { w.Int(-32) }, "e0"},
		{func(w message.Writer) { w.Int(-33) }, "d0df"},
		{func(w message.Writer) { w.Int(-128) }, "d080"},
		{func(w message.Writer) { w.Int(-129) }, "d1ff7f"},
		{func(w message.Writer) { w.Int(-32768) }, "d18000"},
		{func(w message.Writer) { w.Int(-32769) }, "d2ffff7fff"},
		{func(w message.Writer) { w.Int(math.MinInt32) }, "d280000000"},
		{func(w message.Writer) { w.Int(math.MinInt32 - 1) }, "d3ffffffff7fffffff"},
		{func(w message.Writer) { w.Int(math.MinInt64) }, "d38000000000000000"},
		{func(w message.Writer) { w.Uint(math.MaxUint64) }, "cfffffffffffffffff"},
		{func(w message.Writer) { w.Float32(1.5) }, "ca3fc00000"},
		{func(w message.Writer) { w.Float64(1.5) }, "cb3ff8000000000000"},
		{func(w message.Writer) { w.String("") }, "a0"},
		{func(w message.Writer) { w.String(strings.Repeat("a", 31)) }, "bf" + strings.Repeat("61", 31)},
		{func(w message.Writer) { w.String(strings.Repeat("a", 32)) }, "d920" + strings.Repeat("61", 32)},
		{func(w message.Writer) { w.String(strings.Repeat("a", 256)) }, "da0100" + strings.Repeat("61", 256)},
		{func(w message.Writer) { w.String(strings.Repeat("a", 65536)) }, "db00010000" + strings.Repeat("61", 65536)},
		{func(w message.Writer) { w.Bytes(nil) }, "c400"},
		{func(w message.Writer) { w.Bytes(make([]byte, 256)) }, "c50100" + strings.Repeat("00", 256)},
		{func(w message.Writer) { w.Bytes(make([]byte, 65536)) }, "c600010000" + strings.Repeat("00", 65536)},
		{func(w message.Writer) { w.Array(0); w.End() }, "90"},
		{func(w message.Writer) { w.Array(15) }, "9f"},
		{func(w message.Writer) { w.Array(16) }, "dc0010"},
		{func(w message.Writer) { w.Array(65536) }, "dd00010000"},
	} {
		if got := hex.EncodeToString(encode(tc.write)); got != tc.want {
			t.Errorf("got %.40s, want %.40s", got, tc.want)
		}
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReadForms reads forms our Writer never writes but other encoders do.
func TestReadForms(t *testing.T) {
	r := msgpack.New().NewReader()
	for _, tc := range []struct {
		in   string
		i    int64
		iErr bool
		u    uint64
		uErr bool
	}{
		{in: "cc05", i: 5, u: 5},
		{in: "cd0005", i: 5, u: 5},
		{in: "ce00000005", i: 5, u: 5},
		{in: "cf0000000000000005", i: 5, u: 5},
		{in: "d005", i: 5, u: 5},
		{in: "d10005", i: 5, u: 5},
		{in: "d200000005", i: 5, u: 5},
		{in: "d30000000000000005", i: 5, u: 5},
		{in: "d0ff", i: -1, uErr: true},
		{in: "d3ffffffffffffffff", i: -1, uErr: true},
		{in: "cf8000000000000000", iErr: true, u: 1 << 63},
	} {
		b := mustHex(t, tc.in)
		r.Reset(b)
		i, err := r.Int()
		if (err != nil) != tc.iErr || !tc.iErr && i != tc.i {
			t.Errorf("Int of %s: %d, %v", tc.in, i, err)
		}
		if tc.iErr && !errors.Is(err, msgpack.ErrRange) {
			t.Errorf("Int of %s: %v is not ErrRange", tc.in, err)
		}
		r.Reset(b)
		u, err := r.Uint()
		if (err != nil) != tc.uErr || !tc.uErr && u != tc.u {
			t.Errorf("Uint of %s: %d, %v", tc.in, u, err)
		}
		r.Reset(b)
		f, err := r.Float64()
		if want := float64(tc.i); err != nil || !tc.iErr && f != want {
			t.Errorf("Float64 of %s: %v, %v", tc.in, f, err)
		}
	}
	// str8 holding a short string, bin as a string, str as bytes, nil as bytes.
	r.Reset(mustHex(t, "d903 414243 c403 444546 a3 474849 c0"))
	if s, err := r.String(); s != "ABC" || err != nil {
		t.Errorf("str8: %q, %v", s, err)
	}
	if s, err := r.String(); s != "DEF" || err != nil {
		t.Errorf("bin as string: %q, %v", s, err)
	}
	if b, err := r.Bytes(); string(b) != "GHI" || err != nil {
		t.Errorf("str as bytes: %q, %v", b, err)
	}
	if b, err := r.Bytes(); b != nil || err != nil {
		t.Errorf("nil as bytes: %v, %v", b, err)
	}
	// array16 and array32 of a few values.
	r.Reset(mustHex(t, "dc0002 01 02 dd00000001 03"))
	if n, err := r.Array(); n != 2 || err != nil {
		t.Errorf("array16: %d, %v", n, err)
	}
	r.Skip()
	r.Skip()
	if n, err := r.Array(); n != 1 || err != nil {
		t.Errorf("array32: %d, %v", n, err)
	}
}

// TestHugeLengths: headers that claim more than the input holds are errors
// before anything is allocated.
func TestHugeLengths(t *testing.T) {
	r := msgpack.New().NewReader()
	for _, in := range []string{
		"dbffffffff 616263", "c6ffffffff 616263", "ddffffffff 010203",
		"dfffffffff 010203", "c9ffffffff 01 0203", "da0100 61",
	} {
		b := mustHex(t, in)
		for name, f := range map[string]func() error{
			"String": func() error { _, err := r.String(); return err },
			"Bytes":  func() error { _, err := r.Bytes(); return err },
			"Array":  func() error { _, err := r.Array(); return err },
			"Any":    func() error { _, err := r.Any(); return err },
			"Skip":   r.Skip,
			"Value":  func() error { var v any; return r.Value(&v) },
		} {
			r.Reset(b)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			if err := f(); err == nil {
				t.Errorf("%s of %s: no error", name, in)
			}
			runtime.ReadMemStats(&after)
			if n := after.TotalAlloc - before.TotalAlloc; n > 64<<10 {
				t.Errorf("%s of %s: allocated %d bytes", name, in, n)
			}
		}
	}
	r.Reset(mustHex(t, "dbffffffff 616263"))
	_, err := r.String()
	if !errors.Is(err, msgpack.ErrTruncated) || err.Error() != "msgpack: truncated string: need 4294967295 bytes, have 3" {
		t.Errorf("error: %v", err)
	}
	r.Reset(mustHex(t, "ac 546573"))
	if _, err := r.String(); err == nil || err.Error() != "msgpack: truncated string: need 12 bytes, have 3" {
		t.Errorf("error: %v", err)
	}
}

func TestErrors(t *testing.T) {
	r := msgpack.New().NewReader()
	for _, tc := range []struct {
		in   string
		read func() error
		want error
	}{
		{"a3414243", func() error { _, err := r.Int(); return err }, msgpack.ErrType},
		{"c1", func() error { return r.Skip() }, msgpack.ErrInvalid},
		{"c1", func() error { _, err := r.Any(); return err }, msgpack.ErrInvalid},
		{"", func() error { _, err := r.Bool(); return err }, msgpack.ErrTruncated},
		{"cd01", func() error { _, err := r.Uint(); return err }, msgpack.ErrTruncated},
		{"ff", func() error { _, err := r.Uint(); return err }, msgpack.ErrRange},
		{"81 01 02", func() error { _, err := r.Any(); return err }, msgpack.ErrType},     // int key
		{"81 c40161 02", func() error { _, err := r.Any(); return err }, msgpack.ErrType}, // bin key
		{"d40102", func() error { _, err := r.Any(); return err }, msgpack.ErrType},       // ext
	} {
		r.Reset(mustHex(t, tc.in))
		if err := tc.read(); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.in, err, tc.want)
		}
	}
}

func TestSkipExt(t *testing.T) {
	r := msgpack.New().NewReader()
	// fixext 1/2/4/8/16, ext8/16/32, then a marker.
	in := "d4 01 aa  d5 01 aabb  d6 01 aabbccdd  d7 01 0000000000000000  d8 01 00000000000000000000000000000000" +
		"c7 02 05 aabb  c8 0001 05 aa  c9 00000000 05  2a"
	r.Reset(mustHex(t, in))
	for i := range 8 {
		if err := r.Skip(); err != nil {
			t.Fatalf("Skip %d: %v", i, err)
		}
	}
	if n, err := r.Int(); n != 42 || err != nil || r.Len() != 0 {
		t.Errorf("after ext: %d, %v, %d left", n, err, r.Len())
	}
	// A map of everything.
	r.Reset(mustHex(t, "82 a161 d6ff00000000 a162 92 c0 c3"))
	if err := r.Skip(); err != nil || r.Len() != 0 {
		t.Errorf("Skip map: %v, %d left", err, r.Len())
	}
}

func TestAnyKinds(t *testing.T) {
	b := encode(func(w message.Writer) {
		w.Array(4)
		w.Bytes([]byte{1, 2})
		w.Float32(0.1)
		w.String("\xff")
		w.Bytes(nil)
		w.End()
	})
	r := msgpack.New().NewReader()
	r.Reset(b)
	got, err := r.Any()
	want := []any{[]byte{1, 2}, float64(float32(0.1)), "\xff", []byte{}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Any: %#v, %v", got, err)
	}
	b[3] = 9 // the returned bytes are a copy
	if got.([]any)[0].([]byte)[0] != 1 {
		t.Error("Any's []byte aliases the input")
	}
}

// TestCrossVmihailenco: our Writer's output decodes with
// vmihailenco/msgpack, and its output decodes with our Reader.
func TestCrossVmihailenco(t *testing.T) {
	b := encode(func(w message.Writer) {
		w.Array(12)
		w.Uint(1)
		w.Int(-129)
		w.Int(math.MinInt64)
		w.Uint(math.MaxUint64)
		w.Float32(0.5)
		w.Float64(-1e300)
		w.String("Tom")
		w.String(strings.Repeat("é", 200))
		w.Bytes([]byte{0, 1, 2})
		w.Bool(true)
		w.Nil()
		w.Array(2)
		w.Array(0)
		w.End()
		w.Int(300)
		w.End()
		w.End()
	})
	var v struct {
		_msgpack struct{} `msgpack:",as_array"`
		A        uint8
		B        int16
		C        int64
		D        uint64
		E        float32
		F        float64
		G        string
		H        string
		I        []byte
		J        bool
		K        *int
		L        []any
	}
	if err := vmsgpack.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if v.A != 1 || v.B != -129 || v.C != math.MinInt64 || v.D != math.MaxUint64 || v.E != 0.5 ||
		v.F != -1e300 || v.G != "Tom" || v.H != strings.Repeat("é", 200) || !bytes.Equal(v.I, []byte{0, 1, 2}) ||
		!v.J || v.K != nil || len(v.L) != 2 {
		t.Errorf("vmihailenco decoded %+v", v)
	}

	// And back: vmihailenco's encoding, read by hand.
	in := []any{
		uint64(1), int64(-129), int8(-5), uint16(65535), int64(math.MinInt64), uint64(math.MaxUint64),
		float32(0.25), 1e300, "Tom", strings.Repeat("x", 40000), []byte{9}, false, nil,
		map[string]any{"k": []any{int64(1), "v"}},
	}
	vb, err := vmsgpack.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	r := msgpack.New().NewReader()
	r.Reset(vb)
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
	check("Uint", u, uint64(1), err)
	i, err := r.Int()
	check("Int", i, int64(-129), err)
	i, err = r.Int()
	check("Int", i, int64(-5), err)
	i, err = r.Int()
	check("Int", i, int64(65535), err)
	i, err = r.Int()
	check("Int", i, int64(math.MinInt64), err)
	u, err = r.Uint()
	check("Uint", u, uint64(math.MaxUint64), err)
	f, err := r.Float64()
	check("Float64", f, 0.25, err)
	f, err = r.Float64()
	check("Float64", f, 1e300, err)
	s, err := r.String()
	check("String", s, "Tom", err)
	s, err = r.String()
	check("String", s, strings.Repeat("x", 40000), err)
	bs, err := r.Bytes()
	check("Bytes", bs, []byte{9}, err)
	bo, err := r.Bool()
	check("Bool", bo, false, err)
	check("IsNil", r.IsNil(), true, nil)
	a, err := r.Any()
	check("Any", a, map[string]any{"k": []any{int64(1), "v"}}, err)
	if r.Len() != 0 {
		t.Errorf("%d bytes left", r.Len())
	}

	// Value both ways.
	type inner struct {
		Name  string
		Score float64
		Tags  map[string]int
	}
	w := msgpack.New().NewWriter()
	w.Reset(nil)
	want := inner{"x", 2.5, map[string]int{"a": 1}}
	if err := w.Value(want); err != nil {
		t.Fatal(err)
	}
	var got inner
	if err := vmsgpack.Unmarshal(w.Buffer(), &got); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("vmihailenco of Value: %+v, %v", got, err)
	}
}

func TestWriterPanicsOnNegativeArray(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Array(-1) did not panic")
		}
	}()
	msgpack.New().NewWriter().Array(-1)
}

// TestStringsShared: a short string read again is the one read before,
// with no allocation; strings that share a cache slot, long ones and the
// empty one all still read back exactly.
func TestStringsShared(t *testing.T) {
	w := msgpack.New().NewWriter()
	r := msgpack.New().NewReader()
	read := func(s string) string {
		t.Helper()
		w.Reset(nil)
		w.String(s)
		buf := w.Buffer()
		r.Reset(buf)
		got, err := r.String()
		if err != nil {
			t.Fatal(err)
		}
		if got != s {
			t.Fatalf("read %q, wrote %q", got, s)
		}
		buf[len(buf)-1] ^= 0xff // the string read must not alias the input
		if len(s) > 0 && got != s {
			t.Fatalf("a string read changed with its input: %q", got)
		}
		return got
	}
	first := read("Tom")
	if again := read("Tom"); unsafe.StringData(again) != unsafe.StringData(first) {
		t.Error("a short string read twice was allocated twice")
	}
	w.Reset(nil)
	w.String("Tom")
	buf := w.Buffer()
	if n := testing.AllocsPerRun(100, func() {
		r.Reset(buf)
		if _, err := r.String(); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("reading a string read before allocates %v times", n)
	}
	// More strings than the cache has slots, so many share one, read
	// round and round; and lengths on both sides of the cached limit.
	var all []string
	for i := range 500 {
		all = append(all, strings.Repeat(string(rune('a'+i%26)), 1+i%40)+string(rune('A'+i/26)))
	}
	all = append(all, "", strings.Repeat("x", 100))
	for range 3 {
		for _, s := range all {
			read(s)
		}
	}
}

// TestBytesHeader: AppendBytesHeader writes what Bytes writes before the
// bytes, and ReadBytesHeader reads it back, at every form's boundary.
func TestBytesHeader(t *testing.T) {
	for _, n := range []int{0, 1, 255, 256, 65535, 65536, 1 << 20} {
		v := make([]byte, n)
		full := encode(func(w message.Writer) { w.Bytes(v) })
		hdr := msgpack.AppendBytesHeader([]byte{0x2a}, n)[1:]
		if !bytes.Equal(hdr, full[:len(full)-n]) {
			t.Errorf("%d bytes: header % x, Bytes wrote % x", n, hdr, full[:len(full)-n])
		}
		got, size, err := msgpack.ReadBytesHeader(full[:len(hdr)])
		if got != n || size != len(hdr) || err != nil {
			t.Errorf("%d bytes: read %d, header of %d, %v", n, got, size, err)
		}
	}
	for _, in := range []string{"", "c5 01", "c6 000000", "a3", "92"} {
		if _, _, err := msgpack.ReadBytesHeader(mustHex(t, in)); err == nil {
			t.Errorf("ReadBytesHeader of %q: no error", in)
		}
	}
}
