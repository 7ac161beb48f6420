package main

import (
	stdnet "net"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	s := newSamples(10)
	for _, v := range []int64{5000, 1000, 4000, 2000, 3000} {
		s.add(v)
	}
	for _, c := range []struct{ p, want float64 }{{50, 3}, {99, 5}, {100, 5}, {0, 1}, {19, 1}, {20, 2}} {
		if got := s.pct(c.p); got != c.want {
			t.Errorf("pct(%v) = %v µs, want %v", c.p, got, c.want)
		}
	}
	if got := s.above(2500); got != 60 {
		t.Errorf("above(2.5 µs) = %v %%, want 60", got)
	}
	full := newSamples(1)
	full.add(1)
	full.add(2)
	if len(full.v) != 1 || full.dropped != 1 {
		t.Errorf("a full set kept %d and dropped %d samples, want 1 and 1", len(full.v), full.dropped)
	}
}

func freeAddr(t *testing.T) string {
	l, err := stdnet.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestRun runs a server and three clients for a second after the warm-up,
// on each transport this build has: both must measure and end by themselves.
func TestRun(t *testing.T) {
	for _, name := range keys() {
		t.Run(name, func(t *testing.T) {
			addr := freeAddr(t)
			cfg := func() runConfig {
				tr, err := transports[name]()
				if err != nil {
					t.Fatal(err)
				}
				return runConfig{addr: addr, hz: 30, n: 3, duration: time.Second, label: "test." + name, tr: tr}
			}
			srvCfg, cliCfg := cfg(), cfg()
			done := make(chan int)
			go func() { done <- server(srvCfg) }()
			if rc := runClients(cliCfg); rc != 0 {
				t.Errorf("clients exited with %d", rc)
			}
			select {
			case rc := <-done:
				if rc != 0 {
					t.Errorf("server exited with %d", rc)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the server did not end after the clients told it to stop")
			}
		})
	}
}

// TestClientsWithoutServer: the clients give up after connectWait.
func TestClientsWithoutServer(t *testing.T) {
	tr, err := transports["tcp"]()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if rc := runClients(runConfig{addr: freeAddr(t), hz: 30, n: 2, duration: time.Second, label: "test", tr: tr}); rc != 1 {
		t.Errorf("clients without a server exited with %d, want 1", rc)
	}
	if d := time.Since(start); d > connectWait+5*time.Second {
		t.Errorf("clients without a server took %v to give up", d)
	}
}
