package net

import (
	"math"
	"testing"

	"github.com/gonetic/gonetic/net/transport"
)

// TestAttackCounterWrap: a sequenced or unsequenced stream that took the
// counter 2^64-1 would take every older counter again (the next expected,
// ctr+1, wraps to 0), so a payload sealed with it is refused; a sender
// never gets there.
func TestAttackCounterWrap(t *testing.T) {
	key := make([]byte, 32)
	for _, d := range []transport.Delivery{transport.Sequenced, transport.Unsequenced} {
		s, o := newSession(key, key, 1, transport.DefaultMaxPayload, true)
		c := &Conn{tx: s, link: discardLink{}}
		seal := func(ctr uint64) []byte {
			s.next[int(d)] = ctr
			_ = c.sealedSend(0, d, record("x"))
			return append([]byte(nil), c.sealBuf...)
		}
		old, top := seal(5), seal(math.MaxUint64)
		for _, p := range [][]byte{old, top} {
			if _, ch, dd, ctr, err := o.open(p); err == nil {
				o.accept(ch, dd, ctr)
			}
		}
		if _, _, _, _, err := o.open(old); err == nil {
			t.Errorf("delivery %d: counter 5 opened again after counter 2^64-1", d)
		}
	}
}
