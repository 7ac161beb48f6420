// Command gbench measures gonetic through its whole stack, one process per
// side, in the shape of the raw baselines in shared/bench (tcpbench,
// enet_bench), so the two can be run side by side and compared.
//
//	gbench server [-addr 127.0.0.1:7950] [-transport tcp|enet] [-poll] [-timeout 120s]
//	gbench client -mode oneway|pingpong [-addr …] [-transport tcp|enet]
//	              [-n N] [-warmup N] [-poll] [-label name] [-timeout 120s]
//
// oneway: the client sends N chat_msg("Tom", "Test message") with typed
// Send as fast as it can, then a seq message; the server's handler counts
// the chats and answers the seq with the count; the clock stops at that
// answer. pingpong: the server's handler echoes each chat; RTT median and
// p99 over N round trips after -warmup, the client waiting in
// Update(timeout), or spinning on Update(0) with -poll. The server waits in
// Update(100ms), or spins on Update(0) with -poll (over ENet, give it
// GBENCH_ENET_POLL=all too: see enet.go).
//
// Output: "RESULT <name> <value> <unit>" lines, as the baselines print.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/message"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/transport"
)

// Chat is the benchmark message, chat_msg(player, msg): 19 bytes of msgpack.
type Chat struct {
	Player string
	Msg    string
}

// Seq ends a oneway run: the client sends it, the server answers with N =
// the chats it counted.
type Seq struct{ N int }

func factory() *message.Factory {
	f := gnet.NewFactory()
	message.MustRegister[Chat](f, message.Name("chat_msg"))
	message.MustRegister[Seq](f)
	return f
}

// transports maps -transport names to adapters; enet registers itself from
// a cgo-only file.
var transports = map[string]func() transport.Transport{
	"tcp": func() transport.Transport { return tcp.New(tcp.Options{}) },
}

func main() {
	if len(os.Args) < 2 || (os.Args[1] != "server" && os.Args[1] != "client") {
		fmt.Fprintln(os.Stderr, "usage: gbench server|client [flags]; gbench client -h for flags")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:7950", "address")
	tr := fs.String("transport", "tcp", "network adapter: tcp or enet")
	mode := fs.String("mode", "oneway", "client: oneway or pingpong")
	n := fs.Int("n", 2_000_000, "client: messages (oneway) or round trips (pingpong)")
	warmup := fs.Int("warmup", 1000, "client pingpong: round trips not measured")
	poll := fs.Bool("poll", false, "spin on Update(0) instead of waiting in Update (client: pingpong only)")
	label := fs.String("label", "", "RESULT name prefix (default gonetic.<transport>.<mode>)")
	timeout := fs.Duration("timeout", 120*time.Second, "hard limit for the run")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of this process to the file")
	_ = fs.Parse(os.Args[2:])
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fail("%v", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fail("%v", err)
		}
		defer pprof.StopCPUProfile()
	}
	newTr, ok := transports[*tr]
	if !ok {
		fail("unknown -transport %q (this build has %v)", *tr, keys())
	}
	time.AfterFunc(*timeout, func() { fail("deadline of %v exceeded", *timeout) })
	if os.Args[1] == "server" {
		server(*addr, newTr(), *poll)
		return
	}
	if *label == "" {
		*label = "gonetic." + *tr + "." + *mode
	}
	client(*addr, newTr(), *mode, *n, *warmup, *poll, *label)
}

func keys() []string {
	var out []string
	for k := range transports {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "gbench: "+format+"\n", args...)
	os.Exit(2)
}

// server serves one client, then exits.
func server(addr string, tr transport.Transport, poll bool) {
	srv, err := gnet.Listen(gnet.ServerConfig{Config: gnet.Config{Factory: factory(), Transport: tr}, Addr: addr})
	if err != nil {
		fail("%v", err)
	}
	defer srv.Close()
	var chats int
	var echo bool
	must(gnet.On(srv, func(c *gnet.Conn, m Chat) {
		chats++
		if echo || chats == 1 && m.Msg == "ping" {
			echo = true
			reply := m // only the echo copy escapes, so counting allocates nothing
			_ = c.Send(&reply)
		}
	}))
	must(gnet.On(srv, func(c *gnet.Conn, m Seq) { _ = c.Send(&Seq{N: chats}) }))
	fmt.Println("ready", srv.Addr())
	served := false
	wait := 100 * time.Millisecond
	if poll {
		wait = 0
	}
	for i := 0; ; i++ {
		if err := srv.Update(wait); err != nil {
			fail("update: %v", err)
		}
		if poll && i%4096 != 0 {
			continue // Connections allocates: not on every spin
		}
		if srv.NumConns() > 0 {
			served = true
		} else if served {
			return
		}
	}
}

func must(err error) {
	if err != nil {
		fail("%v", err)
	}
}

func client(addr string, tr transport.Transport, mode string, n, warmup int, poll bool, label string) {
	cli, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: factory(), Transport: tr}})
	if err != nil {
		fail("%v", err)
	}
	defer cli.Close()
	var conn *gnet.Conn
	for start := time.Now(); ; { // the server may still be starting
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		conn, err = cli.Dial(ctx, addr, nil)
		cancel()
		if err == nil {
			break
		}
		if time.Since(start) > 10*time.Second {
			fail("dial: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	switch mode {
	case "oneway":
		oneway(cli, conn, n, label)
	case "pingpong":
		pingpong(cli, conn, n, warmup, poll, label)
	default:
		fail("unknown -mode %q", mode)
	}
	conn.Disconnect("done")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = cli.Shutdown(ctx, "done")
}

func oneway(cli *gnet.Client, conn *gnet.Conn, n int, label string) {
	count := -1
	must(gnet.On(cli, func(_ *gnet.Conn, m Seq) { count = m.N }))
	msg := Chat{Player: "Tom", Msg: "Test message"}
	start := time.Now()
	for i := 0; i < n; i++ {
		for {
			err := conn.Send(&msg)
			if err == nil {
				break
			}
			if !errors.Is(err, transport.ErrQueueFull) {
				fail("send: %v", err)
			}
			_ = cli.Update(0) // the server is behind: let the queue drain
		}
	}
	must(conn.Send(&Seq{}))
	for count < 0 {
		must(cli.Update(time.Second))
	}
	elapsed := time.Since(start)
	if count != n {
		fail("server counted %d of %d messages", count, n)
	}
	fmt.Printf("client mode=oneway n=%d elapsed=%.3fs\n", n, elapsed.Seconds())
	fmt.Printf("RESULT %s.msgs_per_s %.6g msg/s\n", label, float64(n)/elapsed.Seconds())
}

func pingpong(cli *gnet.Client, conn *gnet.Conn, n, warmup int, poll bool, label string) {
	got := 0
	must(gnet.On(cli, func(_ *gnet.Conn, m Chat) { got++ }))
	ping := Chat{Player: "Tom", Msg: "ping"}
	rtts := make([]time.Duration, 0, n)
	for i := 0; i < warmup+n; i++ {
		t0 := time.Now()
		must(conn.Send(&ping))
		for got <= i {
			if poll {
				must(cli.Update(0))
			} else {
				must(cli.Update(time.Second))
			}
		}
		if i >= warmup {
			rtts = append(rtts, time.Since(t0))
		}
	}
	slices.Sort(rtts)
	us := func(d time.Duration) float64 { return float64(d) / 1e3 }
	fmt.Printf("client mode=pingpong n=%d poll=%v median=%.1fus p99=%.1fus\n", n, poll, us(rtts[n/2]), us(rtts[n*99/100]))
	fmt.Printf("RESULT %s.rtt_median %.6g us\n", label, us(rtts[n/2]))
	fmt.Printf("RESULT %s.rtt_p99 %.6g us\n", label, us(rtts[n*99/100]))
}
