// Command term is the gonetic chat's terminal client, for machines without
// a display, and its bots.
//
//	go run ./demo/chat/term -addr 127.0.0.1:7777 -nick ann
//
// Type a line to say it to the room; /who lists the users online, /nick
// NAME changes nickname, /move SERVER moves to a linked chat server
// (servers started with -node), /quit (or end of input) leaves. The history is
// printed as it happens: "<bob> hi", "*** carl joined", "!!! nickname
// refused: …". When the server goes away the client says so and
// reconnects with backoff.
//
// With -login URL it first logs in at a server's login endpoint (a server
// started with -auth prints it) and joins under the nickname of its token,
// over a connection sealed with the token (encrypted and authenticated).
//
// With -bots N it runs N bots instead, each its own client in this
// process, that join and chat on their own for -duration: for load and for
// demos.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gonetic/gonetic/demo/chat/chat"
	"github.com/gonetic/gonetic/demo/internal/transports"
	"github.com/gonetic/gonetic/net/transport"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout))
}

// options are the client's flags.
type options struct {
	addr, nick, transport, codec string
	sim                          string
	bots                         int
	interval, duration           time.Duration
	verbose                      bool
	login, password              string
	ticket                       string
}

func run(args []string, stdin io.Reader, stdout io.Writer) int {
	var o options
	fs := flag.NewFlagSet("term", flag.ContinueOnError)
	fs.StringVar(&o.addr, "addr", chat.DefaultAddr, "server address, host:port")
	fs.StringVar(&o.nick, "nick", "", "nickname (default: $USER, or guest); with -bots, the bots' prefix (default bot)")
	fs.StringVar(&o.transport, "transport", "tcp", "network adapter: tcp, enet or websocket (as the server; for websocket -addr may be a ws:// URL)")
	fs.StringVar(&o.codec, "codec", "msgpack", "serialization adapter: msgpack or json (as the server)")
	fs.StringVar(&o.sim, "sim", "", transports.SimUsage)
	fs.IntVar(&o.bots, "bots", 0, "run this many bots that chat on their own, instead of reading stdin")
	fs.DurationVar(&o.interval, "interval", 2*time.Second, "with -bots: mean time between two lines of one bot")
	fs.DurationVar(&o.duration, "duration", 0, "with -bots: stop after this long (default: until interrupted)")
	fs.BoolVar(&o.verbose, "v", false, "with -bots: print every line each bot sees")
	fs.StringVar(&o.login, "login", "", "log in at this login endpoint (a server started with -auth prints it: http://HOST:PORT/login) before each connection")
	fs.StringVar(&o.password, "password", "", "with -login: the server's demo password, if it has one")
	fs.StringVar(&o.ticket, "ticket", "", "present this handoff ticket on the first connection, as a client moved by /move does (for tests: a forged or spent one is refused)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.bots > 0 {
		return runBots(ctx, o, stdout)
	}
	if o.nick == "" {
		o.nick = defaultNick()
	}
	return chatLoop(ctx, o, stdin, stdout)
}

// chatLoop is the interactive client: one loop that runs the session and
// takes the lines read from stdin.
func chatLoop(ctx context.Context, o options, stdin io.Reader, stdout io.Writer) int {
	factory, err := chat.NewFactory(o.codec)
	if err != nil {
		fmt.Fprintln(stdout, "term:", err)
		return 2
	}
	tr, err := newTransport(o, stdout)
	if err != nil {
		fmt.Fprintln(stdout, "term:", err)
		return 2
	}
	sess, err := chat.NewSession(chat.SessionConfig{
		Addr:      o.addr,
		Nick:      o.nick,
		Factory:   factory,
		Transport: tr,
		Output:    func(l chat.Line) { fmt.Fprintln(stdout, l) },
		Login:     login(o),
		Ticket:    o.ticket,
	})
	if err != nil {
		fmt.Fprintln(stdout, "term:", err)
		return 2
	}

	// Reading stdin blocks, so a goroutine does it and hands lines over.
	lines := make(chan string, 64)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()

loop:
	for {
		// Waits up to 20 ms for the network: that is also how late a typed
		// line may be taken.
		if err := sess.Update(20 * time.Millisecond); err != nil {
			break
		}
		for more := true; more; {
			select {
			case line, ok := <-lines:
				if !ok || sess.Input(line) {
					break loop // end of input or /quit
				}
			case <-ctx.Done():
				break loop
			default:
				more = false
			}
		}
	}
	cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = sess.Close(cctx)
	fmt.Fprintln(stdout, "*** bye")
	return 0
}

// newTransport is the -transport adapter, under -sim's conditions if any,
// which it prints.
func newTransport(o options, stdout io.Writer) (transport.Transport, error) {
	tr, simulator, err := transports.Open(o.transport, o.sim)
	if err != nil {
		return nil, err
	}
	if simulator != nil {
		fmt.Fprintln(stdout, transports.SimStarted(simulator))
	}
	return tr, nil
}

// login is the session's Login for -login, or nil.
func login(o options) func(ctx context.Context, nick string) ([]byte, error) {
	if o.login == "" {
		return nil
	}
	return func(ctx context.Context, nick string) ([]byte, error) {
		return chat.FetchToken(ctx, o.login, nick, o.password)
	}
}

// defaultNick is $USER when that is a valid nickname, else "guest".
func defaultNick() string {
	if u := os.Getenv("USER"); u != "" && chat.CheckNick(u) == "" {
		return u
	}
	return "guest"
}
