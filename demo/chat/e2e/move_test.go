package e2e

import (
	"net"
	"strings"
	"syscall"
	"testing"

	"github.com/gonetic/gonetic/demo/internal/proctest"
)

// TestMoveBetweenServers runs two chat servers linked as nodes A and B
// (their embedded NATS servers meet on a free seed port, not the
// machine-wide default) and terminal clients, each its own process: ann
// moves from A to B with /move and arrives with her nickname and state;
// B's carl sees her arrive, A's bob sees her leave; /move to an unknown
// server lists the servers; her spent ticket, and a forged one, are
// refused; B refuses a player whose nickname it has online.
func TestMoveBetweenServers(t *testing.T) {
	seed := freeAddr(t)
	srvA, addrA := startServer(t, "-node", "A", "-seed", seed)
	srvB, addrB := startServer(t, "-node", "B", "-seed", seed)
	srvA.Expect("linked to chat server B")
	srvB.Expect("linked to chat server A")

	ann := startTerm(t, addrA, "ann")
	ann.Expect("*** joined as ann; online (1): ann")
	bob := startTerm(t, addrA, "bob")
	bob.Expect("*** joined as bob; online (2): ann, bob")
	carl := startTerm(t, addrB, "carl")
	carl.Expect("*** joined as carl; online (1): carl")
	ann.Send("hello from A")
	bob.Expect("<ann> hello from A")

	ann.Send("/move")
	ann.Expect("*** server: cannot move: say where: /move SERVER; servers: B")
	ann.Send("/move Z")
	ann.Expect(`*** server: cannot move: no chat server "Z"; servers: B`)
	ann.Send("/move A")
	ann.Expect("*** server: cannot move: you are on A already")

	// B refuses a nickname it has online already; the player stays on A.
	carl2 := startTerm(t, addrA, "carl")
	carl2.Expect("*** joined as carl; online (3): ann, bob, carl")
	carl2.Send("/move B")
	carl2.Expect(`*** server: cannot move to B: nickname "carl" is already online on B`)
	carl2.Send("/quit")
	carl2.Wait()

	ann.Send("/move B")
	moving := ann.Expect("*** moving to B at " + addrB + " (ticket ")
	ann.Expect("*** connected to " + addrB)
	ann.Expect("*** joined as ann; online (2): carl, ann")
	ann.Expect("*** server: arrived from A with your state: in the chat since ")
	carl.Expect("*** ann arrived from A")
	bob.Expect("*** ann moved to B")
	if n := ann.Count("reconnecting"); n != 0 {
		t.Errorf("ann's move went through a reconnect: %q", ann.Lines())
	}
	if l := ann.Lines(); !strings.HasSuffix(findLine(l, "arrived from A with your state"), ", 1 recent line") {
		t.Errorf("ann's state did not come along: %q", l)
	}
	ann.Send("hi B")
	carl.Expect("<ann> hi B")
	bob.Send("/who")
	bob.Expect("*** online (1): bob")

	// A ticket opens once; a forged one never. Refused, the client says
	// why (and then joins B plainly, as any client would).
	ticket := strings.TrimSuffix(moving[strings.Index(moving, "(ticket ")+len("(ticket "):], ")")
	for _, c := range []struct{ ticket, why string }{
		{ticket, "handoff ticket already used: a ticket opens once"},
		{"0123456789abcdef0123456789abcdef", "handoff ticket unknown"},
	} {
		eve := startTerm(t, addrB, "eve", "-ticket", c.ticket)
		eve.Expect("!!! cannot connect to " + addrB + ": the server refused the connection: " + c.why)
		eve.Send("/quit")
		eve.Wait()
	}
	if carl.Count("*** eve arrived") != 0 {
		t.Errorf("a refused ticket arrived: %q", carl.Lines())
	}

	for _, p := range []*proctest.Proc{ann, bob, carl} {
		p.Send("/quit")
		p.Wait()
	}
	for _, s := range []*proctest.Proc{srvA, srvB} {
		s.Signal(syscall.SIGTERM)
		s.Wait()
	}
}

// findLine is the first of lines that contains s, or "".
func findLine(lines []string, s string) string {
	for _, l := range lines {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

// freeAddr is a free TCP address on 127.0.0.1, for a server to listen on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
