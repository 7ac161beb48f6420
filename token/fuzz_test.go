package token

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"
)

// FuzzOpen: Open never panics on any input, and accepts only tickets that
// Issue produced (the seeds); every other byte string is refused.
func FuzzOpen(f *testing.F) {
	issued := map[string]Claims{}
	for _, c := range []Claims{
		testClaims(),
		{Servers: []string{server}, Expires: t0.Add(time.Second)},
		{Servers: []string{server}, UserData: bytes.Repeat([]byte{7}, MaxUserData), Expires: t0.Add(time.Hour)},
	} {
		// Each fuzzing process runs this setup: the seeds must be the same
		// in all of them.
		tok, err := issueWith(rand.NewChaCha8([32]byte{byte(len(issued))}), testKey, c, t0)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tok[:len(tok)-2*KeySize])
		f.Add(tok)
		issued[string(tok[:len(tok)-2*KeySize])] = c
	}
	f.Add([]byte(magic + "\x01\x01\x58\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := Open(testKey, b, server, t0)
		if err != nil {
			if g != nil {
				t.Fatal("a Grant with an error")
			}
			return
		}
		c, ok := issued[string(b)]
		if !ok {
			t.Fatalf("accepted a ticket it did not issue: %x", b)
		}
		if g.ClientID != c.ClientID || !bytes.Equal(g.UserData, c.UserData) {
			t.Fatalf("opened %d %x, issued %d %x", g.ClientID, g.UserData, c.ClientID, c.UserData)
		}
	})
}

// FuzzParse: Parse never panics, and what it accepts splits into a ticket
// and two keys exactly.
func FuzzParse(f *testing.F) {
	tok, err := Issue(testKey, testClaims(), t0)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tok)
	f.Add(tok[:len(tok)-2*KeySize])
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			return
		}
		if len(p.Ticket)+2*KeySize != len(b) || !bytes.Equal(p.Ticket, b[:len(p.Ticket)]) ||
			!bytes.Equal(p.ClientToServer[:], b[len(p.Ticket):len(p.Ticket)+KeySize]) {
			t.Fatalf("Parse split %d bytes into a %d-byte ticket and keys wrongly", len(b), len(p.Ticket))
		}
		if len(p.Servers) < 1 || len(p.Servers) > MaxServers || !p.Expires.After(p.Created) {
			t.Fatalf("accepted out-of-range fields: %+v", p)
		}
	})
}
