package cpuprofile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestStart(t *testing.T) {
	stop, err := Start("")
	if err != nil {
		t.Fatal(err)
	}
	stop()
	name := filepath.Join(t.TempDir(), "cpu.pprof")
	stop, err = Start(name)
	if err != nil {
		t.Fatal(err)
	}
	stop()
	if fi, err := os.Stat(name); err != nil || fi.Size() == 0 {
		t.Fatalf("the profile: %v, %v", fi, err)
	}
	if _, err := Start(filepath.Join(t.TempDir(), "no", "such", "dir")); err == nil {
		t.Error("Start into a missing directory: no error")
	}
}
