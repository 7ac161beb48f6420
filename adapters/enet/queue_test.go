//go:build cgo

package enet

import (
	"bytes"
	"testing"

	"github.com/gonetic/gonetic/net/transport"
)

// TestSendQueueChunks: payloads of every size come out of the chunk list
// in order and intact, no chunk overflows, the first chunk is the queue's
// own (kept across resets), a payload larger than a chunk gets one of its
// own, and popped chunks go back empty.
func TestSendQueueChunks(t *testing.T) {
	sizes := []int{0, 1, 19, 300, chunkBytes - 1, chunkBytes, chunkBytes + 1, 3 * chunkBytes, 19, 19}
	var q sendQueue
	var want [][]byte
	for i := range 3000 {
		p := bytes.Repeat([]byte{byte(i), byte(i >> 8)}, sizes[i%len(sizes)]/2+1)[:sizes[i%len(sizes)]]
		q.add(p, uint8(i%3), transport.Delivery(i%3))
		want = append(want, p)
	}
	i, chunks := 0, 0
	for c := q.head; c != nil; c = c.later {
		chunks++
		if len(c.ents) > cap(c.ents) || len(c.data) > cap(c.data) || len(c.ents) == 0 {
			t.Fatalf("chunk %d holds %d entries (cap %d) and %d bytes (cap %d)", chunks, len(c.ents), cap(c.ents), len(c.data), cap(c.data))
		}
		if chunks == 1 && c != q.own {
			t.Fatal("the first chunk of an empty queue is not the queue's own")
		}
		if c != q.own && cap(c.data) != chunkBytes && (len(c.ents) != 1 || len(c.data) <= chunkBytes) {
			t.Fatalf("an unpooled chunk holds %d payloads of %d bytes; want one above %d", len(c.ents), len(c.data), chunkBytes)
		}
		off := 0
		for _, e := range c.ents {
			got := c.data[off : off+int(e.length)]
			off += int(e.length)
			if !bytes.Equal(got, want[i]) || int(e.channel) != i%3 || int(e.delivery) != i%3 {
				t.Fatalf("payload %d: %d bytes on channel %d, delivery %d; want %d bytes on %d, %d",
					i, len(got), e.channel, e.delivery, len(want[i]), i%3, i%3)
			}
			i++
		}
		if off != len(c.data) {
			t.Fatalf("chunk %d: entries cover %d of its %d bytes", chunks, off, len(c.data))
		}
	}
	if i != len(want) {
		t.Fatalf("the queue holds %d payloads, want %d", i, len(want))
	}
	var small sendQueue
	for range 3000 {
		small.add(make([]byte, 19), 0, transport.Reliable)
	}
	perChunk := min(chunkEnts, chunkBytes/19)
	n := 0
	for c := small.head.later; c != nil; c = c.later { // after the queue's own
		n++
	}
	if want := (3000 - min(ownEnts, ownBytes/19) + perChunk - 1) / perChunk; n != want {
		t.Fatalf("3000 payloads of 19 bytes took %d chunks, want %d", n, want)
	}
	small.reset()
	c := q.head
	q.pop()
	if c.later != nil || len(c.data) != 0 || len(c.ents) != 0 {
		t.Fatal("a popped chunk keeps its payloads or its place in the list")
	}
	q.reset()
	if !q.empty() || q.tail != nil || q.next != 0 || q.off != 0 {
		t.Fatal("reset left the queue non-empty")
	}
	own := q.own
	q.add([]byte("again"), 0, transport.Reliable)
	if q.head == nil || q.head != q.tail || string(q.head.data) != "again" {
		t.Fatal("a reset queue does not take payloads again")
	}
	if own == nil || q.head != own {
		t.Fatal("a reset queue did not reuse its own chunk")
	}
}
