package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/gonetic/gonetic/adapters/enet"
)

// The driver runs this test binary as its Go receiver and sender.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 {
		if role, ok := roles[os.Args[1]]; ok {
			os.Exit(role(os.Args[2:]))
		}
	}
	os.Exit(m.Run())
}

// A short run of each implementation through a relay that duplicates and
// reorders delivers, in order, and reports it. Not loss: one early loss
// stalls ENet's in-order delivery for its first 500 ms resend timeout, as
// long as the run.
func TestShortRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs processes for seconds")
	}
	if _, err := enet.New(nil); err != nil {
		t.Skip(err)
	}
	args := []string{"-sim", "lag=2ms,dup=10%,reorder=10%", "-d", "1s", "-warmup", "200ms", "-r", "1", "-impl", "go,go-net"}
	cbin := filepath.Join(t.TempDir(), "goodput_c")
	if out, err := exec.Command("cc", "-O2", "-o", cbin, "../../internal/bench/c/goodput.c", "-lenet").CombinedOutput(); err != nil {
		t.Logf("no C run: %v: %s", err, out)
	} else {
		args = append(args[:len(args)-1], "c,go,go-net", "-c", cbin)
	}
	if code := driverMain(args); code != 0 {
		t.Fatalf("goodput %v: exit %d", args, code)
	}
}
