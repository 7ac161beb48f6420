package net

import (
	"bytes"
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
