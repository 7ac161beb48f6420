//go:build unix

// Package launch is the machinery of the demos' launchers (go run
// ./demo/chat, go run ./demo/arena): it builds a demo's programs into a
// temporary directory, installs what they need on Debian when it may,
// starts the server in the background, runs a client on the terminal and
// stops everything in order. What is a demo's own (which programs, which
// flags, what it says about them) stays in its main.go.
//
// It runs on Linux and the BSDs (macOS included).
package launch

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/gonetic/gonetic/adapters/sim"
	"github.com/gonetic/gonetic/adapters/tcp"
)

// Demo is one demo's launcher. Set Name and Pkg; Open makes the directory
// the programs are built into, and Close removes it. A Demo is used by
// one goroutine.
type Demo struct {
	Name string // "chat": prefixes the launcher's lines and names its directory
	Pkg  string // the demo's import path; its programs are the directories under it

	dir   string
	tags  []string // go build's, for the transport
	built []string // programs in dir, removed by Close
	logs  []string // logs in dir of the programs started, kept by Close
}

// Run calls play with a context that SIGINT and SIGTERM cancel, and
// returns play's exit status, or 0 once a signal came. The terminal's
// Ctrl-C reaches the client too, which quits; the launcher then stops the
// rest in order and exits quietly: being asked to stop is not a failure
// (and make would print "Error 1").
func Run(play func(ctx context.Context) int) int {
	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	code := play(ctx)
	if ctx.Err() != nil {
		return 0
	}
	return code
}

// Say prints one line of the launcher's own, prefixed with the demo's name.
func (d *Demo) Say(format string, args ...any) {
	fmt.Printf(d.Name+": "+format+"\n", args...)
}

// Open makes the directory the programs are built into and their logs
// written to, and picks the build tags for the transport (see enetTags).
func (d *Demo) Open(transport string) error {
	dir, err := os.MkdirTemp("", "gonetic-"+d.Name+"-")
	if err != nil {
		return err
	}
	d.dir = dir
	d.tags, err = d.enetTags(transport)
	return err
}

// Close removes the programs and, when a program left a log, says where
// the logs stay; without logs it removes the directory. It may be
// deferred before Open is called.
func (d *Demo) Close() {
	if d.dir == "" {
		return // Open did not make it
	}
	for _, p := range d.built {
		_ = os.Remove(d.Path(p))
	}
	if len(d.logs) > 0 {
		d.Say("the logs stay in %s (%s)", d.dir, strings.Join(d.logs, ", "))
	} else {
		_ = os.RemoveAll(d.dir)
	}
}

// Path is the path of a program or log in the directory.
func (d *Demo) Path(name string) string { return filepath.Join(d.dir, name) }

// CheckSim checks the -sim flag's spec before anything is built, and
// picks ENet for the conditions only datagrams can have (a TCP stream
// never loses bytes) unless the flag set fs, parsed, has -transport.
func (d *Demo) CheckSim(fs *flag.FlagSet, spec string, transport *string) error {
	if spec == "" {
		return nil
	}
	transportSet := false
	fs.Visit(func(f *flag.Flag) { transportSet = transportSet || f.Name == "transport" })
	cfg, err := sim.Parse(spec)
	if err != nil {
		return fmt.Errorf("-sim: %w", err)
	}
	s, err := sim.New(cfg)
	if err != nil {
		return fmt.Errorf("-sim: %w", err)
	}
	if *transport != "tcp" {
		return nil
	}
	if _, err := s.Wrap(tcp.New(tcp.Options{})); err != nil {
		if transportSet {
			return fmt.Errorf("-sim with -transport tcp: %w", err)
		}
		*transport = "enet"
		d.Say("-sim %s: a TCP stream never loses, duplicates or reorders bytes, so the demo runs over ENet (-transport enet)", spec)
	}
	return nil
}
