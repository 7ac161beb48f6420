package net

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/gonetic/gonetic/net/transport"
)

// FuzzOpen: the opener never panics, and takes only what the sealer
// sealed with its key: whatever it opens, sealing the plaintext again at
// the same channel, delivery and counter gives the same bytes.
func FuzzOpen(f *testing.F) {
	key := bytes.Repeat([]byte{7}, 32)
	seal := func(ch uint8, d transport.Delivery, ctr uint64, plain []byte) []byte {
		s, _ := newSession(key, key, 4, false)
		c := &Conn{tx: s, link: discardLink{}}
		s.next[int(ch)*3+int(d)] = ctr
		_ = c.sealedSend(ch, d, plain)
		return c.sealBuf
	}
	f.Add(seal(0, transport.Reliable, 0, []byte("\x92\xa4ping\x01")))
	f.Add(seal(1, transport.Unsequenced, 300, []byte("hello")))
	f.Add(seal(3, transport.Sequenced, 1<<40, nil))
	f.Add([]byte{0, 0, 0x80, 0})
	f.Fuzz(func(t *testing.T, p []byte) {
		_, o := newSession(key, key, 4, true)
		// Streams a little way in, so that windows and counters matter.
		o.accept(1, transport.Unsequenced, 300)
		o.accept(3, transport.Sequenced, 5)
		plain, ch, d, ctr, err := o.open(p)
		if err != nil {
			return
		}
		if again := seal(ch, d, ctr, plain); !bytes.Equal(again, p) {
			t.Fatalf("opened % x, which the sealer makes as % x", p, again)
		}
		o.accept(ch, d, ctr)
		if _, _, _, _, err := o.open(p); err == nil {
			t.Fatal("the same payload opened twice")
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
	tx, _ := newSession(ks2c, kc2s, 1, false) // the server's
	c := &Conn{tx: tx, link: discardLink{}}
	if err := c.sealedSend(0, transport.Reliable, []byte("\x00\x92\xa7welcome\x01")); err != nil {
		t.Fatal(err)
	}
	welcome := hex.EncodeToString(c.sealBuf)
	tx.next[0] = 300
	if err := c.sealedSend(0, transport.Reliable, []byte("\x00\x92\xa3bye\xa0")); err != nil {
		t.Fatal(err)
	}
	bye := hex.EncodeToString(c.sealBuf)
	for _, v := range []struct{ name, got, want string }{
		{"k_c2s", hex.EncodeToString(kc2s), "5cba254071c8bfc5a489b15815afc3e47b95b00802d20b1b8e2bacbe34a736d6"},
		{"k_s2c", hex.EncodeToString(ks2c), "1017c97c15e2d7c4258e3d3963fa8613aee5b131d7fba0fe567c638036ec06c0"},
		{"welcome, counter 0", welcome, "000000f827826fe92b621cf3d3a59efcc04519253b0080d0ef28cca6ae17"},
		{"bye, counter 300", bye, "0000ac023a3c2ae77e7b9786792d7bcdd708ae913a8cc6ea6c3891"},
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
	plain := bytes.Repeat([]byte{'x'}, 30)
	tx, o := newSession(key, key, 1, false)
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
