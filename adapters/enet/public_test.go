//go:build cgo

package enet

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gonetic/gonetic/net/transport"
)

// publicOnlyEnv set to 1 makes the test binary use only libenet's public
// API (TestMain sets publicOnly), as it does with a libenet version the
// shim was not tested against.
const publicOnlyEnv = "GONETIC_ENET_TEST_PUBLIC_ONLY"

// publicKey are tests that must pass, not skip, on the public-API path:
// both conformance suites, closing, timers under loss, and the path's own.
var publicKey = []string{
	"TestConformance", "TestConformanceChannels", "TestNetConformance",
	"TestFirstPayloadAfterConnect", "TestBothClose", "TestDisconnectUnanswered",
	"TestCloseFlushes", "TestServerCloses", "TestListenerCloseWithLivePeers", "TestAbort",
	"TestThroughLoss", "TestPeerTimeout", "TestPollAndTrySink", "TestSendAfterPollLeaves", "TestBundles", "TestBundleAboveMaxPayload",
	"TestHalfOpenPeersGiveWay", "TestFloodFromOneAddress", "TestFloodSparesConnectedPeers",
	"TestPublicOnlyWalksAllSlots", "TestPublicOnlySinkBehind", "TestPublicOnlyBundleRoom",
}

// TestPublicAPIOnly runs the package's tests again in a child process that
// uses only libenet's public API (those of what only the internals allow
// skip: needInternals), and checks that they pass, the key ones among
// them, and that the child said once, in the log, what it does without the
// internals.
func TestPublicAPIOnly(t *testing.T) {
	if publicOnly {
		t.Skip("this is the public-API run")
	}
	if testing.Short() {
		t.Skip("the public-API run takes a while")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	// The child's own timeout ends a hang with its goroutines' stacks.
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.count=1", "-test.v", "-test.timeout=3m")
	cmd.Env = append(os.Environ(), publicOnlyEnv+"=1")
	b, err := cmd.CombinedOutput()
	out := string(b)
	if err != nil {
		t.Fatalf("the public-API run failed (%v):\n%s", err, tail(out, 8000))
	}
	if n := strings.Count(out, "using only its public API"); n != 1 {
		t.Errorf("the public-API run logged its notice %d times, want once:\n%s", n, tail(out, 4000))
	}
	for _, name := range publicKey {
		if !strings.Contains(out, "--- PASS: "+name+" (") {
			t.Errorf("%s did not pass in the public-API run:\n%s", name, tail(out, 4000))
		}
	}
}

// needInternals skips a test of what only libenet's internals allow (see
// gn_init) when this process uses the public API alone.
func needInternals(t *testing.T) {
	t.Helper()
	if err := available(); err != nil {
		t.Fatal(err)
	}
	if !internals {
		t.Skip("libenet is used through its public API only here")
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// On the public-API path, ENet walks every peer slot: the shim leaves
// host->peerCount alone.
func TestPublicOnlyWalksAllSlots(t *testing.T) {
	if !publicOnly {
		t.Skip("public-API run only (TestPublicAPIOnly)")
	}
	if internals {
		t.Fatal("the shim uses libenet's internals although the test asked it not to")
	}
	const limit = 1000
	tr := newTransport(t, &Options{PeerLimit: limit})
	srv := listen(t, tr, transport.Config{}, nil)
	cl, _ := dial(t, tr, srv.ln.Addr(), transport.Config{})
	sv := srv.next(t)
	if err := cl.Send(0, transport.Reliable, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	sv.s.waitN(1)
	h := srv.ln.(*listener).h
	var n int
	h.inspect(func() { n = int(h.c.host.peerCount) })
	if n != limit {
		t.Errorf("ENet walks %d slots, want all %d", n, limit)
	}
}

// On the public-API path, which cannot pause one peer, a link whose Sink
// does not keep up ends once it holds inboxCapFactor times its inbox limit:
// its memory stays bounded, its Sink gets what arrived before, then
// errSinkBehind, and the peer ErrAborted.
func TestPublicOnlySinkBehind(t *testing.T) {
	if !publicOnly {
		t.Skip("public-API run only (TestPublicAPIOnly)")
	}
	tr := newTransport(t, nil)
	release := make(chan struct{})
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	cfg := transport.Config{MaxPayload: 1000}
	knobs.inboxBytes = 64 << 10 // the listener's
	srv := listen(t, tr, cfg, func(s *sink) {
		s.keep = false
		s.onRecv = func(uint8, []byte) { <-release }
	})
	knobs.inboxBytes = 0
	cl, cs := dial(t, tr, srv.ln.Addr(), cfg)
	sv := srv.next(t)
	k := sv.l.(*link)
	limit := inboxCapFactor * k.h.inboxLimit
	payload := make([]byte, 500)
	sent := 0
	for range 2 * int(limit) / len(payload) {
		if cl.Send(0, transport.Reliable, payload) != nil {
			break // the link ended
		}
		sent++
	}
	if err := cs.waitClosed(); !errors.Is(err, ErrAborted) {
		t.Errorf("the sender's Closed(%v), want ErrAborted", err)
	}
	var held int64
	k.h.inspect(func() { held = k.inBytes.Load() })
	if most := limit + maxBundle + entryOverhead; held > most {
		t.Errorf("the link held %d bytes for its Sink, more than %d", held, most)
	}
	close(release)
	if err := sv.s.waitClosed(); !errors.Is(err, errSinkBehind) {
		t.Errorf("the slow Sink's Closed(%v), want errSinkBehind", err)
	}
	if got := sv.s.count(); got == 0 || got >= sent {
		t.Errorf("the slow Sink got %d of %d payloads: want those that arrived before the end", got, sent)
	}
}

// On the public-API path, which cannot read the peer's MTU, bundles are
// sized for the smallest MTU ENet negotiates: payloads sent together fill
// packets of gn_public_room bytes, no larger.
func TestPublicOnlyBundleRoom(t *testing.T) {
	if !publicOnly {
		t.Skip("public-API run only (TestPublicAPIOnly)")
	}
	cl, _, sv := connect(t, nil)
	const n, size = 100, 19
	room := publicRoom()
	perBundle := (room - 1) / (1 + size) // the mark, then a length byte per payload
	before := packetsOf(cl)
	together(cl, func() {
		for i := range n {
			if err := cl.Send(0, transport.Reliable, seqPayload(i, size)); err != nil {
				t.Error(err)
			}
		}
	})
	sv.s.waitN(n)
	if got, want := packetsOf(cl)-before, uint64((n+perBundle-1)/perBundle); got != want {
		t.Errorf("%d payloads of %d bytes took %d ENet packets, want %d (bundles of %d bytes)", n, size, got, want, room)
	}
}
