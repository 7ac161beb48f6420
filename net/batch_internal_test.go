package net

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gonetic/gonetic/message"
	"github.com/gonetic/gonetic/net/transport"
)

// sentPayload is what a recordLink was given.
type sentPayload struct {
	ch uint8
	d  transport.Delivery
	p  []byte
}

// recordLink is a link that keeps what it is sent.
type recordLink struct {
	discardLink
	sent *[]sentPayload
}

func (l recordLink) Send(ch uint8, d transport.Delivery, p []byte) error {
	*l.sent = append(*l.sent, sentPayload{ch, d, bytes.Clone(p)})
	return nil
}

type lossyRecordLink struct{ recordLink }

func (lossyRecordLink) Lossy() {}

type bSnap struct{ S string }
type bEvent struct{ S string }

// TestBatchCaps: with no flusher and no Update to send them, batches
// grow to their caps and no further: 1200 bytes of plaintext unreliable
// (one ENet datagram), 16 KiB reliable; a message above its cap goes
// alone; nothing is lost or reordered within a stream; and on a link of
// one ordered stream, messages of two streams keep the order they were
// sent in.
func TestBatchCaps(t *testing.T) {
	for _, lossy := range []bool{true, false} {
		f := NewFactory()
		message.MustRegister[bSnap](f, message.Deliver(message.Unsequenced))
		message.MustRegister[bEvent](f)
		c := SealedTestConn(f, true)
		var sent []sentPayload
		c.link = recordLink{sent: &sent}
		if lossy {
			c.link = lossyRecordLink{recordLink{sent: &sent}}
		}
		c.tx.lossy = lossy
		var want []string
		for i := range 2000 {
			s := strings.Repeat("s", i%50)
			if i == 700 {
				s = strings.Repeat("b", 5000) // above the unreliable cap
			}
			if err := c.Send(&bSnap{s}); err != nil {
				t.Fatal(err)
			}
			want = append(want, "snap "+s)
			if i%3 == 0 {
				if err := c.Send(&bEvent{s}); err != nil {
					t.Fatal(err)
				}
				want = append(want, "event "+s)
			}
		}
		c.mu.Lock()
		if err := c.flushSealed(); err != nil {
			t.Fatal(err)
		}
		c.mu.Unlock()
		_, o := newSession(make([]byte, 32), make([]byte, 32), f.Channels(), transport.DefaultMaxPayload, lossy)
		dec := f.NewDecoder()
		var got, snaps, events []string
		for _, p := range sent {
			plain, _, d, ctr, err := o.open(p.p)
			if err != nil {
				t.Fatal(err)
			}
			o.accept(0, d, ctr)
			limit := reliableCap
			if d != transport.Reliable {
				limit = unreliableCap
			}
			records := 0
			for rest := plain; len(rest) > 0; records++ {
				var rec []byte
				rec, rest = nextRecord(rest)
				typ, err := dec.Begin(rec)
				if err != nil {
					t.Fatal(err)
				}
				m, err := dec.Rest(typ)
				if err != nil {
					t.Fatal(err)
				}
				switch m := m.(type) {
				case bSnap:
					got, snaps = append(got, "snap "+m.S), append(snaps, "snap "+m.S)
				case bEvent:
					got, events = append(got, "event "+m.S), append(events, "event "+m.S)
				}
			}
			if len(plain) > limit && records > 1 {
				t.Fatalf("lossy %v: a %v batch of %d bytes of plaintext, %d records: over its cap", lossy, d, len(plain), records)
			}
		}
		var wantSnaps, wantEvents []string
		for _, w := range want {
			if strings.HasPrefix(w, "snap") {
				wantSnaps = append(wantSnaps, w)
			} else {
				wantEvents = append(wantEvents, w)
			}
		}
		if strings.Join(snaps, ",") != strings.Join(wantSnaps, ",") || strings.Join(events, ",") != strings.Join(wantEvents, ",") {
			t.Fatalf("lossy %v: a stream lost or reordered messages: %d/%d snaps %d/%d events", lossy, len(snaps), len(wantSnaps), len(events), len(wantEvents))
		}
		if !lossy && strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatal("one ordered stream: the messages of two streams left out of the order they were sent in")
		}
		if len(sent) >= len(want) {
			t.Fatalf("lossy %v: %d messages in %d payloads", lossy, len(want), len(sent))
		}
	}
}

// TestTakeRecordsResume: when the inbox has room for only some records of
// a batch (TryReceive refuses), the same payload handed over again
// delivers only the records not yet delivered, and then counts as taken.
func TestTakeRecordsResume(t *testing.T) {
	e, err := newEndpoint(Config{Factory: NewFactory(), MaxMessageSize: 200, InboxBytes: 200})
	if err != nil {
		t.Fatal(err)
	}
	c := e.newConn("peer", Open, true)
	c.link = discardLink{}
	key := make([]byte, 32)
	tx, rx := newSession(key, key, 1, 1000, false)
	c.tx = tx
	c.rx.Store(rx)
	var plain []byte
	for _, b := range []string{"a", "b", "c"} {
		plain = append(plain, record(strings.Repeat(b, 80))...)
	}
	c.mu.Lock()
	if err := c.sealedSend(0, transport.Reliable, plain); err != nil {
		t.Fatal(err)
	}
	p := bytes.Clone(c.sealBuf)
	c.mu.Unlock()
	sink := (*connSink)(c)
	if sink.TryReceive(0, p) {
		t.Fatal("three records of 80 bytes taken by an inbox of 200")
	}
	items, data := e.inbox.take(0, e.timer, nil, nil)
	if len(items) != 2 {
		t.Fatalf("%d records delivered, want 2", len(items))
	}
	if !sink.TryReceive(0, p) {
		t.Fatal("the rest refused by an empty inbox")
	}
	items, data = e.inbox.take(0, e.timer, items, data)
	if len(items) != 1 || string(data[items[0].off:items[0].off+items[0].len]) != strings.Repeat("c", 80) {
		t.Fatalf("the second hand-over delivered %d records, want the third alone", len(items))
	}
	if rx.streams[0].next != 1 {
		t.Fatalf("the payload was not counted as taken: next counter %d", rx.streams[0].next)
	}
}
