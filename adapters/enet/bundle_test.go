//go:build cgo

package enet

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gonetic/gonetic/net/transport"
)

// packetsOf returns how many ENet packets the link's host created for it.
func packetsOf(l transport.Link) uint64 {
	k := l.(*link)
	var n uint64
	k.h.inspect(func() { n = uint64(k.c.created) })
	return n
}

// bundleCase is a payload of every length class a bundle handles: empty,
// one- and two-byte lengths, up to and past the largest unfragmented
// packet, and payloads that start with the bundle mark.
func bundleCases() [][]byte {
	sizes := []int{0, 1, 19, 19, 127, 128, 600, 1300, 1371, 1372, 1373, 1400, 5000, 19, 0}
	var ps [][]byte
	for i, n := range sizes {
		p := bytes.Repeat([]byte{byte(i + 2)}, n)
		if n > 0 && i%3 == 0 {
			p[0] = bundleMark // must not be taken for a bundle when sent alone
		}
		ps = append(ps, p)
	}
	return ps
}

// together runs send, which queues payloads on l, on l's host's
// goroutine, so that it hands none of them to ENet before all are queued:
// its next round takes them at once.
func together(l transport.Link, send func()) {
	l.(*link).h.inspect(send)
}

// sendHeld queues rounds of bundleCases on l at once, in runs of four on
// each channel, and returns what was sent.
func sendHeld(t *testing.T, l transport.Link, rounds int) []msg {
	t.Helper()
	var sent []msg
	together(l, func() {
		for r := range rounds {
			for i, p := range bundleCases() {
				ch := uint8((i/4 + r) % 3) // runs of four on one channel
				if err := l.Send(ch, transport.Reliable, p); err != nil {
					t.Error(err)
					return
				}
				sent = append(sent, msg{ch, p})
			}
		}
	})
	return sent
}

// checkPerChannel checks that got holds exactly want, in order on each
// channel.
func checkPerChannel(t *testing.T, got, want []msg) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d payloads arrived, want %d", len(got), len(want))
	}
	var gotBy, wantBy [3][][]byte
	for _, m := range got {
		gotBy[m.ch] = append(gotBy[m.ch], m.p)
	}
	for _, m := range want {
		wantBy[m.ch] = append(wantBy[m.ch], m.p)
	}
	for ch := range gotBy {
		if len(gotBy[ch]) != len(wantBy[ch]) {
			t.Fatalf("channel %d: %d payloads, want %d", ch, len(gotBy[ch]), len(wantBy[ch]))
		}
		for i := range gotBy[ch] {
			if !bytes.Equal(gotBy[ch][i], wantBy[ch][i]) {
				t.Fatalf("channel %d payload %d: %d bytes arrived, want %d (first %x)",
					ch, i, len(gotBy[ch][i]), len(wantBy[ch][i]), wantBy[ch][i][:min(4, len(wantBy[ch][i]))])
			}
		}
	}
}

func TestBundles(t *testing.T) {
	for _, nb := range []bool{false, true} {
		t.Run(fmt.Sprintf("NoBundling=%v", nb), func(t *testing.T) {
			tr := newTransport(t, &Options{NoBundling: nb})
			cfg := transport.Config{Channels: 3, MaxPayload: 8000}
			srv := listen(t, tr, cfg, nil)
			cl, cs := dial(t, tr, srv.ln.Addr(), cfg)
			sv := srv.next(t)
			before := packetsOf(cl)
			sent := sendHeld(t, cl, 40)
			checkPerChannel(t, sv.s.waitN(len(sent)), sent)
			packets := packetsOf(cl) - before
			t.Logf("%d payloads in %d ENet packets", len(sent), packets)
			if nb && packets != uint64(len(sent)) {
				t.Errorf("NoBundling: %d payloads took %d ENet packets", len(sent), packets)
			}
			if !nb && packets > uint64(len(sent))*2/3 {
				t.Errorf("%d payloads took %d ENet packets: not bundled", len(sent), packets)
			}
			// The other way too, from the listener's side.
			before = packetsOf(sv.l)
			sent = sendHeld(t, sv.l, 5)
			checkPerChannel(t, cs.waitN(len(sent)), sent)
			if packets := packetsOf(sv.l) - before; !nb && packets > uint64(len(sent))*2/3 {
				t.Errorf("listener: %d payloads took %d ENet packets: not bundled", len(sent), packets)
			}
		})
	}
}

// A receiver whose MaxPayload is below the size of a bundle takes bundles
// of smaller payloads: the limit is per payload.
func TestBundleAboveMaxPayload(t *testing.T) {
	tr := newTransport(t, nil)
	srv := listen(t, tr, transport.Config{MaxPayload: 100}, nil)
	cl, _ := dial(t, tr, srv.ln.Addr(), transport.Config{MaxPayload: 100})
	sv := srv.next(t)
	var sent []msg
	together(cl, func() {
		for i := range 200 {
			p := seqPayload(i, 100)
			sent = append(sent, msg{0, p})
			if err := cl.Send(0, transport.Reliable, p); err != nil {
				t.Error(err)
				return
			}
		}
	})
	checkPerChannel(t, sv.s.waitN(len(sent)), sent)
	perBundle := (bundleRoom(cl) - 1) / (1 + 100)        // 13 at ENet's default MTU
	if n := packetsOf(cl); n > uint64(200/perBundle+2) { // +2: rounding, and the queue's own chunk ends a bundle early
		t.Errorf("200 payloads of 100 bytes took %d ENet packets (%d fit in one bundle)", n, perBundle)
	}
}

// bundleRoom is the largest bundle the link's host sends (gn_bundle_room).
func bundleRoom(l transport.Link) int {
	if !internals {
		return publicRoom()
	}
	mtu, _ := enetState(l)
	return mtu - 4 - 24 // ENet's header and fragment command
}

// Bad bundles from the network end the link with a reason at both ends,
// deliver none of their payloads and leave other links alone.
func TestMalformedBundles(t *testing.T) {
	cases := []struct {
		name    string
		packet  []byte
		peerErr error
	}{
		{"empty", []byte{bundleMark}, ErrMalformed},
		{"length past the end", []byte{bundleMark, 1, 'a', 5, 'b'}, ErrMalformed},
		{"truncated length", []byte{bundleMark, 1, 'a', 0x80}, ErrMalformed},
		{"length overflows", append([]byte{bundleMark}, bytes.Repeat([]byte{0xff}, 11)...), ErrMalformed},
		{"length of 6 bytes", []byte{bundleMark, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00, 'a'}, ErrMalformed},
		{"payload above MaxPayload", append([]byte{bundleMark, 1, 'a', 0x81, 0x01}, make([]byte, 129)...), ErrTooLarge},
	}
	good := newTransport(t, nil)
	cfg := transport.Config{MaxPayload: 128}
	srv := listen(t, good, cfg, nil)
	bystander, _ := dial(t, good, srv.ln.Addr(), cfg)
	by := srv.next(t)
	raw := newTransport(t, &Options{rawSend: true})
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl, cs := dial(t, raw, srv.ln.Addr(), transport.Config{MaxPayload: 1000})
			sv := srv.next(t)
			if err := cl.Send(0, transport.Reliable, c.packet); err != nil {
				t.Fatal(err)
			}
			var fe *transport.FrameError
			if err := sv.s.waitClosed(); !errors.As(err, &fe) {
				t.Errorf("receiver closed with %v, want a FrameError", err)
			} else {
				t.Logf("receiver: %v", err)
			}
			if n := sv.s.count(); n != 0 {
				t.Errorf("%d payloads of the bad bundle delivered", n)
			}
			if err := cs.waitClosed(); err != c.peerErr {
				t.Errorf("sender closed with %v, want %v", err, c.peerErr)
			}
			// Another link of the listener still works.
			if err := bystander.Send(0, transport.Reliable, []byte{byte(i)}); err != nil {
				t.Fatal(err)
			}
			if m := by.s.waitN(i + 1)[i]; !bytes.Equal(m.p, []byte{byte(i)}) {
				t.Errorf("bystander got %x", m.p)
			}
		})
	}
}

// enetState returns the link's ENet peer's MTU and the next reliable
// sequence number of its channel 0, which every reliable packet, and every
// fragment of one, takes.
func enetState(l transport.Link) (mtu int, seq uint16) {
	k := l.(*link)
	k.h.inspect(func() { mtu, seq = int(k.peer.mtu), uint16(k.peer.channels.outgoingReliableSequenceNumber) })
	return mtu, seq
}

// A bundle as large as ENet sends unfragmented is one packet; one byte more
// and the payloads go as two.
func TestBundleFillsOnePacket(t *testing.T) {
	needInternals(t)
	tr := newTransport(t, nil)
	cfg := transport.Config{Channels: 2, MaxPayload: 4000}
	srv := listen(t, tr, cfg, nil)
	cl, _ := dial(t, tr, srv.ln.Addr(), cfg)
	sv := srv.next(t)
	mtu, _ := enetState(cl)
	// A bundle does not span two chunks of the send queue: a filler
	// larger than the queue's own chunk, on another channel, puts the two
	// payloads in a pooled one.
	filler := make([]byte, ownBytes+1)
	room := mtu - 4 - 24 // ENet's header and fragment command
	for i, extra := range []int{0, 1} {
		a := 600
		b := room + extra - 1 - 2 - a - 2 // 0x01, then two lengths of 2 bytes
		pa, pb := bytes.Repeat([]byte{'a'}, a), bytes.Repeat([]byte{'b'}, b)
		packets := packetsOf(cl)
		_, seq := enetState(cl)
		together(cl, func() {
			for j, p := range [][]byte{filler, pa, pb} {
				ch := uint8(0)
				if j == 0 {
					ch = 1
				}
				if err := cl.Send(ch, transport.Reliable, p); err != nil {
					t.Error(err)
				}
			}
		})
		got := sv.s.waitN(3 * (i + 1))[3*i:]
		if got[0].ch != 1 || !bytes.Equal(got[1].p, pa) || !bytes.Equal(got[2].p, pb) {
			t.Fatalf("bundle of %d bytes: payloads arrived differently", room+extra)
		}
		_, seq2 := enetState(cl)
		n, cmds := packetsOf(cl)-packets-1, seq2-seq // less the filler's packet, on channel 1
		t.Logf("bundle of %d bytes (room %d): %d packets, %d reliable commands", room+extra, room, n, cmds)
		if want := uint64(1 + extra); n != want || cmds != uint16(want) {
			t.Errorf("payloads of %d bytes together: %d ENet packets, %d reliable commands; want %d and %d",
				room+extra, n, cmds, want, want)
		}
	}
}

// Empty payloads count against a link's inbox too: a bundle carries
// hundreds of them, and a Sink that does not keep up must pause the peer
// before they pile up without bound.
func TestEmptyPayloadsFillInbox(t *testing.T) {
	needInternals(t)
	tr := newTransport(t, &Options{inboxBytes: 64 << 10})
	release := make(chan struct{})
	srv := listen(t, tr, transport.Config{MaxPayload: 1000}, func(s *sink) {
		s.keep = false
		s.onRecv = func(uint8, []byte) { <-release }
	})
	cl, _ := dial(t, tr, srv.ln.Addr(), transport.Config{MaxPayload: 1000})
	sv := srv.next(t)
	k := sv.l.(*link)
	n := int(k.h.inboxLimit/entryOverhead) * 3 // 12,288
	for range n {
		if err := cl.Send(0, transport.Reliable, nil); err != nil {
			t.Fatal(err)
		}
	}
	end := time.Now().Add(deadline)
	for !k.paused.Load() {
		if time.Now().After(end) {
			close(release)
			t.Fatalf("%d empty payloads did not pause the peer (inbox holds %d bytes' worth)", n, k.inBytes.Load())
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	sv.s.waitN(n)
}
