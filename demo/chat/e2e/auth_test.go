package e2e

import (
	"strings"
	"syscall"
	"testing"

	"github.com/gonetic/gonetic/demo/internal/proctest"
)

// TestAuth runs a server with -auth and terminal clients, each its own
// process: one that logs in and chats over a sealed connection, one without -login that is
// refused saying why, and one that logs in as bob but asks to be ann.
func TestAuth(t *testing.T) {
	srv := proctest.Start(t, "server", programs.Build(t, "server"), "-addr", "127.0.0.1:0", "-auth", "-login", "127.0.0.1:0", "-password", "sesame")
	login := strings.TrimPrefix(srv.Expect("login endpoint: http://"), "login endpoint: ")
	line := srv.Expect("chat server listening on ")
	addr, _, _ := strings.Cut(strings.TrimPrefix(line, "chat server listening on "), " ")

	ann := startTerm(t, addr, "ann", "-login", login, "-password", "sesame")
	ann.Expect("*** connected to " + addr + ", sealed: encrypted and authenticated")
	ann.Expect("*** joined as ann; online (1): ann")

	anon := startTerm(t, addr, "eve")
	anon.Expect("!!! cannot connect to " + addr + ": the server refused the connection: a connect token is required (net.WithToken)")
	anon.Send("/quit")
	anon.Wait()

	wrong := startTerm(t, addr, "eve", "-login", login, "-password", "guess")
	wrong.Expect("!!! cannot connect to " + addr + ": login refused: wrong password")
	wrong.Send("/quit")
	wrong.Wait()

	// bob's token names bob; /nick cannot change it.
	bob := startTerm(t, addr, "bob", "-login", login, "-password", "sesame")
	bob.Expect("*** connected to " + addr + ", sealed: encrypted and authenticated")
	bob.Expect("*** joined as bob; online (2): ann, bob")
	bob.Send("/nick ann2")
	bob.Expect("!!! nickname refused: your nickname is the one you logged in with, bob; you are still bob")
	bob.Send("hi ann")
	ann.Expect("<bob> hi ann")

	for _, p := range []*proctest.Proc{ann, bob} {
		p.Send("/quit")
		p.Wait()
	}
	srv.Signal(syscall.SIGTERM)
	srv.Wait()
}
