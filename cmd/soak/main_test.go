package main

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	gnet "github.com/gonetic/gonetic/net"
)

func TestReasonKey(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{&gnet.DisconnectError{}, ""},
		{&gnet.DisconnectError{Remote: true, Reason: "leaving"}, "gonetic: disconnected by peer: leaving"},
		{&gnet.DisconnectError{Err: io.EOF}, "gonetic: connection lost: EOF"},
		{errors.New("timed out after 15s from 127.0.0.1:4567"), "timed out after N from ADDR"},
	} {
		if got := reasonKey(c.err); got != c.want {
			t.Errorf("reasonKey(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

// steady is n samples of a phase that holds players players, each with
// per goroutines and fds, above base.
func steady(n, players int, per float64, base sample, rssMiB int64) []sample {
	out := make([]sample, n)
	for i := range out {
		out[i] = sample{
			at: time.Duration(i) * time.Second, players: players, rssKiB: rssMiB << 10, heapLive: uint64(rssMiB) << 20,
			goroutines: base.goroutines + int(per*float64(players)), fds: base.fds + int(per*float64(players)),
		}
	}
	return out
}

func TestLeaks(t *testing.T) {
	base := sample{goroutines: 3, fds: 9}
	if l := leaks(base, base, steady(20, 1000, 5, base, 200), 5*time.Second); len(l) != 0 {
		t.Errorf("a steady phase: %q", l)
	}
	if l := leaks(base, sample{goroutines: 40, fds: 9}, steady(20, 1000, 5, base, 200), 5*time.Second); len(l) != 1 || !strings.Contains(l[0], "goroutines") {
		t.Errorf("goroutines left after the phase: %q", l)
	}
	grow := steady(20, 1000, 5, base, 200)
	for i := 10; i < 20; i++ {
		grow[i].goroutines += 100 * i // 1 more per player every sample
		grow[i].fds += 100 * i
		grow[i].rssKiB += int64(i*20) << 10
	}
	l := leaks(base, base, grow, 5*time.Second)
	if len(l) != 3 {
		t.Errorf("growing goroutines, fds and RSS: %q", l)
	}
	// Fewer players at the end is no leak.
	fewer := steady(20, 1000, 5, base, 200)
	copy(fewer[15:], steady(5, 500, 5, base, 200))
	if l := leaks(base, base, fewer, 5*time.Second); len(l) != 0 {
		t.Errorf("fewer players at the end: %q", l)
	}
}

// TestChurnTCP runs a small churn over TCP through the simulator: every
// handshake completes, every reliable relay arrives once, every
// disconnect has a reason, nothing is left behind.
func TestChurnTCP(t *testing.T) {
	cfg := churnConfig{
		adapter: "tcp", cond: "lag=5ms", clients: 20, life: time.Second, chats: 3, rampRate: 50,
		d: 3 * time.Second, timeout: 2 * time.Second, every: 500 * time.Millisecond,
	}
	r := churn(context.Background(), cfg, func(string) {})
	if len(r.failures) > 0 {
		t.Fatalf("failures: %q", r.failures)
	}
	if r.connected == 0 || r.relaysReceived == 0 || r.ends[endBye] == 0 {
		t.Errorf("nothing happened: %d connected, %d relays received, %d byes", r.connected, r.relaysReceived, r.ends[endBye])
	}
	if l := leaks(r.base, r.after, nil, 0); len(l) > 0 {
		t.Errorf("leaks: %q", l)
	}
	if n := r.ends[endBye] + r.ends[endClose] + r.ends[endSilent]; n != r.connected {
		t.Errorf("%d players connected, %d ended", r.connected, n)
	}
}
