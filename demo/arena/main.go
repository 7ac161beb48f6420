//go:build unix

// Command arena is the gonetic arena demo's launcher, the README's third
// command:
//
//	go run ./demo/arena
//
// It builds the arena programs, starts a local server with bots (-bots,
// default 8), then a client: the Ebiten window when there is a display
// ($DISPLAY or $WAYLAND_DISPLAY) and the window client builds, the
// headless client otherwise (the bot AI plays it and it prints what the
// window's HUD would show, once a second). It says which one it chose and
// why. On Debian, when the window client's packages are missing, it
// installs them if it runs as root and otherwise says which to install.
// When the client exits, the launcher stops the server; it exits with
// status 0 when stopped by SIGINT (Ctrl-C) or SIGTERM.
//
// Flags: -client auto|window|headless, -transport tcp|enet, -name NAME,
// -bots N, -everyone (interest management off), -addr HOST:PORT (the
// server's; port 0 picks a free one), -sim SPEC (a simulated network,
// "lag=50ms,loss=2%": the server plays under it, so the client feels it
// both ways; loss needs ENet, which -sim picks unless -transport says
// otherwise). Arguments after "--" go to the client:
//
//	go run ./demo/arena -- -bot
//
// It runs on Linux and the BSDs (macOS included); elsewhere, start the
// server and a client by hand.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gonetic/gonetic/adapters/sim"
	"github.com/gonetic/gonetic/adapters/tcp"
)

// windowPackages are the Debian packages the window client needs to build
// and run: a C compiler, and the X11 and OpenGL headers GLFW compiles
// against (Ebiten's Linux requirements, without ALSA: the arena makes no
// sound).
var windowPackages = []string{
	"gcc", "libc6-dev", "pkg-config", "libgl1-mesa-dev", "libxcursor-dev", "libxi-dev",
	"libxinerama-dev", "libxrandr-dev", "libxxf86vm-dev",
}

// enetPackages are what -transport enet needs (cgo and libenet).
var enetPackages = []string{"gcc", "libc6-dev", "libenet-dev"}

const pkgPath = "github.com/gonetic/gonetic/demo/arena/"

type options struct {
	client, transport, name, addr string
	sim                           string
	bots                          int
	everyone                      bool
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	var o options
	fs := flag.NewFlagSet("arena", flag.ContinueOnError)
	fs.StringVar(&o.client, "client", "auto", "which client: auto (window if there is a display), window or headless")
	fs.StringVar(&o.transport, "transport", "tcp", "network adapter: tcp or enet")
	fs.StringVar(&o.name, "name", "", "your player's name (default: $USER)")
	fs.StringVar(&o.addr, "addr", "127.0.0.1:0", "the server's address (port 0 picks a free one)")
	fs.IntVar(&o.bots, "bots", 8, "server-side bots to play with")
	fs.BoolVar(&o.everyone, "everyone", false, "interest management off: the server sends every player to every client")
	fs.StringVar(&o.sim, "sim", "", "play over a simulated network, e.g. lag=75ms,jitter=10ms,loss=5% (keys in adapters/sim.Parse): "+
		"the server's transport is put under it, so every client feels it both ways; loss, dup, reorder and mtu pick -transport enet")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	transportSet := false
	fs.Visit(func(f *flag.Flag) { transportSet = transportSet || f.Name == "transport" })
	if err := checkSim(&o, transportSet); err != nil {
		say("%v", err)
		return 2
	}
	switch o.client {
	case "auto", "window", "headless":
	default:
		say("-client must be auto, window or headless, not %q", o.client)
		return 2
	}

	// The terminal's Ctrl-C reaches the client, which quits; the launcher
	// then stops the rest in order and exits quietly with status 0: being
	// asked to stop is not a failure (and make would print "Error 1").
	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	code := launch(ctx, o, fs.Args())
	if ctx.Err() != nil {
		return 0
	}
	return code
}

// launch builds the programs, starts the server (with its bots), and runs a
// client until it exits or ctx is done (SIGINT, SIGTERM). It returns the
// exit status.
func launch(ctx context.Context, o options, clientArgs []string) int {
	// The programs are removed at the end; the logs stay, since the
	// launcher prints where they are.
	dir, err := os.MkdirTemp("", "gonetic-arena-")
	if err != nil {
		say("%v", err)
		return 1
	}
	var logs []string
	defer func() {
		for _, p := range []string{"server", "headless", "window"} {
			_ = os.Remove(filepath.Join(dir, p))
		}
		if len(logs) > 0 {
			say("the logs stay in %s (%s)", dir, strings.Join(logs, ", "))
		} else {
			_ = os.RemoveAll(dir)
		}
	}()

	tags, err := enetTags(o.transport)
	if err != nil {
		say("%v", err)
		return 1
	}
	say("building the server and the headless client…")
	if out, err := build(dir, tags, "server", "headless"); err != nil {
		if ctx.Err() == nil { // not Ctrl-C during the build
			say("build failed:\n%s", out)
		}
		return 1
	}
	window, why := chooseWindow(o, dir, tags)
	if ctx.Err() != nil {
		return 0
	}
	if window != "" {
		say("display found (%s) and the window client builds: starting the window client", displayName())
	} else {
		say("%s: starting the headless client (the bot AI plays it; it prints what the window's HUD shows)", why)
	}

	server, addr, err := startServer(dir, o)
	if err != nil {
		say("%v", err)
		return 1
	}
	defer stop(server, "server")
	logs = append(logs, "server.log")
	say("server listening on %s (%s, %d bots); its log is in %s", addr, o.transport, o.bots, filepath.Join(dir, "server.log"))

	common := []string{"-addr", addr, "-transport", o.transport}
	if o.name != "" {
		common = append(common, "-name", o.name)
	}
	common = append(common, clientArgs...)
	if window != "" {
		err := runClient(ctx, window, common, 5*time.Second)
		var early *earlyExit
		if !errors.As(err, &early) {
			return exitCode(err)
		}
		say("the window client failed at start (%v): starting the headless client", early.err)
	}
	return exitCode(runClient(ctx, filepath.Join(dir, "headless"), common, 0))
}

// checkSim checks -sim before anything is built, and picks ENet for the
// conditions only datagrams can have (a TCP stream never loses bytes),
// unless -transport was given.
func checkSim(o *options, transportSet bool) error {
	if o.sim == "" {
		return nil
	}
	cfg, err := sim.Parse(o.sim)
	if err != nil {
		return fmt.Errorf("-sim: %w", err)
	}
	s, err := sim.New(cfg)
	if err != nil {
		return fmt.Errorf("-sim: %w", err)
	}
	if o.transport != "tcp" {
		return nil
	}
	if _, err := s.Wrap(tcp.New(tcp.Options{})); err != nil {
		if transportSet {
			return fmt.Errorf("-sim with -transport tcp: %w", err)
		}
		o.transport = "enet"
		say("-sim %s: a TCP stream never loses, duplicates or reorders bytes, so the demo runs over ENet (-transport enet)", o.sim)
	}
	return nil
}

// say prints one line of the launcher's own.
func say(format string, args ...any) {
	fmt.Printf("arena: "+format+"\n", args...)
}

// enetTags returns the build tags: ENet is left out when the transport is
// TCP and libenet is not installed; with -transport enet it is required.
func enetTags(transport string) ([]string, error) {
	if haveENet() {
		return nil, nil
	}
	if transport != "enet" {
		say("building without ENet (libenet-dev is not installed; -transport tcp does not need it)")
		return []string{"-tags", "noenet"}, nil
	}
	if err := aptInstall(enetPackages); err != nil {
		return nil, fmt.Errorf("-transport enet needs cgo and libenet: %v", err)
	}
	return nil, nil
}

func haveENet() bool {
	for _, d := range []string{"/usr/include", "/usr/local/include"} {
		if _, err := os.Stat(filepath.Join(d, "enet", "enet.h")); err == nil {
			return true
		}
	}
	return false
}

// chooseWindow returns the built window client, or why not.
func chooseWindow(o options, dir string, tags []string) (path, why string) {
	if o.client == "headless" {
		return "", "-client headless"
	}
	if displayName() == "" && o.client == "auto" {
		return "", "no display ($DISPLAY and $WAYLAND_DISPLAY are empty)"
	}
	if missing := missingPackages(windowPackages); len(missing) > 0 {
		if err := aptInstall(missing); err != nil {
			return "", fmt.Sprintf("the window client needs %s (%v)", strings.Join(missing, " "), err)
		}
	}
	say("building the window client (the first build takes a minute or two)…")
	if out, err := build(dir, tags, "window"); err != nil {
		return "", "the window client does not build here:\n" + lastLines(out, 5) + "\n"
	}
	return filepath.Join(dir, "window"), ""
}

func displayName() string {
	if d := os.Getenv("DISPLAY"); d != "" {
		return "DISPLAY=" + d
	}
	if d := os.Getenv("WAYLAND_DISPLAY"); d != "" {
		return "WAYLAND_DISPLAY=" + d
	}
	return ""
}

// missingPackages lists the Debian packages of pkgs that are not
// installed; none on systems without dpkg, where the build decides.
func missingPackages(pkgs []string) []string {
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		return nil
	}
	var missing []string
	for _, p := range pkgs {
		out, err := exec.Command("dpkg-query", "-W", "-f=${Status}", p).Output()
		if err != nil || !strings.Contains(string(out), "install ok installed") {
			missing = append(missing, p)
		}
	}
	return missing
}

// aptInstall installs Debian packages when the launcher runs as root.
func aptInstall(pkgs []string) error {
	if len(pkgs) == 0 {
		return nil
	}
	cmdline := "apt-get install " + strings.Join(pkgs, " ")
	if _, err := exec.LookPath("apt-get"); err != nil {
		return fmt.Errorf("install %s with your package manager", strings.Join(pkgs, " "))
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("not root, so not installing them: run sudo %s", cmdline)
	}
	say("installing %s…", strings.Join(pkgs, " "))
	for _, args := range [][]string{{"update"}, append([]string{"install", "-y", "--no-install-recommends"}, pkgs...)} {
		cmd := exec.Command("apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s failed: %v", cmdline, err)
		}
	}
	return nil
}

// build builds the named programs of demo/arena into dir.
func build(dir string, tags []string, names ...string) ([]byte, error) {
	args := append([]string{"build", "-o", dir + string(filepath.Separator)}, tags...)
	for _, n := range names {
		args = append(args, pkgPath+n)
	}
	return exec.Command("go", args...).CombinedOutput()
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "  " + strings.Join(lines, "\n  ")
}

// process is a program the launcher started; done is closed once it has
// exited and its output is all written (exec.Cmd.Wait returned).
type process struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// startProcess starts cmd and waits for it on a goroutine of its own.
func startProcess(cmd *exec.Cmd) (*process, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	return p, nil
}

// startServer starts the server in its own process group (the terminal's
// Ctrl-C is for the client) and waits for its "listening on" line. Its
// output goes to server.log through exec's own copying, which Wait lets
// finish, so that the last line ("arena server stopped") is never lost.
func startServer(dir string, o options) (*process, string, error) {
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, "", err
	}
	args := []string{"-addr", o.addr, "-transport", o.transport, "-bots", fmt.Sprint(o.bots)}
	if o.everyone {
		args = append(args, "-everyone")
	}
	if o.sim != "" {
		args = append(args, "-sim", o.sim)
	}
	cmd := exec.Command(filepath.Join(dir, "server"), args...)
	listening := &lineWatch{prefix: "listening on ", found: make(chan string, 1)}
	// The server says which conditions it plays under before it listens.
	simulating := &lineWatch{prefix: "network simulator: ", found: make(chan string, 1)}
	cmd.Stdout, cmd.Stderr = io.MultiWriter(logf, simulating, listening), logf
	cmd.SysProcAttr = background()
	p, err := startProcess(cmd)
	if err != nil {
		return nil, "", err
	}
	select {
	case rest := <-listening.found:
		addr, _, _ := strings.Cut(rest, " ")
		select {
		case conditions := <-simulating.found:
			say("the server plays under a simulated network, which every client feels both ways: %s", conditions)
		default:
		}
		return p, addr, nil
	case <-p.done:
		log, _ := os.ReadFile(logf.Name())
		return nil, "", fmt.Errorf("the server did not start:\n%s", lastLines(log, 5))
	}
}

// lineWatch is a Writer that reports, once, the rest of the first line
// written to it that contains prefix.
type lineWatch struct {
	prefix string
	found  chan string // one slot
	line   []byte
	done   bool
}

func (w *lineWatch) Write(b []byte) (int, error) {
	for _, c := range b {
		if w.done {
			break
		}
		if c != '\n' {
			w.line = append(w.line, c)
			continue
		}
		if _, rest, ok := strings.Cut(string(w.line), w.prefix); ok {
			w.found <- rest
			w.done, w.line = true, nil
		}
		w.line = w.line[:0]
	}
	return len(b), nil
}

// stop asks a process to stop gracefully and waits for it.
func stop(p *process, name string) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		say("%s did not stop in 10s: killing it", name)
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// earlyExit is a client that failed within its start-up grace period.
type earlyExit struct{ err error }

func (e *earlyExit) Error() string { return e.err.Error() }

// runClient runs a client on the terminal until it exits. A failure
// within grace is an *earlyExit. When ctx is done the client is asked to
// stop (if the terminal's Ctrl-C has not done so already).
func runClient(ctx context.Context, path string, args []string, grace time.Duration) error {
	cmd := exec.Command(path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return &earlyExit{err}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	stopping := ctx.Done()
	for {
		select {
		case err := <-done:
			if err != nil && time.Since(start) < grace && ctx.Err() == nil {
				return &earlyExit{err}
			}
			return err
		case <-stopping:
			// The client got the terminal's Ctrl-C too; a SIGTERM sent to
			// the launcher alone is passed on.
			_ = cmd.Process.Signal(syscall.SIGTERM)
			stopping = nil
		}
	}
}

func exitCode(err error) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	say("%v", err)
	return 1
}
