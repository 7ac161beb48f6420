package e2e

import (
	"os"
	"strings"
	"testing"

	"github.com/gonetic/gonetic/demo/internal/proctest"
)

// programs are demo/arena's programs ("arena": the launcher), built once.
var programs = &proctest.Programs{Pkg: "github.com/gonetic/gonetic/demo/arena"}

func TestMain(m *testing.M) { os.Exit(programs.Run(m)) }

// startServer starts an arena server and returns it with its address.
func startServer(t *testing.T, args ...string) (*proctest.Proc, string) {
	t.Helper()
	srv := proctest.Start(t, "server", programs.Build(t, "server"), append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	line := srv.Expect("arena server listening on ")
	addr, _, _ := strings.Cut(strings.TrimPrefix(line, "arena server listening on "), " ")
	return srv, addr
}
