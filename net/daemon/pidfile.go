package daemon

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// AlreadyRunningError is the error AcquirePIDFile, and so Run, returns when
// the pidfile names a live process that looks like this program.
type AlreadyRunningError struct {
	Path string // the pidfile
	PID  int    // the process it names
}

func (e *AlreadyRunningError) Error() string {
	return fmt.Sprintf("daemon: pidfile %s names process %d, which is running: stop it first, or remove the file if it is not this program", e.Path, e.PID)
}

// PIDFile is a pidfile held by this process: a file holding its process
// id in decimal and a newline. AcquirePIDFile creates it; Release removes
// it.
type PIDFile struct {
	path        string
	pid         int
	stalePID    int
	staleReason string

	once sync.Once
	err  error // from Release; set once
}

// AcquirePIDFile writes this process's id to the file at path, atomically
// (a reader sees the whole file or none), and returns it held.
//
// An existing file is replaced when it is stale: it holds no pid, or the
// pid of this very process (left by an earlier run in a container, where
// pids repeat), or of no running process, or of a process that is not
// this program (a reused pid: where /proc/PID/cmdline exists, the base name
// of its first argument differs from this executable's). Otherwise it
// fails with an *AlreadyRunningError naming the pid.
//
// Two processes that find the same stale file in the same instant may both
// replace it; pidfiles cannot prevent that, so start one instance at a time.
// Safe to call from any goroutine.
func AcquirePIDFile(path string) (*PIDFile, error) {
	if path == "" {
		return nil, errors.New("daemon: empty pidfile path")
	}
	p := &PIDFile{path: path, pid: os.Getpid()}
	// A file created between our read and our write sends us round again.
	for range 3 {
		old, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			err = p.write(true)
			if errors.Is(err, fs.ErrExist) {
				continue
			}
			if err != nil {
				return nil, err
			}
			return p, nil
		}
		if err != nil {
			return nil, fmt.Errorf("daemon: reading pidfile: %w", err)
		}
		pid, reason := staleness(old, p.pid)
		if reason == "" {
			return nil, &AlreadyRunningError{Path: path, PID: pid}
		}
		if err := p.write(false); err != nil {
			return nil, err
		}
		p.stalePID, p.staleReason = pid, reason
		return p, nil
	}
	return nil, fmt.Errorf("daemon: pidfile %s keeps reappearing: another instance is starting", path)
}

// Path is the pidfile's path.
func (p *PIDFile) Path() string { return p.path }

// Stale reports the stale file that AcquirePIDFile replaced: the pid it
// named (0 if it named none) and why it was judged stale; reason is ""
// when there was no file to replace.
func (p *PIDFile) Stale() (pid int, reason string) { return p.stalePID, p.staleReason }

// Release removes the pidfile if it still holds this process's id, and
// fails, leaving the file alone, if another process has replaced it. Safe
// to call from any goroutine; idempotent.
func (p *PIDFile) Release() error {
	p.once.Do(func() {
		b, err := os.ReadFile(p.path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			p.err = fmt.Errorf("daemon: pidfile %s was removed by someone else", p.path)
		case err != nil:
			p.err = fmt.Errorf("daemon: reading pidfile: %w", err)
		case string(b) != pidLine(p.pid):
			p.err = fmt.Errorf("daemon: pidfile %s now holds %q, not this process's id %d; left in place", p.path, bytes.TrimSpace(b), p.pid)
		default:
			if err := os.Remove(p.path); err != nil {
				p.err = fmt.Errorf("daemon: removing pidfile: %w", err)
			}
		}
	})
	return p.err
}

func pidLine(pid int) string { return strconv.Itoa(pid) + "\n" }

// write puts the pid in a temporary file beside the pidfile, then moves it
// into place: with a hard link, which fails if the pidfile exists, when
// exclusive; with a rename, which replaces it, otherwise.
func (p *PIDFile) write(exclusive bool) error {
	f, err := os.CreateTemp(filepath.Dir(p.path), "."+filepath.Base(p.path)+".*")
	if err != nil {
		return fmt.Errorf("daemon: writing pidfile: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a link, or if anything failed
	_, err = f.WriteString(pidLine(p.pid))
	if err == nil {
		err = f.Chmod(0o644) // CreateTemp makes it 0600; let monitors read it
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("daemon: writing pidfile: %w", err)
	}
	if exclusive {
		err = os.Link(tmp, p.path)
		if err == nil || errors.Is(err, fs.ErrExist) {
			return err
		}
		// A file system without hard links: fall back to the rename.
	}
	if err := os.Rename(tmp, p.path); err != nil {
		return fmt.Errorf("daemon: writing pidfile: %w", err)
	}
	return nil
}

// staleness reads the pid in a pidfile's content and says why the file is
// stale, or "" if the pid is that of a live process that looks like us.
func staleness(content []byte, self int) (pid int, reason string) {
	pid, err := strconv.Atoi(string(bytes.TrimSpace(content)))
	switch {
	case err != nil || pid <= 0:
		return 0, fmt.Sprintf("it holds no process id but %.20q", content)
	case pid == self:
		return pid, "it holds this process's own id, left by an earlier run"
	case !alive(pid):
		return pid, fmt.Sprintf("no process %d is running", pid)
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return pid, "" // no /proc: a live pid must be taken for ours
	}
	arg0, _, _ := bytes.Cut(cmdline, []byte{0})
	if len(arg0) == 0 {
		return pid, fmt.Sprintf("process %d has exited (a zombie) or is a kernel thread", pid)
	}
	name := filepath.Base(string(arg0))
	if name != filepath.Base(os.Args[0]) {
		if exe, err := os.Executable(); err != nil || name != filepath.Base(exe) {
			return pid, fmt.Sprintf("process %d is now %q, not this program", pid, name)
		}
	}
	return pid, ""
}
