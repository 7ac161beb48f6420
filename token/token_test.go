package token

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

var (
	testKey = Key{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32}
	// A fixed clock: tests pass now explicitly.
	t0 = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
)

const server = "203.0.113.7:4000"

func testClaims() Claims {
	return Claims{
		ClientID: 0x0102030405060708,
		UserData: []byte("name=ada;team=red"),
		Servers:  []string{"198.51.100.1:4000", server, "wss://eu1.example.com/play"},
		Expires:  t0.Add(30 * time.Second),
	}
}

func issue(t testing.TB, c Claims) (tok []byte, p *Public) {
	t.Helper()
	tok, err := Issue(testKey, c, t0)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	p, err = Parse(tok)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return tok, p
}

func TestRoundTrip(t *testing.T) {
	c := testClaims()
	tok, p := issue(t, c)
	if len(tok) != len(p.Ticket)+2*KeySize {
		t.Fatalf("token %d bytes, ticket %d: want ticket + %d bytes of keys", len(tok), len(p.Ticket), 2*KeySize)
	}
	g, err := Open(testKey, p.Ticket, server, t0)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if g.ClientID != c.ClientID || !bytes.Equal(g.UserData, c.UserData) || !g.Expires.Equal(c.Expires) || !g.Created.Equal(t0) {
		t.Errorf("Grant %+v does not match claims %+v", g, c)
	}
	if strings.Join(g.Servers, ",") != strings.Join(c.Servers, ",") || strings.Join(p.Servers, ",") != strings.Join(c.Servers, ",") {
		t.Errorf("servers: grant %q, public %q, want %q", g.Servers, p.Servers, c.Servers)
	}
	if g.ID != p.ID || g.ClientToServer != p.ClientToServer || g.ServerToClient != p.ServerToClient {
		t.Error("the server and the client do not see the same id and keys")
	}
	if g.ClientToServer == g.ServerToClient || g.ClientToServer == (Key{}) {
		t.Error("connection keys are not two fresh random keys")
	}
	if !p.Expires.Equal(c.Expires) || !p.Created.Equal(t0) {
		t.Errorf("public times %v %v, want %v %v", p.Created, p.Expires, t0, c.Expires)
	}

	// Two tokens for the same claims share nothing random.
	_, p2 := issue(t, c)
	if p2.ID == p.ID || p2.ClientToServer == p.ClientToServer || p2.ServerToClient == p.ServerToClient {
		t.Error("two tokens share an id or a key")
	}

	// The Grant and the Public own their memory.
	for i := range tok {
		tok[i] = 0
	}
	ticket := bytes.Clone(p.Ticket)
	for i := range p.Ticket {
		p.Ticket[i] = 0
	}
	if g.ClientID != c.ClientID || !bytes.Equal(g.UserData, c.UserData) || p.Servers[1] != server {
		t.Error("Grant or Public aliases the bytes it was read from")
	}
	if _, err := Open(testKey, ticket, server, t0); err != nil {
		t.Errorf("Parse aliased the token: %v", err)
	}
}

// largestClaims make a ticket of MaxTicketSize bytes: 32 addresses, 256
// bytes of user data. 48 + 30×(1+19) + (1+14) + (1+16) + 88 + 256 = 1024.
func largestClaims() Claims {
	c := Claims{UserData: make([]byte, MaxUserData), ClientID: ^uint64(0), Expires: t0.Add(time.Hour)}
	for range 30 {
		c.Servers = append(c.Servers, strings.Repeat("x", 19))
	}
	c.Servers = append(c.Servers, strings.Repeat("y", 14), server)
	return c
}

func TestRoundTripBounds(t *testing.T) {
	for _, c := range []Claims{
		{Servers: []string{server}, Expires: t0.Add(time.Millisecond)},
		{Servers: []string{server}, UserData: bytes.Repeat([]byte{0xff}, MaxUserData), Expires: t0.Add(time.Hour)},
		largestClaims(),
	} {
		tok, p := issue(t, c)
		if len(tok) > MaxTokenSize || len(p.Ticket) > MaxTicketSize || len(c.Servers) == MaxServers && len(tok) != MaxTokenSize {
			t.Errorf("token %d bytes, ticket %d: over the maximum", len(tok), len(p.Ticket))
		}
		g, err := Open(testKey, p.Ticket, c.Servers[len(c.Servers)-1], t0)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if g.ClientID != c.ClientID || !bytes.Equal(g.UserData, c.UserData) {
			t.Errorf("got %d %x, want %d %x", g.ClientID, g.UserData, c.ClientID, c.UserData)
		}
	}
}

func TestIssueRefusesBadClaims(t *testing.T) {
	many := make([]string, MaxServers+1)
	for i := range many {
		many[i] = "s"
	}
	long := make([]string, MaxServers)
	for i := range long {
		long[i] = strings.Repeat("x", 40)
	}
	for name, c := range map[string]Claims{
		"no server":        {Expires: t0.Add(time.Second)},
		"too many servers": {Servers: many, Expires: t0.Add(time.Second)},
		"empty address":    {Servers: []string{""}, Expires: t0.Add(time.Second)},
		"long address":     {Servers: []string{strings.Repeat("x", MaxAddrLen+1)}, Expires: t0.Add(time.Second)},
		"user data":        {Servers: []string{server}, UserData: make([]byte, MaxUserData+1), Expires: t0.Add(time.Second)},
		"expires now":      {Servers: []string{server}, Expires: t0},
		"expires in 1µs":   {Servers: []string{server}, Expires: t0.Add(time.Microsecond)},
		"oversized":        {Servers: long, UserData: make([]byte, MaxUserData), Expires: t0.Add(time.Second)},
	} {
		if tok, err := Issue(testKey, c, t0); err == nil {
			t.Errorf("%s: Issue accepted, %d bytes", name, len(tok))
		} else if !strings.HasPrefix(err.Error(), "token: ") {
			t.Errorf("%s: error %q lacks the package prefix", name, err)
		}
	}
	if _, err := Issue(testKey, Claims{Servers: []string{server}, Expires: time.Unix(0, 0).Add(time.Hour)}, time.Unix(-10, 0)); err == nil {
		t.Error("Issue accepted a time of issue before 1970")
	}
}

// TestOpenRefuses covers each refusal with the error a caller matches.
func TestOpenRefuses(t *testing.T) {
	tok, p := issue(t, testClaims())
	ticket := p.Ticket
	other := NewKey()
	mod := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(ticket)) }
	for _, tc := range []struct {
		name   string
		ticket []byte
		key    Key
		server string
		now    time.Time
		want   error
	}{
		{"expired", ticket, testKey, server, t0.Add(time.Minute), ErrExpired},
		{"another server", ticket, testKey, "203.0.113.7:4001", t0, ErrWrongServer},
		{"address spelled otherwise", ticket, testKey, "[::ffff:203.0.113.7]:4000", t0, ErrWrongServer},
		{"another key", ticket, other, server, t0, ErrForged},
		{"zero key", ticket, Key{}, server, t0, ErrForged},
		{"unknown version", mod(func(b []byte) []byte { b[4] = 2; return b }), testKey, server, t0, ErrVersion},
		{"bad magic", mod(func(b []byte) []byte { b[0] = 'X'; return b }), testKey, server, t0, ErrMalformed},
		{"empty", nil, testKey, server, t0, ErrMalformed},
		{"truncated", ticket[:len(ticket)-1], testKey, server, t0, ErrMalformed},
		{"trailing byte", append(bytes.Clone(ticket), 0), testKey, server, t0, ErrMalformed},
		{"whole token sent", tok, testKey, server, t0, ErrMalformed},
		{"oversized", make([]byte, MaxTicketSize+1), testKey, server, t0, ErrMalformed},
		{"no server listed", mod(func(b []byte) []byte { b[5] = 0; return b }), testKey, server, t0, ErrMalformed},
		{"sealed length short", mod(func(b []byte) []byte { b[6], b[7] = 1, 0; return b }), testKey, server, t0, ErrMalformed},
		{"sealed length long", mod(func(b []byte) []byte { b[6], b[7] = 0xff, 0xff; return b }), testKey, server, t0, ErrMalformed},
		{"expiry before creation", mod(func(b []byte) []byte { copy(b[16:24], b[8:16]); return b }), testKey, server, t0, ErrMalformed},
		{"later expiry", mod(func(b []byte) []byte { b[23]++; return b }), testKey, server, t0, ErrForged},
		{"other user data", mod(func(b []byte) []byte { b[len(b)-20] ^= 1; return b }), testKey, server, t0, ErrForged},
	} {
		g, err := Open(tc.key, tc.ticket, tc.server, tc.now)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: Open = %v, %v; want %v", tc.name, g, err, tc.want)
			continue
		}
		t.Logf("%s: %v", tc.name, err)
	}
	// The hint for a client that sent its keys in clear.
	if _, err := Open(testKey, tok, server, t0); !strings.Contains(err.Error(), "Public.Ticket") {
		t.Errorf("whole token: %q does not say what to send", err)
	}
}

// TestOpenRefusesEveryTruncation: each prefix of a ticket is refused.
func TestOpenRefusesEveryTruncation(t *testing.T) {
	_, p := issue(t, testClaims())
	for n := range len(p.Ticket) {
		if _, err := Open(testKey, p.Ticket[:n], server, t0); !errors.Is(err, ErrMalformed) {
			t.Fatalf("%d of %d bytes: %v, want ErrMalformed", n, len(p.Ticket), err)
		}
	}
}

// TestOpenRefusesTamperingWithEveryByte changes each byte of a ticket, one
// at a time, in three ways; every change must be refused: the layout has
// no byte left unauthenticated.
func TestOpenRefusesTamperingWithEveryByte(t *testing.T) {
	_, p := issue(t, testClaims())
	forged := 0
	for i := range p.Ticket {
		for _, x := range []byte{0x01, 0x80, 0xff} {
			b := bytes.Clone(p.Ticket)
			b[i] ^= x
			g, err := Open(testKey, b, server, t0)
			if err == nil {
				t.Fatalf("byte %d ^ %#x: accepted, client %d", i, x, g.ClientID)
			}
			if errors.Is(err, ErrForged) {
				forged++
			}
		}
	}
	// Most changes keep the layout readable and are caught by the seal.
	if forged < len(p.Ticket) {
		t.Errorf("only %d of %d changes reached the seal", forged, 3*len(p.Ticket))
	}
}

func TestExpiryBoundary(t *testing.T) {
	c := testClaims()
	c.Expires = t0.Add(10*time.Second + 700*time.Microsecond) // truncated to the millisecond
	_, p := issue(t, c)
	want := t0.Add(10 * time.Second)
	if !p.Expires.Equal(want) {
		t.Fatalf("Expires %v, want %v", p.Expires, want)
	}
	if _, err := Open(testKey, p.Ticket, server, want.Add(-time.Millisecond)); err != nil {
		t.Errorf("1 ms before expiry: %v", err)
	}
	if _, err := Open(testKey, p.Ticket, server, want.Add(-time.Nanosecond)); err != nil {
		t.Errorf("1 ns before expiry: %v", err)
	}
	if _, err := Open(testKey, p.Ticket, server, want); !errors.Is(err, ErrExpired) {
		t.Errorf("at expiry: %v, want ErrExpired", err)
	}
	if _, err := Open(testKey, p.Ticket, server, t0.Add(-time.Hour)); err != nil {
		t.Errorf("server clock behind the backend's: %v", err)
	}
}

func TestParseRefuses(t *testing.T) {
	tok, p := issue(t, testClaims())
	for name, b := range map[string][]byte{
		"ticket only": p.Ticket,
		"truncated":   tok[:len(tok)-1],
		"trailing":    append(bytes.Clone(tok), 0),
		"oversized":   make([]byte, MaxTokenSize+1),
		"empty":       nil,
	} {
		if _, err := Parse(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
	v := bytes.Clone(tok)
	v[4] = 9
	if _, err := Parse(v); !errors.Is(err, ErrVersion) {
		t.Errorf("version 9: %v, want ErrVersion", err)
	}
}

func TestKeyText(t *testing.T) {
	k := NewKey()
	if k == (Key{}) || k == NewKey() {
		t.Fatal("NewKey is not random")
	}
	hexText := k.Format()
	if len(hexText) != 64 {
		t.Fatalf("Format: %q", hexText)
	}
	for _, s := range []string{
		hexText,
		strings.ToUpper(hexText),
		"  " + hexText + "\n",
		"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=", // testKey in standard base64
		"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA",
	} {
		got, err := ParseKey(s)
		want := k
		if strings.HasPrefix(s, "AQID") {
			want = testKey
		}
		if err != nil || got != want {
			t.Errorf("ParseKey(%q) = %x, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "00", hexText[:63], hexText + "0", strings.Repeat("g", 64), "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0e"} {
		if _, err := ParseKey(s); err == nil {
			t.Errorf("ParseKey(%q) accepted", s)
		} else if strings.Contains(err.Error(), s) && s != "" {
			t.Errorf("the error echoes the key: %v", err)
		}
	}
	var cfg struct{ Key Key }
	cfg.Key = k
	js, err := json.Marshal(cfg)
	if err != nil || !strings.Contains(string(js), hexText) {
		t.Fatalf("json: %s %v", js, err)
	}
	cfg.Key = Key{}
	if err := json.Unmarshal(js, &cfg); err != nil || cfg.Key != k {
		t.Errorf("json round trip: %v", err)
	}
	if s := k.String(); strings.Contains(s, hexText[:8]) {
		t.Errorf("String leaks the key: %s", s)
	}
}

// TestImports: a web backend imports this package without the rest of
// gonetic: only the standard library and golang.org/x/crypto (with
// golang.org/x/sys/cpu, which x/crypto itself imports).
func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		first, _, _ := strings.Cut(p, "/")
		switch {
		case !strings.Contains(first, "."), p == "github.com/gonetic/gonetic/token",
			strings.HasPrefix(p, "golang.org/x/crypto/"), p == "golang.org/x/sys/cpu":
		default:
			t.Errorf("imports %s", p)
		}
	}
}
