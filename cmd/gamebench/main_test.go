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

// runCase is a transport, plain or with -tokens.
type runCase struct {
	label, name string
	tokens      bool
}

// runCases is each transport this build has, plain and with -tokens.
func runCases() []runCase {
	var out []runCase
	for _, name := range keys() {
		out = append(out, runCase{name, name, false}, runCase{name + "-tokens", name, true})
	}
	return out
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
// on each transport this build has, plain and with -tokens: both must
// measure and end by themselves, and the server finds its connections
// sealed exactly with -tokens (else it exits with 1).
func TestRun(t *testing.T) {
	for _, tc := range runCases() {
		name, tokens := tc.name, tc.tokens
		t.Run(tc.label, func(t *testing.T) {
			addr := freeAddr(t)
			cfg := func() runConfig {
				tr, err := transports[name]()
				if err != nil {
					t.Fatal(err)
				}
				return runConfig{addr: addr, hz: 30, n: 3, duration: time.Second, label: "test." + name, tr: tr, tokens: tokens}
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

// TestRunSimulated runs the server under -sim: the clients, which are not,
// still measure and end, and the simulator saw the traffic of both ways
// and lost some of it.
func TestRunSimulated(t *testing.T) {
	name, spec := "enet", "lag=10ms,loss=10%"
	if _, ok := transports[name]; !ok {
		name, spec = "tcp", "lag=10ms"
	}
	addr := freeAddr(t)
	if name == "enet" {
		addr = freeUDPAddr(t)
	}
	srvTr, s, err := newTransport(name, spec)
	if err != nil {
		t.Fatal(err)
	}
	cliTr, none, err := newTransport(name, "")
	if err != nil || none != nil {
		t.Fatal(err, none)
	}
	done := make(chan int)
	go func() {
		done <- server(runConfig{addr: addr, hz: 30, n: 3, duration: time.Second, label: "test.sim", tr: srvTr})
	}()
	if rc := runClients(runConfig{addr: addr, hz: 30, n: 3, duration: time.Second, label: "test.sim", tr: cliTr}); rc != 0 {
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
	st := s.Stats()
	if st.Up.Packets == 0 || st.Down.Packets == 0 || name == "enet" && st.Up.Lost+st.Down.Lost == 0 {
		t.Errorf("%s under %s: simulator stats %+v", name, spec, st)
	}
	if _, _, err := newTransport("tcp", "loss=5%"); err == nil {
		t.Error("-sim loss=5% over tcp accepted")
	}
}

func freeUDPAddr(t *testing.T) string {
	c, err := stdnet.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().String()
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
