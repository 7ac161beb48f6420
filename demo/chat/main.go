//go:build unix

// Command chat is the gonetic chat demo's launcher, the README's main
// command:
//
//	go run ./demo/chat
//
// It builds the chat programs, starts a local server (and two bots, so the
// room is not empty), then a client: the Ebiten window when there is a
// display ($DISPLAY or $WAYLAND_DISPLAY) and the window client builds, the
// terminal client otherwise. It says which one it chose and why. On
// Debian, when the window client's packages are missing, it installs them
// if it runs as root and otherwise says which to install and uses the
// terminal client. When the client exits, the launcher stops the bots and
// the server; it exits with status 0 when stopped by SIGINT (Ctrl-C) or
// SIGTERM. The programs it built are removed, the logs kept.
//
// Flags: -client auto|window|term, -transport tcp|enet, -codec
// msgpack|json, -nick NAME, -bots N, -addr HOST:PORT (the server's; port 0
// picks a free one), -sim SPEC (a simulated network, "lag=75ms,loss=5%":
// the server plays under it, so every client feels it both ways; loss
// needs ENet, which -sim picks unless -transport says otherwise).
// Arguments after "--" go to the client:
//
//	go run ./demo/chat -- -say "hello"
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
	client, transport, codec, nick, addr string
	sim                                  string
	bots                                 int
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	var o options
	d := &launch.Demo{Name: "chat", Pkg: "github.com/gonetic/gonetic/demo/chat"}
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	fs.StringVar(&o.client, "client", "auto", "which client: auto (window if there is a display), window or term")
	fs.StringVar(&o.transport, "transport", "tcp", "network adapter: tcp, enet or websocket")
	fs.StringVar(&o.codec, "codec", "msgpack", "serialization adapter: msgpack or json")
	fs.StringVar(&o.nick, "nick", "", "your nickname (default: $USER, or guest)")
	fs.StringVar(&o.addr, "addr", "127.0.0.1:0", "the server's address (port 0 picks a free one)")
	fs.IntVar(&o.bots, "bots", 2, "bots that chat in the room")
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
	case "auto", "window", "term":
	default:
		d.Say("-client must be auto, window or term, not %q", o.client)
		return 2
	}
	return launch.Run(func(ctx context.Context) int { return play(ctx, d, o, fs.Args()) })
}

// play builds the programs, starts the server and the bots, and runs a
// client until it exits or ctx is done (SIGINT, SIGTERM). It returns the
// exit status.
func play(ctx context.Context, d *launch.Demo, o options, clientArgs []string) int {
	defer d.Close()
	if err := d.Open(o.transport); err != nil {
		d.Say("%v", err)
		return 1
	}
	d.Say("building the server and the terminal client…")
	if out, err := d.Build("server", "term"); err != nil {
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
		d.Say("%s: starting the terminal client", why)
	}

	args := []string{"-addr", o.addr, "-transport", o.transport, "-codec", o.codec}
	if o.sim != "" {
		args = append(args, "-sim", o.sim)
	}
	server, addr, err := d.StartServer(args...)
	if err != nil {
		d.Say("%v", err)
		return 1
	}
	defer d.Stop(server, "server")
	d.Say("server listening on %s (%s, %s); its log is in %s", addr, o.transport, o.codec, d.Path("server.log"))
	if o.bots > 0 {
		bots, err := d.StartBackground("bots.log", "term", "-bots", fmt.Sprint(o.bots), "-interval", "6s",
			"-addr", addr, "-transport", o.transport, "-codec", o.codec)
		if err != nil {
			d.Say("%v", err)
			return 1
		}
		defer d.Stop(bots, "bots")
		d.Say("started %d bot(s) to chat in the room; their log is in %s", o.bots, d.Path("bots.log"))
	}

	common := []string{"-addr", addr, "-transport", o.transport, "-codec", o.codec}
	if o.nick != "" {
		common = append(common, "-nick", o.nick)
	}
	common = append(common, clientArgs...)
	return d.RunClients(ctx, window, "term", "terminal client", common)
}
