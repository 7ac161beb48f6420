package launch

import "syscall"

// background keeps a child out of the terminal's process group (Ctrl-C is
// for the client; the launcher stops the rest in order) and, should the
// launcher die, has the kernel send the child SIGTERM.
func background() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
