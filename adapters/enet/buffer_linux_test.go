//go:build cgo && linux

package enet

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/gonetic/gonetic/net/transport"
)

// A listener's socket buffers are as large as the system allows up to
// 4 MiB, not ENet's 256 KiB: a datagram from each of 1,000 clients per
// tick must fit while the host's goroutine waits for a CPU.
func TestListenerSocketBuffers(t *testing.T) {
	srv := listen(t, newTransport(t, nil), transport.Config{}, nil)
	fd := srv.ln.(*listener).h.socketFD()
	for _, c := range []struct {
		opt  int
		proc string
	}{{syscall.SO_RCVBUF, "rmem_max"}, {syscall.SO_SNDBUF, "wmem_max"}} {
		b, err := os.ReadFile("/proc/sys/net/core/" + c.proc)
		if err != nil {
			t.Fatal(err)
		}
		most, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		got, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, c.opt)
		if err != nil {
			t.Fatal(err)
		}
		// Linux reports twice what was set, for its bookkeeping.
		if want := 2 * min(4<<20, most); got < want {
			t.Errorf("%s: the socket has %d bytes, want %d (the system allows %d)", c.proc, got, want, most)
		}
	}
}
