package e2e

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestTerminalClients runs a server and three terminal clients, each its
// own process: joins, chat, a refused nickname, /who, /nick, leaves, and
// reconnection after the server restarts on the same address.
func TestTerminalClients(t *testing.T) {
	srv, addr := startServer(t)

	ann := startTerm(t, addr, "ann")
	ann.expect("*** joined as ann; online (1): ann")
	bob := startTerm(t, addr, "bob")
	bob.expect("*** joined as bob; online (2): ann, bob")
	ann.expect("*** bob joined")

	// A nickname already taken is refused with a reason the client shows;
	// the client stays connected and can pick another.
	carl := startTerm(t, addr, "ann")
	carl.expect(`!!! nickname refused: nickname "ann" is already taken; choose another with /nick NAME`)
	carl.send("hello?")
	carl.expect("!!! not sent: you are connected, nickname refused")
	carl.send("/nick carl")
	carl.expect("*** joined as carl; online (3): ann, bob, carl")
	ann.expect("*** carl joined")
	bob.expect("*** carl joined")

	ann.send("hello everyone")
	for _, p := range []*proc{ann, bob, carl} {
		p.expect("<ann> hello everyone")
	}
	carl.send("hi ann, carl here")
	ann.expect("<carl> hi ann, carl here")
	bob.expect("<carl> hi ann, carl here")

	carl.send("/who")
	carl.expect("*** online (3): ann, bob, carl")
	t.Log(carl.waitRTT("*** online as carl on " + addr + " (tcp, msgpack); "))

	bob.send("/nick robert")
	bob.expect("*** you are now known as robert")
	ann.expect("*** bob is now known as robert")
	carl.expect("*** bob is now known as robert")

	bob.send("/quit")
	bob.expect("*** bye")
	bob.wait()
	ann.expect("*** robert left (quit)")
	carl.expect("*** robert left (quit)")

	// The server goes away: the clients say so and keep trying; it comes
	// back on the same address: they join again by themselves.
	srv.signal(syscall.SIGTERM)
	srv.expect("chat server stopped")
	srv.wait()
	for _, p := range []*proc{ann, carl} {
		p.expect("!!! disconnected: the server closed the connection: server shutting down; reconnecting in ")
		p.expect("!!! cannot connect to " + addr)
	}
	srv2 := start(t, "server2", program(t, "server"), "-addr", addr)
	srv2.expect("chat server listening on " + addr)
	ann.expect("*** joined as ann; online (")
	carl.expect("*** joined as carl; online (")
	carl.send("back again")
	ann.expect("<carl> back again")

	// End of input leaves like /quit.
	if err := ann.in.Close(); err != nil {
		t.Fatal(err)
	}
	ann.expect("*** bye")
	ann.wait()
	carl.expect("*** ann left (quit)")
	carl.send("/quit")
	carl.wait()

	srv2.signal(syscall.SIGTERM)
	srv2.wait()
}

// TestENetJSON runs the same chat over ENet with the JSON codec.
func TestENetJSON(t *testing.T) {
	srv, addr := startServer(t, "-transport", "enet", "-codec", "json")
	opts := []string{"-transport", "enet", "-codec", "json"}
	ann := startTerm(t, addr, "ann", opts...)
	ann.expect("*** joined as ann")
	bob := startTerm(t, addr, "bob", opts...)
	bob.expect("*** joined as bob; online (2): ann, bob")
	t.Log(ann.waitRTT("*** online as ann on " + addr + " (enet, json); "))
	bob.send("over udp")
	ann.expect("<bob> over udp")
	bob.send("/quit")
	bob.wait()
	ann.expect("*** bob left (quit)")
	ann.send("/quit")
	ann.wait()
	srv.signal(syscall.SIGTERM)
	srv.wait()
}

// TestCodecMismatch: a client with another codec is refused by the
// handshake, and says why.
func TestCodecMismatch(t *testing.T) {
	srv, addr := startServer(t, "-codec", "msgpack")
	c := startTerm(t, addr, "jason", "-codec", "json")
	line := c.expect("!!! cannot connect to " + addr + ": the server refused the connection: ")
	if !strings.Contains(line, "codec differs") {
		t.Fatalf("refusal does not say what differs: %q", line)
	}
	c.send("/quit")
	c.wait()
	srv.signal(syscall.SIGTERM)
	srv.wait()
}

// TestBots runs bots against a server while a person watches.
func TestBots(t *testing.T) {
	srv, addr := startServer(t)
	watcher := startTerm(t, addr, "watcher")
	watcher.expect("*** joined as watcher")
	bots := start(t, "bots", program(t, "term"), "-addr", addr, "-bots", "5", "-interval", "20ms")
	for _, n := range []string{"bot1", "bot2", "bot3", "bot4", "bot5"} {
		watcher.expectCount("*** "+n+" joined", 1) // in any order
		bots.expectCount("["+n+"] online as "+n, 1)
	}
	watcher.expect("<bot")
	bots.signal(syscall.SIGTERM)
	bots.expect("bots: 5 bots said ")
	bots.wait()
	watcher.expectCount(" left (quit)", 5)
	watcher.send("/quit")
	watcher.wait()
	srv.signal(syscall.SIGTERM)
	srv.wait()
}

// TestSimulatedNetwork runs the chat on a server under -sim: the clients,
// which are not, feel its conditions both ways. A line from one client to
// another, and gonetic's round trip, take at least twice the least lag
// (lag less jitter); under loss (ENet) every line still arrives, and the
// server's totals show the losses.
func TestSimulatedNetwork(t *testing.T) {
	const least = 2 * (40*time.Millisecond - 5*time.Millisecond)
	for _, c := range []struct {
		name, transport, sim string
		lossy                bool
	}{
		{"tcp lag", "tcp", "lag=40ms,jitter=5ms", false},
		{"enet loss", "enet", "lag=40ms,jitter=5ms,loss=10%", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr := []string{"-transport", c.transport}
			srv, addr := startServer(t, append(tr, "-sim", c.sim)...)
			srv.expectAny("network simulator: " + c.sim + " (seed ")
			ann := startTerm(t, addr, "ann", tr...)
			ann.expect("*** joined as ann")
			bob := startTerm(t, addr, "bob", tr...)
			bob.expect("*** joined as bob; online (2): ann, bob")
			status := ann.waitRTT("*** online as ann on " + addr + " (" + c.transport + ", msgpack); ")
			var rtt float64
			if _, err := fmt.Sscanf(rttRE.FindString(status), "rtt %f ms", &rtt); err != nil || rtt < float64(least.Milliseconds()) {
				t.Errorf("status %q: want a round trip of at least %v (%v)", status, least, err)
			}
			for i := range 5 {
				line := fmt.Sprintf("line %d through the simulator", i)
				sent := time.Now()
				bob.send(line)
				ann.expect("<bob> " + line)
				if took := time.Since(sent); took < least {
					t.Errorf("%q reached ann in %v, want at least %v (bob to the server, the server to ann)", line, took, least)
				}
			}
			for _, p := range []*proc{ann, bob} {
				p.send("/quit")
				p.wait()
			}
			srv.signal(syscall.SIGTERM)
			totals := srv.expect("network simulator: up ")
			srv.wait()
			var upN, upLost, downN, downLost int
			if _, err := fmt.Sscanf(totals, "network simulator: up %d packets, %d lost; down %d packets, %d lost",
				&upN, &upLost, &downN, &downLost); err != nil || upN == 0 || downN == 0 {
				t.Fatalf("server said %q (%v)", totals, err)
			}
			t.Logf("%s; %s", status, totals)
			if lost := upLost + downLost; c.lossy != (lost > 0) {
				t.Errorf("server said %q; want losses: %v", totals, c.lossy)
			}
		})
	}
}

// TestSimulatedClient: -sim on a terminal client wraps that client's
// transport only: it says so, and its round trip takes twice the lag.
func TestSimulatedClient(t *testing.T) {
	srv, addr := startServer(t)
	ann := startTerm(t, addr, "ann", "-sim", "lag=40ms")
	ann.expect("network simulator: lag=40ms (seed ")
	ann.expect("*** joined as ann")
	status := ann.waitRTT("*** online as ann on " + addr + " (tcp+sim, msgpack); ")
	var rtt float64
	if _, err := fmt.Sscanf(rttRE.FindString(status), "rtt %f ms", &rtt); err != nil || rtt < 80 {
		t.Errorf("status %q: want a round trip of at least 80 ms (%v)", status, err)
	}
	t.Log(status)
	ann.send("/quit")
	ann.wait()
	srv.signal(syscall.SIGTERM)
	srv.wait()
}
