//go:build unix

package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestProcess runs the program as a process of its own, as a user would:
// it answers a Go client and nc, and SIGTERM stops it with exit code 0 and
// its pidfile removed.
func TestProcess(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	pidfile := filepath.Join(t.TempDir(), "echo.pid")
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), mainEnv+"=-addr 127.0.0.1:0 -pidfile "+pidfile, "GORACE=atexit_sleep_ms=0")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	defer func() {
		cmd.Process.Kill()
		if t.Failed() {
			t.Logf("the server's log:\n%s", stderr.String())
		}
	}()
	addr := listeningOn(t, stdout)
	go func() { exited <- cmd.Wait() }()

	if b, err := os.ReadFile(pidfile); err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(cmd.Process.Pid) {
		t.Fatalf("pidfile holds %q, %v; want %d", b, err, cmd.Process.Pid)
	}
	if got := exchange(t, addr, "5 hello", 0); got != "hello" {
		t.Fatalf("got %q", got)
	}
	if _, err := exec.LookPath("nc"); err == nil {
		netcat(t, addr)
	} else {
		t.Log("nc (netcat-openbsd) is not on PATH: checked with the Go client only")
	}

	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("the server exited with %v", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("the server did not stop in time")
	}
	if _, err := os.Stat(pidfile); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the pidfile is still there: %v", err)
	}
}
