package transports

import (
	"slices"
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	if !slices.Equal(Names, []string{"tcp", "enet", "websocket"}) {
		t.Errorf("Names = %q", Names)
	}
	for _, name := range []string{"", "tcp"} {
		if tr, err := New(name); err != nil || tr.Name() != "tcp" {
			t.Fatalf("New(%q) = %v, %v", name, tr, err)
		}
	}
	if _, err := New("carrier-pigeon"); err == nil || err.Error() != `unknown transport "carrier-pigeon": use tcp, enet or websocket` {
		t.Errorf("New(carrier-pigeon) = %v", err)
	}
}

func TestOpen(t *testing.T) {
	if _, s, err := Open("tcp", ""); err != nil || s != nil {
		t.Fatalf("Open(tcp, \"\") = %v, %v", s, err)
	}
	_, s, err := Open("tcp", "lag=20ms")
	if err != nil || s == nil {
		t.Fatalf("Open(tcp, lag=20ms) = %v, %v", s, err)
	}
	if !strings.HasPrefix(SimStarted(s), "network simulator: lag=20ms (seed ") {
		t.Errorf("SimStarted = %q", SimStarted(s))
	}
	if got := SimTotals(s); got != "network simulator: up 0 packets, 0 lost; down 0 packets, 0 lost" {
		t.Errorf("SimTotals = %q", got)
	}
	if _, _, err := Open("tcp", "lag=fast"); err == nil || !strings.HasPrefix(err.Error(), "-sim: ") {
		t.Errorf("Open(tcp, lag=fast) = %v", err)
	}
	if _, _, err := Open("carrier-pigeon", "lag=20ms"); err == nil || !strings.HasPrefix(err.Error(), "unknown transport") {
		t.Errorf("Open(carrier-pigeon) = %v", err)
	}
}

func TestOrList(t *testing.T) {
	for in, want := range map[string]string{"": "", "a": "a", "a b": "a or b", "a b c": "a, b or c"} {
		if got := orList(strings.Fields(in)); got != want {
			t.Errorf("orList(%q) = %q, want %q", in, got, want)
		}
	}
}
