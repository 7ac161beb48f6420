package token

import (
	"testing"
)

func BenchmarkIssue(b *testing.B) {
	c := testClaims()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Issue(testKey, c, t0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	_, p := issue(b, testClaims())
	b.ReportAllocs()
	b.SetBytes(int64(len(p.Ticket)))
	for b.Loop() {
		if _, err := Open(testKey, p.Ticket, server, t0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenForged is the cost of refusing a forgery that passes every
// cheap check (well formed, unexpired, for this server): the worst a flood
// of bad tickets can make a server do, one AEAD open.
func BenchmarkOpenForged(b *testing.B) { benchForged(b, testClaims()) }

// BenchmarkOpenForgedMax is the same with the largest ticket (1024 bytes,
// every field full): the AEAD's cost grows with the ticket.
func BenchmarkOpenForgedMax(b *testing.B) { benchForged(b, largestClaims()) }

// benchForged refuses the ticket of a token for c with its tag altered.
func benchForged(b *testing.B, c Claims) {
	_, p := issue(b, c)
	forged := p.Ticket
	forged[len(forged)-1] ^= 1
	b.ReportAllocs()
	b.SetBytes(int64(len(forged)))
	for b.Loop() {
		if _, err := Open(testKey, forged, server, t0); err != ErrForged {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenGarbage is the cost of refusing bytes that are not a ticket.
func BenchmarkOpenGarbage(b *testing.B) {
	junk := make([]byte, 300)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Open(testKey, junk, server, t0); err == nil {
			b.Fatal("accepted")
		}
	}
}

func BenchmarkGuardAdmit(b *testing.B) {
	gd := NewGuard(0)
	g := grant(0, t0.Add(1<<40))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		g.ID[0], g.ID[1], g.ID[2] = byte(i), byte(i>>8), byte(i>>16)
		i++
		if err := gd.Admit(g, "192.0.2.1:5000", t0); err != nil {
			gd = NewGuard(0)
		}
	}
}
