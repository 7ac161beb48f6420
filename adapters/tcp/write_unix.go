//go:build unix

package tcp

import (
	"errors"
	"os"
	"syscall"
)

// writeNonblocking writes what of b the kernel takes at once, without
// waiting for room: n < len(b) with a nil error means its send buffer is
// full.
func writeNonblocking(c syscall.RawConn, b []byte) (n int, err error) {
	var errno error
	err = c.Write(func(fd uintptr) bool {
		for n < len(b) {
			m, e := syscall.Write(int(fd), b[n:])
			if e == syscall.EINTR {
				continue
			}
			if e != nil {
				if e != syscall.EAGAIN {
					errno = e
				}
				break
			}
			if m <= 0 {
				break
			}
			n += m
		}
		return true // never wait: what is left is the writer goroutine's
	})
	if errno != nil {
		return n, os.NewSyscallError("write", errno)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return n, nil // the writer's deadline: it takes the batch
	}
	return n, err
}
