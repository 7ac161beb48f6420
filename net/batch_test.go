package net_test

import (
	"encoding/binary"
	"errors"
	"runtime"
	"strconv"
	"testing"

	"github.com/gonetic/gonetic/adapters/enet"
	"github.com/gonetic/gonetic/adapters/mem"
	"github.com/gonetic/gonetic/adapters/tcp"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/nettest"
	"github.com/gonetic/gonetic/net/transport"
)

var streamAdapters = []struct {
	name string
	tr   func() transport.Transport
	addr string
}{
	{"mem", func() transport.Transport { return new(mem.Network) }, "server:0"},
	{"tcp", func() transport.Transport { return tcp.New(tcp.Options{}) }, "127.0.0.1:0"},
}

// sendBurst sends n chats numbered from 0, calling Update only when the
// adapter's queue is full.
func sendBurst(t *testing.T, c *gnet.Client, conn *gnet.Conn, n int) {
	t.Helper()
	for i := range n {
		for {
			err := conn.Send(&nettest.Chat{Player: "Ann", Msg: strconv.Itoa(i)})
			if err == nil {
				break
			}
			if !errors.Is(err, transport.ErrQueueFull) {
				t.Fatal(err)
			}
			_ = c.Update(0)
		}
	}
}

// checkChats fails t unless the server got chats 0 … n-1 in order.
func checkChats(t *testing.T, sh *nettest.ChatHandler, n int) {
	t.Helper()
	if len(sh.Chats) != n {
		t.Fatalf("the server got %d chats, want %d", len(sh.Chats), n)
	}
	for i, m := range sh.Chats {
		if m.Msg != strconv.Itoa(i) {
			t.Fatalf("chat %d is %q: out of order", i, m.Msg)
		}
	}
}

// TestSealedBatches: a burst of small messages arrives whole and in
// order, in fewer sealed payloads than messages, and Stats counts the
// messages, not the payloads.
func TestSealedBatches(t *testing.T) {
	const n = 2000
	for _, a := range streamAdapters {
		t.Run(a.name, func(t *testing.T) {
			h := &hook{Transport: a.tr()}
			s, c, conn, sh := sealedPairPing(t, h, a.addr, suiteFactory, true, -1)
			h.mu.Lock()
			before := len(h.clientSent)
			h.mu.Unlock()
			sendBurst(t, c, conn, n)
			nettest.Pump(t, func() bool { return len(sh.Chats) == n || sh.Disconnected != nil }, s, c)
			checkChats(t, sh, n)
			h.mu.Lock()
			payloads := len(h.clientSent) - before
			h.mu.Unlock()
			if payloads >= n {
				t.Fatalf("%d messages took %d sealed payloads: not batched", n, payloads)
			}
			t.Logf("%d messages in %d sealed payloads", n, payloads)
			if got := conn.Stats().MessagesSent; got != n {
				t.Fatalf("Stats.MessagesSent %d, want %d", got, n)
			}
		})
	}
}

// TestSealedFlusher: a message sent from outside Update, while the
// sender runs no Update at all (and no ping would carry it), reaches the
// peer: the endpoint's flusher sends it.
func TestSealedFlusher(t *testing.T) {
	for _, a := range streamAdapters {
		t.Run(a.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			h := &hook{Transport: a.tr()}
			s, c, conn, sh := sealedPairPing(t, h, a.addr, suiteFactory, true, -1)
			if err := conn.Send(&nettest.Chat{Msg: "0"}); err != nil {
				t.Fatal(err)
			}
			nettest.Pump(t, func() bool { return len(sh.Chats) == 1 }, s) // the server only
			checkChats(t, sh, 1)
			c.Close()
			s.Close()
			nettest.CheckGoroutines(t, before) // the flusher is gone too
		})
	}
}

// TestSealedDisconnectAfterBurst: Disconnect right after a burst sends
// every message it accepted before the bye.
func TestSealedDisconnectAfterBurst(t *testing.T) {
	const n = 1000
	for _, a := range streamAdapters {
		t.Run(a.name, func(t *testing.T) {
			h := &hook{Transport: a.tr()}
			s, c, conn, sh := sealedPairPing(t, h, a.addr, suiteFactory, true, -1)
			sendBurst(t, c, conn, n)
			conn.Disconnect("done")
			nettest.Pump(t, func() bool { return sh.Disconnected != nil }, s, c)
			var de *gnet.DisconnectError
			if !errors.As(sh.Disconnected, &de) || de.Reason != "done" {
				t.Fatalf("server: %v, want the client's bye", sh.Disconnected)
			}
			checkChats(t, sh, n)
		})
	}
}

// TestSealedENetBatchCap: over ENet, batches of unsequenced messages form
// but never take more than one datagram's plaintext (1200 bytes).
func TestSealedENetBatchCap(t *testing.T) {
	const n = 500
	tr, err := enet.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	h := &hook{Transport: tr}
	s, c, conn, _ := sealedPairPing(t, h, "127.0.0.1:0", enetFactory, true, -1)
	h.mu.Lock()
	before := len(h.clientSent)
	h.mu.Unlock()
	sendBurst(t, c, conn, n)
	nettest.Pump(t, func() bool { return conn.Stats().MessagesSent == n }, s, c)
	h.mu.Lock()
	defer h.mu.Unlock()
	unreliable := 0
	for _, m := range h.clientSent[before:] {
		if m.d == transport.Reliable {
			continue
		}
		unreliable++
		_, w := binary.Uvarint(m.p[2:])
		if plain := len(m.p) - 2 - w - 16; plain > 1200 {
			t.Fatalf("an unsequenced batch of %d bytes of plaintext: more than one datagram", plain)
		}
	}
	if unreliable == 0 || unreliable >= n {
		t.Fatalf("%d messages in %d unsequenced payloads", n, unreliable)
	}
	t.Logf("%d messages in %d unsequenced payloads", n, unreliable)
}

// TestSealedBatchRefused: a batch the adapter refuses for another reason
// than a full queue ends the connection, with a reason that says so: the
// messages Send accepted cannot go.
func TestSealedBatchRefused(t *testing.T) {
	h := &hook{Transport: new(mem.Network)}
	s, c, conn, sh := sealedPairPing(t, h, "server:0", suiteFactory, true, -1)
	h.mu.Lock()
	h.fail = errors.New("hook: broken")
	h.mu.Unlock()
	if err := conn.Send(&nettest.Chat{Msg: "0"}); err != nil {
		t.Fatal(err)
	}
	nettest.Pump(t, func() bool { return sh.Disconnected != nil }, s, c)
	want := "gonetic: a batch of messages could not be sent: hook: broken"
	var de *gnet.DisconnectError
	if !errors.As(sh.Disconnected, &de) || de.Reason != want {
		t.Fatalf("server: %v, want the reason %q", sh.Disconnected, want)
	}
}
