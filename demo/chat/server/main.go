// Command server is the gonetic chat server: a daemon that relays chat
// between clients, keeps the list of users online, announces joins and
// leaves, and refuses a nickname already taken, saying why.
//
//	go run ./demo/chat/server -addr 127.0.0.1:7777 -transport tcp -codec msgpack
//
// With -sim "lag=75ms,loss=5%" it plays over a simulated network (package
// adapters/sim), which every client feels both ways; it says so first:
// "network simulator: lag=75ms,loss=5% (seed 123)", and what it did when
// it stops: "network simulator: up 1200 packets, 61 lost; down …".
//
// With -http ADDR it also serves the chat in the browser: a page at
// http://ADDR/ that runs the window client built for WebAssembly, and the
// WebSocket endpoint ws://ADDR/ws it connects to, a second listener of the
// same server, so browser users and native users share one room. The
// client is built at start (GOOS=js GOARCH=wasm go build, into the user's
// cache directory; it says so), unless -web DIR names a prebuilt one. It
// prints "browser chat: open http://ADDR/" once the page is served.
//
//	go run ./demo/chat/server -http 127.0.0.1:8080
//
// With -auth only players who logged in may connect: the server also
// serves a login endpoint, http://LOGIN/login (-login LOGIN, default
// 127.0.0.1:7778), that gives a connect token (package token) for a
// nickname, and the password -password if one is set; it prints "login
// endpoint: http://LOGIN/login". A client connects with its token and
// joins under the token's nickname, whatever it asks for, and all its
// traffic is sealed, encrypted and authenticated (net.ServerConfig.Tokens;
// the client says "connected to ADDR, sealed: …"):
//
//	go run ./demo/chat/server -auth
//	go run ./demo/chat/term -login http://127.0.0.1:7778 -nick ann
//
// The token key is made fresh at each start (tokens live 30 s, and
// clients fetch a new one before each connection). The tokens name the
// server by its -addr as given, one name for all its listeners. With -http too, the
// page's address serves /login as well, and the URL printed carries it
// for the browser client ("?login=http://ADDR/login"; add "&nick=ann").
//
// With -node NAME it links to the other chat servers (over NATS: an
// embedded nats-server that meets the others of the machine on -seed,
// or -nats URL), and players move between them: "/move B" sends the
// player's state to server B as a flow, B keeps it under a one-time
// ticket and says where it takes players, and the client reconnects
// there with the ticket and arrives with its nickname. It prints
// "linked to chat server B" as the others appear.
//
//	go run ./demo/chat/server -addr 127.0.0.1:7777 -node A
//	go run ./demo/chat/server -addr 127.0.0.1:7779 -node B
//
// It runs under package net/daemon: it prints "chat server listening on
// ADDR (TRANSPORT, CODEC)" once it accepts connections, logs joins and
// leaves to stderr, writes a pidfile with -pidfile, and stops gracefully on
// SIGINT or SIGTERM: every client is told "server shutting down" before
// the connections close (within -stop-timeout).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gonetic/gonetic/demo/chat/chat"
	"github.com/gonetic/gonetic/demo/internal/transports"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/daemon"
	"github.com/gonetic/gonetic/node"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// options are the server's flags.
type options struct {
	addr, transport, codec string
	http, web              string
	sim                    string
	pidfile                string
	maxUsers               int
	stopTimeout            time.Duration
	verbose                bool
	auth                   bool
	login, password        string
	node, nats, seed       string
}

func run(args []string) int {
	var o options
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.StringVar(&o.addr, "addr", chat.DefaultAddr, "address to listen on, host:port (port 0 picks a free one)")
	fs.StringVar(&o.transport, "transport", "tcp", transports.Usage)
	fs.StringVar(&o.codec, "codec", "msgpack", "serialization adapter: msgpack or json (clients must match)")
	fs.StringVar(&o.http, "http", "", "also serve the chat in the browser on this address, host:port: the page and its WebSocket endpoint /ws")
	fs.StringVar(&o.web, "web", "", "with -http: serve the browser client from this directory (chat.wasm, wasm_exec.js) instead of building it at start")
	fs.StringVar(&o.sim, "sim", "", transports.SimUsage)
	fs.IntVar(&o.maxUsers, "max-users", 256, "most connections at once")
	fs.StringVar(&o.pidfile, "pidfile", "", "write the process id to this file while running")
	fs.DurationVar(&o.stopTimeout, "stop-timeout", 5*time.Second, "how long a graceful stop may take")
	fs.BoolVar(&o.verbose, "v", false, "log connection details too")
	fs.BoolVar(&o.auth, "auth", false, "admit only clients with a connect token from the login endpoint (see -login)")
	fs.StringVar(&o.login, "login", "127.0.0.1:7778", "with -auth: serve the login endpoint http://ADDR/login on this address, host:port")
	fs.StringVar(&o.password, "password", "", "with -auth: the shared demo password the login endpoint asks for (default: none, a nickname is enough)")
	fs.StringVar(&o.node, "node", "", "link this server to the other chat servers under this name (letters, digits, '-', '_'), so that players /move between them (default: not linked)")
	fs.StringVar(&o.nats, "nats", "", "with -node: the NATS server to link through, nats://host:port (default: one embedded in this process, meeting the other servers of this machine on -seed)")
	fs.StringVar(&o.seed, "seed", node.LocalSeed, "with -node and no -nats: the route address the embedded NATS servers of this machine meet on")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.node != "" && o.auth {
		fmt.Fprintln(os.Stderr, "chat server: -node and -auth do not go together yet: a moved player's token names the server it left")
		return 2
	}
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	err := daemon.Run(context.Background(), daemon.Options{
		Name:        "chat-server",
		PIDFile:     o.pidfile,
		Logger:      log,
		StopTimeout: o.stopTimeout,
		OnReady: func(addr string) {
			fmt.Printf("chat server listening on %s (%s, %s)\n", addr, o.transport, o.codec)
		},
	}, func(ctx context.Context, ready func(addr string)) error {
		return serve(ctx, o, log, ready)
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "chat server:", err)
		return 1
	}
	fmt.Println("chat server stopped")
	return 0
}

// serve runs the chat server until ctx is done (the daemon got SIGINT or
// SIGTERM), then shuts it down gracefully within the daemon's stop
// timeout. It calls ready with the address once it listens.
func serve(ctx context.Context, o options, log *slog.Logger, ready func(addr string)) error {
	factory, err := chat.NewFactory(o.codec)
	if err != nil {
		return err
	}
	tr, simulator, err := transports.Open(o.transport, o.sim)
	if err != nil {
		return err
	}
	if simulator != nil {
		fmt.Println(transports.SimStarted(simulator))
		defer func() { fmt.Println(transports.SimTotals(simulator)) }()
	}
	var webFiles string
	if o.http != "" { // first: a build must not keep clients waiting
		if webFiles, err = webDir(ctx, o.web); err != nil {
			return err
		}
	}
	room := chat.NewRoom(log)
	var (
		auth    *chat.Auth
		tokens  *gnet.Tokens
		approve func(context.Context, gnet.Hello) (any, error)
	)
	if o.auth {
		// The tokens name the server by its -addr as given: a server
		// checks one name, for all its listeners (-http's WebSocket too),
		// and it is known before Listen, which takes it.
		if auth, err = chat.NewAuth(chat.AuthConfig{Server: o.addr, Password: o.password, Room: room}); err != nil {
			return err
		}
		tokens, approve = auth.Tokens(), auth.Approve
	}
	var tickets *chat.Tickets
	if o.node != "" {
		tickets = chat.NewTickets(0, nil)
		approve = tickets.Approve
	}
	srv, err := gnet.Listen(gnet.ServerConfig{
		Config:     gnet.Config{Factory: factory, Transport: tr, Logger: log},
		Addr:       o.addr,
		MaxConns:   o.maxUsers,
		NewHandler: room.NewHandler,
		Tokens:     tokens,
		Approve:    approve,
	})
	if err != nil {
		return err
	}
	var link *linker
	if o.node != "" {
		if link, err = joinNode(ctx, o.node, o.nats, o.seed, srv.Addr(), room, tickets, log); err != nil {
			srv.Close()
			return fmt.Errorf("-node %s: %w", o.node, err)
		}
		defer link.close()
		room.SetMover(link)
		fmt.Printf("chat node %s: players move in at %s\n", o.node, srv.Addr())
	}
	if o.auth {
		login, err := startLogin(o.login, auth.Handler(), log)
		if err != nil {
			srv.Close()
			return err
		}
		defer func() {
			sctx, cancel := daemon.ShutdownContext(ctx)
			defer cancel()
			if err := login.close(sctx); err != nil {
				log.Warn("login endpoint: stop", "err", err)
			}
		}()
		fmt.Println("login endpoint: " + strings.TrimSuffix(login.url, "/") + chat.LoginPath)
	}
	if o.http != "" {
		var login http.Handler
		if auth != nil {
			login = auth.Handler()
		}
		web, err := startWeb(srv, o.http, webFiles, login, log)
		if err != nil {
			srv.Close()
			return err
		}
		defer func() {
			sctx, cancel := daemon.ShutdownContext(ctx)
			defer cancel()
			if err := web.close(sctx); err != nil {
				log.Warn("web server: stop", "err", err)
			}
		}()
		fmt.Println("browser chat: open " + web.url)
	}
	ready(srv.Addr())

	// The server's loop: Update waits for the network, at most 100 ms so
	// that a stop is seen promptly (20 ms with a node, whose links and
	// handoffs wait for the next turn), and runs the handlers.
	wait := 100 * time.Millisecond
	if link != nil {
		wait = 20 * time.Millisecond
	}
	for ctx.Err() == nil {
		if err := srv.Update(wait); err != nil {
			srv.Close()
			return err
		}
		if link != nil {
			if err := link.update(); err != nil {
				srv.Close()
				return err
			}
		}
	}
	log.Info("saying goodbye", "online", len(room.Nicks()))
	sctx, cancel := daemon.ShutdownContext(ctx)
	defer cancel()
	if err := srv.Shutdown(sctx, "server shutting down"); err != nil {
		log.Warn("graceful stop cut short", "err", err)
	}
	return nil
}
