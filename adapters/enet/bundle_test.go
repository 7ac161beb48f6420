package enet

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/gonetic/gonetic/net/transport"
)

// packetsOf returns how many ENet packets the link's host created for it.
func packetsOf(l transport.Link) uint64 {
	k := l.(*link)
	k.h.svc.Lock()
	defer k.h.svc.Unlock()
	return uint64(k.c.created)
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

// sendHeld queues every payload while the link's host is held, so that
// one Poll hands them all to ENet at once, and returns what was sent.
func sendHeld(t *testing.T, l transport.Link, rounds int) []msg {
	t.Helper()
	l.(transport.Holder).Hold()
	var sent []msg
	for r := range rounds {
		for i, p := range bundleCases() {
			ch := uint8((i/4 + r) % 3) // runs of four on one channel
			if err := l.Send(ch, transport.Reliable, p); err != nil {
				t.Fatal(err)
			}
			sent = append(sent, msg{ch, p})
		}
	}
	l.(transport.Poller).Poll()
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
			sent = sendHeld(t, sv.l, 5)
			checkPerChannel(t, cs.waitN(len(sent)), sent)
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
	cl.(transport.Holder).Hold()
	var sent []msg
	for i := range 200 {
		p := seqPayload(i, 100)
		sent = append(sent, msg{0, p})
		if err := cl.Send(0, transport.Reliable, p); err != nil {
			t.Fatal(err)
		}
	}
	cl.(transport.Poller).Poll()
	checkPerChannel(t, sv.s.waitN(len(sent)), sent)
	if n := packetsOf(cl); n > 40 { // 13 fit in one bundle
		t.Errorf("200 payloads of 100 bytes took %d ENet packets", n)
	}
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
