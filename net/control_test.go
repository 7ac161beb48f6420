package net

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestControlRoundTrip(t *testing.T) {
	w, r := ctlCodec.NewWriter(), ctlCodec.NewReader()
	for _, c := range []control{
		{kind: ctlHello, version: 1, codec: "msgpack", hash: bytes.Repeat([]byte{7}, 16), lines: []string{"1 chat_msg(player,msg) 0 reliable"}},
		{kind: ctlHello, version: 1, codec: "msgpack", hash: bytes.Repeat([]byte{7}, 16), lines: []string{}, data: []byte("token")},
		{kind: ctlWelcome, version: 1},
		{kind: ctlRefuse, reason: "server full"},
		{kind: ctlBye, reason: ""},
		{kind: ctlBye, reason: "gone fishing"},
		{kind: ctlPing, stamp: 1 << 40},
		{kind: ctlPong, stamp: 12345, clock: 1_765_000_000_000_000_000, hasClock: true},
	} {
		b := appendControl(w, nil, c)
		if b[0] != controlMark {
			t.Fatalf("%s does not start with the control mark", c.kind)
		}
		got, err := parseControl(r, b[1:])
		if err != nil {
			t.Fatalf("%s: %v", c.kind, err)
		}
		if got.kind != c.kind || got.version != c.version || got.codec != c.codec || got.reason != c.reason ||
			!bytes.Equal(got.hash, c.hash) || !slices.Equal(got.lines, c.lines) || got.stamp != c.stamp ||
			got.clock != c.clock || got.hasClock != c.hasClock || !bytes.Equal(got.data, c.data) {
			t.Fatalf("%s: got %+v", c.kind, got)
		}
	}
}

// The welcome bytes of docs/PROTOCOL.md.
func TestWelcomeBytes(t *testing.T) {
	b := appendControl(ctlCodec.NewWriter(), nil, control{kind: ctlWelcome, version: ProtocolVersion})
	want := []byte{0x00, 0x92, 0xa7, 'w', 'e', 'l', 'c', 'o', 'm', 'e', 0x01}
	if !bytes.Equal(b, want) {
		t.Fatalf("welcome is % x, want % x", b, want)
	}
}

// The pong bytes of docs/PROTOCOL.md; a pong of two elements, as peers
// written from the protocol's first text send, parses without a clock.
func TestPongBytes(t *testing.T) {
	b := appendControl(ctlCodec.NewWriter(), nil, control{kind: ctlPong, stamp: 1_000_000_000, clock: 1_765_000_000_000_000_000})
	want := []byte{0x00, 0x93, 0xa4, 'p', 'o', 'n', 'g', 0xce, 0x3b, 0x9a, 0xca, 0x00, 0xcf, 0x18, 0x7e, 0x8a, 0x26, 0x0c, 0x90, 0x80, 0x00}
	if !bytes.Equal(b, want) {
		t.Fatalf("pong is % x, want % x", b, want)
	}
	if pingKind(b) != ctlPong {
		t.Fatal("the network goroutine does not take a pong of three elements")
	}
	two := []byte{0x00, 0x92, 0xa4, 'p', 'o', 'n', 'g', 0xce, 0x3b, 0x9a, 0xca, 0x00}
	c, err := parseControl(ctlCodec.NewReader(), two[1:])
	if err != nil || c.kind != ctlPong || c.stamp != 1_000_000_000 || c.hasClock {
		t.Fatalf("a pong of two elements: %+v, %v", c, err)
	}
	if pingKind(two) != ctlPong {
		t.Fatal("the network goroutine does not take a pong of two elements")
	}
	if pingKind([]byte{0x00, 0x93, 0xa4, 'p', 'i', 'n', 'g', 0x01, 0x02}) != "" {
		t.Fatal("the network goroutine takes a ping of three elements, which it must leave to Update to refuse")
	}
}

// FuzzHandshake: any control payload parses to a control or an error,
// never a panic, and a hello that parses is checked without a panic.
func FuzzHandshake(f *testing.F) {
	w := ctlCodec.NewWriter()
	f.Add(appendControl(w, nil, control{kind: ctlHello, version: 1, codec: "msgpack", hash: make([]byte, 16), lines: []string{"1 a() 0 reliable"}})[1:])
	f.Add(appendControl(w, nil, control{kind: ctlWelcome, version: 1})[1:])
	f.Add(appendControl(w, nil, control{kind: ctlBye, reason: "x"})[1:])
	f.Add([]byte{0x95, 0xa5, 'h', 'e', 'l', 'l', 'o', 0x01, 0xa0, 0xc4, 0x00, 0xdd, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{})
	f.Add(appendControl(w, nil, control{kind: ctlPong, stamp: 1, clock: 1 << 60})[1:])
	f.Add([]byte{0x94, 0xa4, 'p', 'o', 'n', 'g', 0x01, 0x02, 0x03})
	// A hello that claims 2³² types, with a valid hash: the claim must be
	// checked against the bytes left before anything is allocated for it.
	f.Add(append(append([]byte{0x95, 0xa5, 'h', 'e', 'l', 'l', 'o', 0x01, 0xa0, 0xc4, 0x10}, make([]byte, 16)...), 0xdd, 0xff, 0xff, 0xff, 0xff))
	f.Add([]byte{0x91, 0xa1, 'x'}) // an unknown kind, shorter than the part an error quotes
	f.Add(appendControl(w, nil, control{kind: ctlHello, version: 1, codec: "msgpack", hash: make([]byte, 16), data: []byte("login")})[1:])
	fac := NewFactory()
	fac.Freeze()
	r := ctlCodec.NewReader()
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseControl(r, b)
		if err == nil && c.kind == ctlHello {
			_ = checkHello(fac, c)
		}
	})
}

// The hello of docs/PROTOCOL.md's examples: without data, the five
// elements every server reads; with data, a sixth, a bin.
func TestHelloBytes(t *testing.T) {
	w := ctlCodec.NewWriter()
	hash := bytes.Repeat([]byte{0xaa}, 16)
	five := appendControl(w, nil, control{kind: ctlHello, version: 1, codec: "msgpack", hash: hash, lines: []string{}})
	wantFive := append(append([]byte{0x00, 0x95, 0xa5, 'h', 'e', 'l', 'l', 'o', 0x01, 0xa7, 'm', 's', 'g', 'p', 'a', 'c', 'k', 0xc4, 0x10}, hash...), 0x90)
	if !bytes.Equal(five, wantFive) {
		t.Fatalf("hello without data is % x, want % x", five, wantFive)
	}
	six := appendControl(w, nil, control{kind: ctlHello, version: 1, codec: "msgpack", hash: hash, lines: []string{}, data: []byte("hi")})
	wantSix := append(append([]byte{0x00, 0x96}, wantFive[2:]...), 0xc4, 0x02, 'h', 'i')
	if !bytes.Equal(six, wantSix) {
		t.Fatalf("hello with data is % x, want % x", six, wantSix)
	}
	// A sixth element that is not bytes, or a seventh, is malformed.
	for _, tc := range []struct {
		b    []byte
		want string
	}{
		{append(append([]byte{0x96}, wantFive[2:]...), 0x01), "hello data"},
		{append(append([]byte{0x97}, wantFive[2:]...), 0xc4, 0x00, 0xc0), "hello has 7 elements, want 5, 6 or 8"},
		// Eight: data, a ticket of 1 to 1024 bytes, a client random of 32.
		{append(append([]byte{0x98}, wantFive[2:]...), 0xc4, 0x00, 0xc4, 0x00, 0xc4, 0x20), "hello ticket is 0 bytes"},
		{append(append(append([]byte{0x98}, wantFive[2:]...), 0xc4, 0x00, 0xc4, 0x01, 0x07, 0xc4, 0x1f), make([]byte, 31)...), "hello client random: 31 bytes, want 32"},
		{append([]byte{0x92, 0xa7, 's', 'e', 's', 's', 'i', 'o', 'n', 0xc4, 0x1f}, make([]byte, 31)...), "session server random: 31 bytes, want 32"},
	} {
		if _, err := parseControl(ctlCodec.NewReader(), tc.b); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parse % x: %v, want an error saying %q", tc.b, err, tc.want)
		}
	}
	// With a token: data (empty here), ticket, client random.
	rc := bytes.Repeat([]byte{0xcc}, 32)
	eight := appendControl(w, nil, control{kind: ctlHello, version: 1, codec: "msgpack", hash: hash, lines: []string{}, ticket: []byte{7, 8}, random: rc})
	wantEight := append(append(append([]byte{0x00, 0x98}, wantFive[2:]...), 0xc4, 0x00, 0xc4, 0x02, 7, 8, 0xc4, 0x20), rc...)
	if !bytes.Equal(eight, wantEight) {
		t.Fatalf("hello with a ticket is % x, want % x", eight, wantEight)
	}
	if c, err := parseControl(ctlCodec.NewReader(), eight[1:]); err != nil || !bytes.Equal(c.ticket, []byte{7, 8}) || !bytes.Equal(c.random, rc) || c.data != nil {
		t.Fatalf("hello with a ticket parsed as %+v, %v", c, err)
	}
	session := appendControl(w, nil, control{kind: ctlSession, random: rc})
	wantSession := append([]byte{0x00, 0x92, 0xa7, 's', 'e', 's', 's', 'i', 'o', 'n', 0xc4, 0x20}, rc...)
	if !bytes.Equal(session, wantSession) {
		t.Fatalf("session is % x, want % x", session, wantSession)
	}
	// An empty sixth element is no data, as a hello of five.
	c, err := parseControl(ctlCodec.NewReader(), append(append([]byte{0x96}, wantFive[2:]...), 0xc4, 0x00))
	if err != nil || c.data != nil {
		t.Fatalf("hello with empty data: %+v, %v", c, err)
	}
}
