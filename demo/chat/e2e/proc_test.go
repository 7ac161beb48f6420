package e2e

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gonetic/gonetic/demo/internal/proctest"
)

// programs are demo/chat's programs ("chat": the launcher), built once.
var programs = &proctest.Programs{Pkg: "github.com/gonetic/gonetic/demo/chat"}

func TestMain(m *testing.M) { os.Exit(programs.Run(m)) }

// waitRTT sends /status until the status line, which starts with prefix,
// shows a round trip ("; rtt 0.21 ms": Conn.Stats().RTT, from gonetic's
// keepalive pings, the chat protocol having no ping), and returns
// it. Until the first keepalive pong the line says "; rtt measuring".
func waitRTT(t *testing.T, p *proctest.Proc, prefix string) string {
	t.Helper()
	end := time.Now().Add(proctest.Deadline)
	for {
		p.Send("/status")
		line := p.Expect(prefix)
		m := rttRE.FindStringSubmatch(line)
		switch {
		case m == nil:
			t.Fatalf("%s: status line %q shows no round trip", p.Name(), line)
		case m[1] != "measuring":
			return line
		case time.Now().After(end):
			t.Fatalf("%s: no round trip measured within %v: %q", p.Name(), proctest.Deadline, line)
		}
	}
}

// rttRE matches the round trip at the end of a status line.
var rttRE = regexp.MustCompile(`rtt (measuring|\d+\.\d\d ms)$`)

// startServer starts a chat server and returns it with its address.
func startServer(t *testing.T, args ...string) (*proctest.Proc, string) {
	t.Helper()
	srv := proctest.Start(t, "server", programs.Build(t, "server"), append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	line := srv.Expect("chat server listening on ")
	addr, _, _ := strings.Cut(strings.TrimPrefix(line, "chat server listening on "), " ")
	return srv, addr
}

// startTerm starts a terminal client.
func startTerm(t *testing.T, addr, nick string, args ...string) *proctest.Proc {
	t.Helper()
	return proctest.Start(t, nick, programs.Build(t, "term"), append([]string{"-addr", addr, "-nick", nick}, args...)...)
}
