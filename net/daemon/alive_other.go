//go:build !unix

package daemon

import "os"

// alive reports whether a process with this id may exist: without a way to
// probe it, any id that FindProcess accepts counts.
func alive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	p.Release()
	return true
}
