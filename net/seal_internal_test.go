package net

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/gonetic/gonetic/net/transport"
)

// record is payload as one record of a batch.
func record(payload string) []byte {
	return append(binary.AppendUvarint(nil, uint64(len(payload))), payload...)
}

// FuzzOpen: the opener never panics, and takes only what the sealer
// sealed with its key, and only a plaintext of valid records: whatever it
// opens, sealing the plaintext again at the same channel, delivery and
// counter gives the same bytes. The input is also sealed as a plaintext:
// it opens exactly when it is one or more valid records, which then
// rebuild it.
func FuzzOpen(f *testing.F) {
	key := bytes.Repeat([]byte{7}, 32)
	seal := func(ch uint8, d transport.Delivery, ctr uint64, plain []byte) []byte {
		s, _ := newSession(key, key, 4, transport.DefaultMaxPayload, false)
		c := &Conn{tx: s, link: discardLink{}}
		s.next[int(ch)*3+int(d)] = ctr
		_ = c.sealedSend(ch, d, plain)
		return c.sealBuf
	}
	f.Add(seal(0, transport.Reliable, 0, record("\x00\x92\xa4ping\x01")))
	f.Add(seal(1, transport.Unsequenced, 300, append(record("hello"), record("world")...)))
	f.Add(seal(3, transport.Sequenced, 1<<40, nil))
	f.Add(seal(2, transport.Reliable, 0, []byte{0x80, 0x00, 'x'})) // a length not in its shortest form
	f.Add(seal(2, transport.Reliable, 0, []byte{0x00}))            // an empty record
	f.Add(seal(2, transport.Reliable, 0, []byte{0x05, 'a'}))       // a record past the end
	f.Add([]byte{0, 0, 0x80, 0})
	f.Add(append(record("a"), record(strings.Repeat("b", 200))...))
	f.Fuzz(func(t *testing.T, p []byte) {
		_, o := newSession(key, key, 4, transport.DefaultMaxPayload, true)
		// Streams a little way in, so that windows and counters matter.
		o.accept(1, transport.Unsequenced, 300)
		o.accept(3, transport.Sequenced, 5)
		plain, ch, d, ctr, err := o.open(p)
		if err == nil {
			if again := seal(ch, d, ctr, plain); !bytes.Equal(again, p) {
				t.Fatalf("opened % x, which the sealer makes as % x", p, again)
			}
			o.accept(ch, d, ctr)
			if _, _, _, _, err := o.open(p); err == nil {
				t.Fatal("the same payload opened twice")
			}
		}
		// p as a plaintext: the record layer alone.
		plain, _, _, _, err = o.open(seal(2, transport.Reliable, 0, p))
		if (err == nil) != validRecords(p) {
			t.Fatalf("plaintext % x: open says %v, validRecords %v", p, err, validRecords(p))
		}
		if err != nil {
			return
		}
		var rebuilt []byte
		for len(plain) > 0 {
			var rec []byte
			rec, plain = nextRecord(plain)
			if len(rec) == 0 {
				t.Fatal("an empty record")
			}
			rebuilt = append(rebuilt, record(string(rec))...)
		}
		if !bytes.Equal(rebuilt, p) {
			t.Fatalf("records % x rebuild as % x", p, rebuilt)
		}
	})
}

// TestReplayWindow: an unsequenced stream takes each counter once, late
// ones within the window, and none older.
func TestReplayWindow(t *testing.T) {
	var st rxStream
	take := func(ctr uint64) bool {
		if !st.fresh(transport.Unsequenced, ctr) {
			return false
		}
		o := opener{streams: []rxStream{{}, {}, st}}
		o.accept(0, transport.Unsequenced, ctr)
		st = o.streams[2]
		return true
	}
	for _, c := range []struct {
		ctr  uint64
		want bool
	}{
		{5, true}, {5, false}, {3, true}, {3, false}, {4, true}, {300, true},
		{5, false}, // 295 behind: out of the window
		{45, true}, {45, false}, {44, false}, {299, true}, {299, false}, {100, true},
		{1000, true}, {999, true}, {744, false}, {745, true}, {745, false},
	} {
		if got := take(c.ctr); got != c.want {
			t.Fatalf("counter %d taken: %v, want %v", c.ctr, got, c.want)
		}
	}
}

// TestSealVector: the worked example of docs/PROTOCOL.md ("Sealed
// connections"), which a client in another language checks itself with.
func TestSealVector(t *testing.T) {
	var c2s, s2c [32]byte
	for i := range c2s {
		c2s[i], s2c[i] = 1, 2
	}
	rc, rs := bytes.Repeat([]byte{3}, 32), bytes.Repeat([]byte{4}, 32)
	kc2s, ks2c := sessionKeys(c2s, s2c, rc, rs)
	tx, _ := newSession(ks2c, kc2s, 1, transport.DefaultMaxPayload, false) // the server's
	c := &Conn{tx: tx, link: discardLink{}}
	sealed := func(ctr uint64, plain []byte) string {
		tx.next[0] = ctr
		if err := c.sealedSend(0, transport.Reliable, plain); err != nil {
			t.Fatal(err)
		}
		return hex.EncodeToString(c.sealBuf)
	}
	welcome := "\x00\x92\xa7welcome\x01"
	pong := "\x00\x93\xa4pong\xce\x3b\x9a\xca\x00\xcf\x18\x7e\x8a\x26\x0c\x90\x80\x00"
	for _, v := range []struct{ name, got, want string }{
		{"k_c2s", hex.EncodeToString(kc2s), "5cba254071c8bfc5a489b15815afc3e47b95b00802d20b1b8e2bacbe34a736d6"},
		{"k_s2c", hex.EncodeToString(ks2c), "1017c97c15e2d7c4258e3d3963fa8613aee5b131d7fba0fe567c638036ec06c0"},
		{"welcome, counter 0", sealed(0, record(welcome)), "000000f3b5b7bffb226d10f1dbc14328b00886523248c7c44124cfbeca1abe"},
		{"bye, counter 300", sealed(300, record("\x00\x92\xa3bye\xa0")), "0000ac023dae1b26656752bfe6fc2a0182357dd5b689e29cea7df4ea"},
		{"welcome and pong, counter 1", sealed(1, append(record(welcome), record(pong)...)), "000001c3b0bd2c6f0a5af530bae1d4aa6cce57bb32bcd684c367761a1336a4ede00f09521be6da0cf2f073a254b8a60f0578c69970"},
	} {
		if v.got != v.want {
			t.Errorf("%s: %s, want %s", v.name, v.got, v.want)
		}
	}
}

// BenchmarkSealOpen: sealing and opening one chat-sized payload (30
// bytes), the per-payload cost a sealed connection adds on each end.
func BenchmarkSealOpen(b *testing.B) {
	key := bytes.Repeat([]byte{7}, 32)
	plain := record(strings.Repeat("x", 29)) // 30 bytes
	tx, o := newSession(key, key, 1, transport.DefaultMaxPayload, false)
	c := &Conn{tx: tx, link: discardLink{}}
	b.Run("seal", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			tx.next[0] = 0
			_ = c.sealedSend(0, transport.Reliable, plain)
		}
	})
	b.Run("open", func(b *testing.B) {
		tx.next[0] = 0
		_ = c.sealedSend(0, transport.Reliable, plain)
		p := bytes.Clone(c.sealBuf)
		b.ReportAllocs()
		for range b.N {
			if _, _, _, _, err := o.open(p); err != nil { // never accepted: stays fresh
				b.Fatal(err)
			}
		}
	})
}
