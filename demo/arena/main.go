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
	"flag"
	"fmt"
	"os"

	"github.com/gonetic/gonetic/demo/internal/launch"
)

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
	d := &launch.Demo{Name: "arena", Pkg: "github.com/gonetic/gonetic/demo/arena"}
	fs := flag.NewFlagSet("arena", flag.ContinueOnError)
	fs.StringVar(&o.client, "client", "auto", "which client: auto (window if there is a display), window or headless")
	fs.StringVar(&o.transport, "transport", "tcp", "network adapter: tcp, enet or websocket")
	fs.StringVar(&o.name, "name", "", "your player's name (default: $USER)")
	fs.StringVar(&o.addr, "addr", "127.0.0.1:0", "the server's address (port 0 picks a free one)")
	fs.IntVar(&o.bots, "bots", 8, "server-side bots to play with")
	fs.BoolVar(&o.everyone, "everyone", false, "interest management off: the server sends every player to every client")
	fs.StringVar(&o.sim, "sim", "", "play over a simulated network, e.g. lag=75ms,jitter=10ms,loss=5% (keys in adapters/sim.Parse): "+
		"the server's transport is put under it, so every client feels it both ways; loss, dup, reorder and mtu pick -transport enet")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := d.CheckSim(fs, o.sim, &o.transport); err != nil {
		d.Say("%v", err)
		return 2
	}
	switch o.client {
	case "auto", "window", "headless":
	default:
		d.Say("-client must be auto, window or headless, not %q", o.client)
		return 2
	}
	return launch.Run(func(ctx context.Context) int { return play(ctx, d, o, fs.Args()) })
}

// play builds the programs, starts the server (with its bots), and runs a
// client until it exits or ctx is done (SIGINT, SIGTERM). It returns the
// exit status.
func play(ctx context.Context, d *launch.Demo, o options, clientArgs []string) int {
	defer d.Close()
	if err := d.Open(o.transport); err != nil {
		d.Say("%v", err)
		return 1
	}
	d.Say("building the server and the headless client…")
	if out, err := d.Build("server", "headless"); err != nil {
		if ctx.Err() == nil { // not Ctrl-C during the build
			d.Say("build failed:\n%s", out)
		}
		return 1
	}
	window, why := d.BuildWindow(o.client)
	if ctx.Err() != nil {
		return 0
	}
	if window != "" {
		d.Say("display found (%s) and the window client builds: starting the window client", launch.Display())
	} else {
		d.Say("%s: starting the headless client (the bot AI plays it; it prints what the window's HUD shows)", why)
	}

	args := []string{"-addr", o.addr, "-transport", o.transport, "-bots", fmt.Sprint(o.bots)}
	if o.everyone {
		args = append(args, "-everyone")
	}
	if o.sim != "" {
		args = append(args, "-sim", o.sim)
	}
	server, addr, err := d.StartServer(args...)
	if err != nil {
		d.Say("%v", err)
		return 1
	}
	defer d.Stop(server, "server")
	d.Say("server listening on %s (%s, %d bots); its log is in %s", addr, o.transport, o.bots, d.Path("server.log"))

	common := []string{"-addr", addr, "-transport", o.transport}
	if o.name != "" {
		common = append(common, "-name", o.name)
	}
	common = append(common, clientArgs...)
	return d.RunClients(ctx, window, "headless", "headless client", common)
}
