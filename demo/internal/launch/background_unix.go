//go:build unix && !linux

package launch

import "syscall"

// background keeps a child out of the terminal's process group: Ctrl-C is
// for the client; the launcher stops the rest in order.
func background() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
