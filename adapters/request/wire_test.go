package request

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/gonetic/gonetic/adapters/tcp"
	vm "github.com/vmihailenco/msgpack/v5"
)

// The bytes the package documentation shows for the request "hi".
func TestWireExample(t *testing.T) {
	frame, err := tcp.Binary{}.AppendFrame(nil, appendRequest(nil, []byte("hi")))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := hex.EncodeToString(frame), "0000000992a3726571c4026869"; got != want {
		t.Fatalf("frame %s, want %s", got, want)
	}
}

// Frames written by another msgpack library, as a program in another
// language would: str payloads and nil are accepted.
func TestWireForeign(t *testing.T) {
	enc := func(v any) []byte {
		b, err := vm.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if p, err := decodeRequest(enc([]any{"req", "text"})); err != nil || string(p) != "text" {
		t.Errorf("str request: %q, %v", p, err)
	}
	if p, err := decodeRequest(enc([]any{"req", []byte{1, 2}})); err != nil || !bytes.Equal(p, []byte{1, 2}) {
		t.Errorf("bin request: %q, %v", p, err)
	}
	if p, err := decodeRequest(enc([]any{"req", nil})); err != nil || p == nil || len(p) != 0 {
		t.Errorf("nil request: %q, %v", p, err)
	}
	if p, re, err := decodeReply(enc([]any{"ok", "fine"})); err != nil || re != nil || string(p) != "fine" {
		t.Errorf("ok reply: %q, %v, %v", p, re, err)
	}
	if _, re, err := decodeReply(enc([]any{"err", "broken"})); err != nil || re == nil || re.Message != "broken" {
		t.Errorf("err reply: %v, %v", re, err)
	}
	// And ours decode with theirs.
	var v []any
	if err := vm.Unmarshal(appendError(nil, "m"), &v); err != nil || len(v) != 2 || v[0] != "err" || v[1] != "m" {
		t.Errorf("our err frame reads as %#v, %v", v, err)
	}
}

func TestWireMalformed(t *testing.T) {
	for name, frame := range map[string][]byte{
		"empty":          nil,
		"not an array":   {0xa3, 'r', 'e', 'q'},
		"three values":   {0x93, 0xa3, 'r', 'e', 'q', 0xc0, 0xc0},
		"wrong kind":     appendOK(nil, []byte("x")),
		"kind not a str": {0x92, 0x01, 0xc0},
		"truncated":      appendRequest(nil, []byte("hello"))[:8],
		"trailing bytes": append(appendRequest(nil, []byte("x")), 0xc0),
		"payload an int": {0x92, 0xa3, 'r', 'e', 'q', 0x05},
	} {
		if _, err := decodeRequest(frame); err == nil {
			t.Errorf("request %s: no error", name)
		}
	}
	for name, frame := range map[string][]byte{
		"request":        appendRequest(nil, nil),
		"unknown kind":   {0x92, 0xa2, 'n', 'o', 0xc0},
		"message an int": {0x92, 0xa3, 'e', 'r', 'r', 0x05},
		"trailing bytes": append(appendOK(nil, nil), 0xc0),
	} {
		if _, _, err := decodeReply(frame); err == nil {
			t.Errorf("reply %s: no error", name)
		}
	}
}

func TestCheckLine(t *testing.T) {
	for _, tc := range []struct {
		line string
		want error
	}{
		{"", nil}, {"\r\n", nil}, {"GET /\r\n", nil}, {"0123456789", nil},
		{"a\n", ErrLineBreak}, {"a\r", ErrLineBreak}, {"\n\r", ErrLineBreak}, {"a\rb", ErrLineBreak},
		{"01234567890", ErrLineTooLong}, {"0123456789\r\n", nil},
	} {
		if err := checkLine([]byte(tc.line), 10); !errors.Is(err, tc.want) {
			t.Errorf("checkLine(%q) = %v, want %v", tc.line, err, tc.want)
		}
	}
}

func FuzzDecodeRequest(f *testing.F) {
	f.Add(appendRequest(nil, []byte("hello")))
	f.Add(appendRequest(nil, nil))
	f.Add(appendOK(nil, []byte("x")))
	f.Fuzz(func(t *testing.T, frame []byte) {
		p, err := decodeRequest(frame)
		if err != nil {
			return
		}
		// What decodes re-encodes to the same payload.
		q, err := decodeRequest(appendRequest(nil, p))
		if err != nil || !bytes.Equal(p, q) {
			t.Fatalf("round trip of %q: %q, %v", p, q, err)
		}
	})
}

func FuzzDecodeReply(f *testing.F) {
	f.Add(appendOK(nil, []byte("hello")))
	f.Add(appendError(nil, "broken"))
	f.Add(appendRequest(nil, nil))
	f.Fuzz(func(t *testing.T, frame []byte) {
		p, re, err := decodeReply(frame)
		if err != nil {
			return
		}
		if re != nil {
			if p != nil {
				t.Fatalf("both a reply and an error")
			}
			return
		}
		if p == nil {
			t.Fatalf("nil reply without an error")
		}
	})
}
