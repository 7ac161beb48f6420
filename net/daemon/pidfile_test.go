package daemon_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gonetic/gonetic/net/daemon"
)

func TestPIDFileFresh(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.pid")
	pf, err := daemon.AcquirePIDFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if pf.Path() != path {
		t.Fatalf("Path() = %q", pf.Path())
	}
	if pid, reason := pf.Stale(); pid != 0 || reason != "" {
		t.Fatalf("Stale() = %d, %q for a fresh file", pid, reason)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != fmt.Sprintf("%d\n", os.Getpid()) {
		t.Fatalf("pidfile holds %q, %v", b, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("pidfile mode %v, %v; want 0644", fi.Mode(), err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("the directory holds %d entries, want only the pidfile", len(entries))
	}
	if err := pf.Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("after Release: %v", err)
	}
	if err := pf.Release(); err != nil {
		t.Fatalf("second Release: %v", err)
	}
}

// TestPIDFileStale replaces files that name no live process of ours.
func TestPIDFileStale(t *testing.T) {
	for _, tc := range []struct {
		content string
		pid     int
		reason  string
	}{
		{"", 0, `it holds no process id but ""`},
		{"garbage\n", 0, `it holds no process id but "garbage\n"`},
		{"-3\n", 0, `it holds no process id but "-3\n"`},
		{fmt.Sprintf("%d\n", os.Getpid()), os.Getpid(), "it holds this process's own id, left by an earlier run"},
		{fmt.Sprintf("%d", os.Getpid()), os.Getpid(), "it holds this process's own id, left by an earlier run"},
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, "x.pid")
		os.WriteFile(path, []byte(tc.content), 0o644)
		pf, err := daemon.AcquirePIDFile(path)
		if err != nil {
			t.Fatalf("%q: %v", tc.content, err)
		}
		if pid, reason := pf.Stale(); pid != tc.pid || reason != tc.reason {
			t.Errorf("%q: Stale() = %d, %q; want %d, %q", tc.content, pid, reason, tc.pid, tc.reason)
		}
		if b, _ := os.ReadFile(path); string(b) != fmt.Sprintf("%d\n", os.Getpid()) {
			t.Errorf("%q: pidfile now holds %q", tc.content, b)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Errorf("%q: the directory holds %d entries, want only the pidfile", tc.content, len(entries))
		}
		if err := pf.Release(); err != nil {
			t.Error(err)
		}
	}
}

// TestPIDFileReplaced: Release leaves alone a pidfile that another process
// has taken over.
func TestPIDFileReplaced(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.pid")
	pf, err := daemon.AcquirePIDFile(path)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, []byte("1\n"), 0o644)
	if err := pf.Release(); err == nil || !strings.Contains(err.Error(), "left in place") {
		t.Fatalf("Release: %v, want an error", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "1\n" {
		t.Fatalf("pidfile holds %q", b)
	}
}

func TestPIDFileErrors(t *testing.T) {
	if _, err := daemon.AcquirePIDFile(""); err == nil || err.Error() != "daemon: empty pidfile path" {
		t.Errorf("an empty path: %v, want the error that says so", err)
	}
	if _, err := daemon.AcquirePIDFile(filepath.Join(t.TempDir(), "missing", "x.pid")); err == nil {
		t.Error("a pidfile in a missing directory succeeded")
	}
}
