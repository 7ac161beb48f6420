//go:build unix

package daemon

import (
	"errors"
	"syscall"
)

// alive reports whether a process with this id exists; one that exists
// but belongs to another user counts.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
