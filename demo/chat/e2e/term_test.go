package e2e

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gonetic/gonetic/demo/internal/proctest"
)

// TestTerminalClients runs a server and three terminal clients, each its
// own process: joins, chat, a refused nickname, /who, /nick, leaves, and
// reconnection after the server restarts on the same address.
func TestTerminalClients(t *testing.T) {
	srv, addr := startServer(t)

	ann := startTerm(t, addr, "ann")
	ann.Expect("*** joined as ann; online (1): ann")
	bob := startTerm(t, addr, "bob")
	bob.Expect("*** joined as bob; online (2): ann, bob")
	ann.Expect("*** bob joined")

	// A nickname already taken is refused with a reason the client shows;
	// the client stays connected and can pick another.
	carl := startTerm(t, addr, "ann")
	carl.Expect(`!!! nickname refused: nickname "ann" is already taken; choose another with /nick NAME`)
	carl.Send("hello?")
	carl.Expect("!!! not sent: you are connected, nickname refused")
	carl.Send("/nick carl")
	carl.Expect("*** joined as carl; online (3): ann, bob, carl")
	ann.Expect("*** carl joined")
	bob.Expect("*** carl joined")

	ann.Send("hello everyone")
	for _, p := range []*proctest.Proc{ann, bob, carl} {
		p.Expect("<ann> hello everyone")
	}
	carl.Send("hi ann, carl here")
	ann.Expect("<carl> hi ann, carl here")
	bob.Expect("<carl> hi ann, carl here")

	carl.Send("/who")
	carl.Expect("*** online (3): ann, bob, carl")
	t.Log(waitRTT(t, carl, "*** online as carl on "+addr+" (tcp, msgpack); "))

	bob.Send("/nick robert")
	bob.Expect("*** you are now known as robert")
	ann.Expect("*** bob is now known as robert")
	carl.Expect("*** bob is now known as robert")

	bob.Send("/quit")
	bob.Expect("*** bye")
	bob.Wait()
	ann.Expect("*** robert left (quit)")
	carl.Expect("*** robert left (quit)")

	// The server goes away: the clients say so and keep trying; it comes
	// back on the same address: they join again by themselves.
	srv.Signal(syscall.SIGTERM)
	srv.Expect("chat server stopped")
	srv.Wait()
	for _, p := range []*proctest.Proc{ann, carl} {
		p.Expect("!!! disconnected: the server closed the connection: server shutting down; reconnecting in ")
		p.Expect("!!! cannot connect to " + addr)
	}
	srv2 := proctest.Start(t, "server2", programs.Build(t, "server"), "-addr", addr)
	srv2.Expect("chat server listening on " + addr)
	ann.Expect("*** joined as ann; online (")
	carl.Expect("*** joined as carl; online (")
	carl.Send("back again")
	ann.Expect("<carl> back again")

	// End of input leaves like /quit.
	ann.CloseStdin()
	ann.Expect("*** bye")
	ann.Wait()
	carl.Expect("*** ann left (quit)")
	carl.Send("/quit")
	carl.Wait()

	srv2.Signal(syscall.SIGTERM)
	srv2.Wait()
}

// TestENetJSON runs the same chat over ENet with the JSON codec.
func TestENetJSON(t *testing.T) {
	srv, addr := startServer(t, "-transport", "enet", "-codec", "json")
	opts := []string{"-transport", "enet", "-codec", "json"}
	ann := startTerm(t, addr, "ann", opts...)
	ann.Expect("*** joined as ann")
	bob := startTerm(t, addr, "bob", opts...)
	bob.Expect("*** joined as bob; online (2): ann, bob")
	t.Log(waitRTT(t, ann, "*** online as ann on "+addr+" (enet, json); "))
	bob.Send("over udp")
	ann.Expect("<bob> over udp")
	bob.Send("/quit")
	bob.Wait()
	ann.Expect("*** bob left (quit)")
	ann.Send("/quit")
	ann.Wait()
	srv.Signal(syscall.SIGTERM)
	srv.Wait()
}

// TestCodecMismatch: a client with another codec is refused by the
// handshake, and says why.
func TestCodecMismatch(t *testing.T) {
	srv, addr := startServer(t, "-codec", "msgpack")
	c := startTerm(t, addr, "jason", "-codec", "json")
	line := c.Expect("!!! cannot connect to " + addr + ": the server refused the connection: ")
	if !strings.Contains(line, "codec differs") {
		t.Fatalf("refusal does not say what differs: %q", line)
	}
	c.Send("/quit")
	c.Wait()
	srv.Signal(syscall.SIGTERM)
	srv.Wait()
}

// TestBots runs bots against a server while a person watches.
func TestBots(t *testing.T) {
	srv, addr := startServer(t)
	watcher := startTerm(t, addr, "watcher")
	watcher.Expect("*** joined as watcher")
	bots := proctest.Start(t, "bots", programs.Build(t, "term"), "-addr", addr, "-bots", "5", "-interval", "20ms")
	for _, n := range []string{"bot1", "bot2", "bot3", "bot4", "bot5"} {
		watcher.ExpectCount("*** "+n+" joined", 1) // in any order
		bots.ExpectCount("["+n+"] online as "+n, 1)
	}
	watcher.Expect("<bot")
	bots.Signal(syscall.SIGTERM)
	bots.Expect("bots: 5 bots said ")
	bots.Wait()
	watcher.ExpectCount(" left (quit)", 5)
	watcher.Send("/quit")
	watcher.Wait()
	srv.Signal(syscall.SIGTERM)
	srv.Wait()
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
			srv.ExpectAny("network simulator: " + c.sim + " (seed ")
			ann := startTerm(t, addr, "ann", tr...)
			ann.Expect("*** joined as ann")
			bob := startTerm(t, addr, "bob", tr...)
			bob.Expect("*** joined as bob; online (2): ann, bob")
			status := waitRTT(t, ann, "*** online as ann on "+addr+" ("+c.transport+", msgpack); ")
			var rtt float64
			if _, err := fmt.Sscanf(rttRE.FindString(status), "rtt %f ms", &rtt); err != nil || rtt < float64(least.Milliseconds()) {
				t.Errorf("status %q: want a round trip of at least %v (%v)", status, least, err)
			}
			for i := range 5 {
				line := fmt.Sprintf("line %d through the simulator", i)
				sent := time.Now()
				bob.Send(line)
				ann.Expect("<bob> " + line)
				if took := time.Since(sent); took < least {
					t.Errorf("%q reached ann in %v, want at least %v (bob to the server, the server to ann)", line, took, least)
				}
			}
			for _, p := range []*proctest.Proc{ann, bob} {
				p.Send("/quit")
				p.Wait()
			}
			srv.Signal(syscall.SIGTERM)
			totals := srv.Expect("network simulator: up ")
			srv.Wait()
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
	ann.Expect("network simulator: lag=40ms (seed ")
	ann.Expect("*** joined as ann")
	status := waitRTT(t, ann, "*** online as ann on "+addr+" (tcp+sim, msgpack); ")
	var rtt float64
	if _, err := fmt.Sscanf(rttRE.FindString(status), "rtt %f ms", &rtt); err != nil || rtt < 80 {
		t.Errorf("status %q: want a round trip of at least 80 ms (%v)", status, err)
	}
	t.Log(status)
	ann.Send("/quit")
	ann.Wait()
	srv.Signal(syscall.SIGTERM)
	srv.Wait()
}
