//go:build unix

package launch

import (
	"os"
	"testing"
)

// TestLineWatch: the line is found across writes, once, and only whole.
func TestLineWatch(t *testing.T) {
	w := &lineWatch{prefix: "listening on ", found: make(chan string, 1)}
	for _, s := range []string{"starting\nchat server list", "ening on 127.0.0.1:7", "777 (tcp)", "\nlistening on again\n"} {
		if _, err := w.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if got := <-w.found; got != "127.0.0.1:7777 (tcp)" {
		t.Errorf("found %q", got)
	}
	select {
	case got := <-w.found:
		t.Errorf("found a second line %q", got)
	default:
	}
}

// TestClose: the programs go, and the directory too unless a program
// left a log there.
func TestClose(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	for _, keep := range []bool{false, true} {
		d := &Demo{Name: "test"}
		if err := d.Open("tcp"); err != nil {
			t.Fatal(err)
		}
		d.built = []string{"server"}
		for _, f := range []string{"server", "server.log"} {
			if err := os.WriteFile(d.Path(f), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if keep {
			d.logs = []string{"server.log"}
		}
		d.Close()
		if _, err := os.Stat(d.Path("server")); !os.IsNotExist(err) {
			t.Errorf("keep=%v: the program is still there (%v)", keep, err)
		}
		if _, err := os.Stat(d.Path("server.log")); (err == nil) != keep {
			t.Errorf("keep=%v: the log: %v", keep, err)
		}
	}
}

func TestLastLines(t *testing.T) {
	if got := lastLines([]byte("a\nb\nc\nd\n"), 2); got != "  c\n  d" {
		t.Errorf("lastLines = %q", got)
	}
}
