//go:build cgo

// Command enetload measures a gonetic ENet server's game loop under many
// peers: how long one Update takes and how much CPU the server process
// uses, with N clients each sending chat messages at a steady rate.
//
//	enetload [-n 100,500,1000,2000] [-peerlimit 0] [-d 20s] [-rate 20]
//	         [-procs 2] [-echo] [-connect 60s] [-nice 0]
//
// For each N (and each -peerlimit, 0 being the adapter's default, or
// enet.MaxPeerLimit for more clients than the default allows), this
// process listens on 127.0.0.1 with the ENet adapter and calls Update(0)
// at 60 Hz from a time.Ticker, timing each call. It starts -procs client
// processes (this program, "enetload clients") that open N connections
// between them, each with its own ENet host, as a real client would. Once
// all N are open (or -connect passed), it measures for -d: the duration of
// every Update, the process's CPU time (getrusage), the chats received and
// the open connections. Every client sends chat_msg(player, msg) -rate
// times a second, spread evenly; with -echo (the default) the server sends
// each chat back to its sender, and the clients report the round trip,
// which includes the wait for the server's next Update (up to 16.7 ms).
//
// Output: one line per run and a Markdown table at the end.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gonetic/gonetic/adapters/enet"
	"github.com/gonetic/gonetic/message"
	gnet "github.com/gonetic/gonetic/net"
)

// Chat is the load: chat_msg(player, msg), msg carrying the client's send
// time in nanoseconds.
type Chat struct {
	Player string
	Msg    string
}

func factory() *message.Factory {
	f := gnet.NewFactory()
	message.MustRegister[Chat](f, message.Name("chat_msg"))
	return f
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "enetload: "+format+"\n", args...)
	os.Exit(2)
}

// niceness is -nice: the client processes' nice value.
var niceness int

func main() {
	if len(os.Args) > 1 && os.Args[1] == "clients" {
		clients(os.Args[2:])
		return
	}
	counts := flag.String("n", "100,500,1000,2000", "comma-separated client counts")
	limits := flag.String("peerlimit", "0", "comma-separated enet.Options.PeerLimit values for the server (0: the default, or the maximum when N is above it); runs where it is below N are skipped")
	dur := flag.Duration("d", 20*time.Second, "measurement time of each run")
	rate := flag.Int("rate", 20, "chat messages per second per client")
	procs := flag.Int("procs", 2, "client processes")
	echo := flag.Bool("echo", true, "the server sends each chat back to its sender")
	connect := flag.Duration("connect", 60*time.Second, "at most this long for the clients to connect")
	flag.IntVar(&niceness, "nice", 0, "run the client processes under nice -n this (1 to 19), so that the server under measurement comes first for the CPU")
	flag.Parse()
	var rows []result
	for _, ls := range strings.Split(*limits, ",") {
		limit, err := strconv.Atoi(strings.TrimSpace(ls))
		if err != nil {
			fail("-peerlimit: %v", err)
		}
		for _, ns := range strings.Split(*counts, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(ns))
			if err != nil || n <= 0 {
				fail("-n: bad count %q", ns)
			}
			eff := limit
			if eff == 0 && n > enet.DefaultPeerLimit {
				eff = enet.MaxPeerLimit
			} else if eff == 0 {
				eff = enet.DefaultPeerLimit
			}
			if eff < n {
				continue
			}
			r := run(n, eff, *rate, *procs, *echo, *dur, *connect)
			fmt.Println(r.line())
			rows = append(rows, r)
		}
	}
	fmt.Println()
	fmt.Println("| N | PeerLimit | connected (min–max) | chats/s in | server CPU | Update p50 | p99 | max | echo RTT p50 / p99 | client CPU |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Println(r.row())
	}
	fmt.Printf("\n(-d %v per run, %d chats/s per client, echo %v, %d client processes, Update(0) at 60 Hz)\n", *dur, *rate, *echo, *procs)
}

type result struct {
	n, limit          int
	minConn, maxConn  int
	chatsPerS         float64
	cpu               float64 // server CPU seconds per second
	p50, p99, maxUpd  time.Duration
	updates           int
	rttP50, rttP99    time.Duration
	clientCPU         float64
	clientSent, clEch uint64
}

func (r result) line() string {
	return fmt.Sprintf("RESULT n=%d peerlimit=%d connected=%d-%d chats_per_s=%.0f server_cpu=%.1f%% updates=%d update_p50=%v update_p99=%v update_max=%v echo_rtt_p50=%v echo_rtt_p99=%v client_cpu=%.1f%% client_sent=%d client_echoed=%d",
		r.n, r.limit, r.minConn, r.maxConn, r.chatsPerS, 100*r.cpu, r.updates, r.p50, r.p99, r.maxUpd, r.rttP50, r.rttP99, 100*r.clientCPU, r.clientSent, r.clEch)
}

func (r result) row() string {
	us := func(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d)/1e3) }
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }
	return fmt.Sprintf("| %d | %d | %d–%d | %.0f | %.0f %% | %s | %s | %s | %s / %s | %.0f %% |",
		r.n, r.limit, r.minConn, r.maxConn, r.chatsPerS, 100*r.cpu, us(r.p50), us(r.p99), us(r.maxUpd), ms(r.rttP50), ms(r.rttP99), 100*r.clientCPU)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		fail("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// run serves n clients with the given PeerLimit and measures.
func run(n, limit, rate, procs int, echo bool, dur, connect time.Duration) result {
	tr, err := enet.New(&enet.Options{PeerLimit: limit})
	if err != nil {
		fail("%v", err)
	}
	srv, err := gnet.Listen(gnet.ServerConfig{
		Config:   gnet.Config{Factory: factory(), Transport: tr, HandshakeTimeout: connect},
		Addr:     "127.0.0.1:0",
		MaxConns: n + 16,
	})
	if err != nil {
		fail("%v", err)
	}
	defer srv.Close()
	var chats uint64
	if err := gnet.On(srv, func(c *gnet.Conn, m Chat) {
		chats++
		if echo {
			_ = c.Send(&m)
		}
	}); err != nil {
		fail("%v", err)
	}

	self, err := os.Executable()
	if err != nil {
		fail("%v", err)
	}
	type child struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
		out   chan string
	}
	var kids []child
	for i := range procs {
		k := n / procs
		if i < n%procs {
			k++
		}
		if k == 0 {
			continue
		}
		args := []string{self, "clients", "-addr", srv.Addr(), "-n", strconv.Itoa(k), "-rate", strconv.Itoa(rate),
			"-name", fmt.Sprintf("p%d", i), "-handshake", connect.String()}
		if niceness > 0 {
			args = append([]string{"nice", "-n", strconv.Itoa(niceness)}, args...)
		}
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			fail("%v", err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			fail("%v", err)
		}
		if err := cmd.Start(); err != nil {
			fail("%v", err)
		}
		out := make(chan string, 16)
		go func() {
			defer close(out)
			sc := bufio.NewScanner(stdout)
			sc.Buffer(make([]byte, 1<<20), 16<<20) // the RTT samples make long lines
			for sc.Scan() {
				out <- sc.Text()
			}
		}()
		kids = append(kids, child{cmd, stdin, out})
	}

	tick := time.NewTicker(time.Second / 60)
	defer tick.Stop()
	update := func() time.Duration {
		<-tick.C
		t0 := time.Now()
		if err := srv.Update(0); err != nil {
			fail("update: %v", err)
		}
		return time.Since(t0)
	}
	// Connect.
	deadline := time.Now().Add(connect)
	for srv.NumConns() < n && time.Now().Before(deadline) {
		update()
	}
	// Settle a second (handshakes answered, queues at a steady state).
	for end := time.Now().Add(time.Second); time.Now().Before(end); {
		update()
	}
	// Measure.
	r := result{n: n, limit: limit, minConn: n + 1}
	durs := make([]time.Duration, 0, int(dur.Seconds()*61))
	chats0, cpu0, t0 := chats, cpuTime(), time.Now()
	for time.Since(t0) < dur {
		durs = append(durs, update())
		c := srv.NumConns()
		r.minConn, r.maxConn = min(r.minConn, c), max(r.maxConn, c)
	}
	elapsed := time.Since(t0)
	r.cpu = float64(cpuTime()-cpu0) / float64(elapsed)
	r.chatsPerS = float64(chats-chats0) / elapsed.Seconds()
	slices.Sort(durs)
	r.updates = len(durs)
	r.p50, r.p99, r.maxUpd = durs[len(durs)/2], durs[len(durs)*99/100], durs[len(durs)-1]

	// Stop the clients: they report and exit. Keep updating meanwhile.
	for _, k := range kids {
		k.stdin.Close()
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var rtts []time.Duration
	var clientCPU float64
	for _, k := range kids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for l := range k.out {
				f := strings.Fields(l)
				if len(f) == 0 || f[0] != "CLIENTS" {
					continue
				}
				mu.Lock()
				for _, kv := range f[1:] {
					key, v, _ := strings.Cut(kv, "=")
					switch key {
					case "cpu":
						x, _ := strconv.ParseFloat(v, 64)
						clientCPU += x
					case "sent":
						x, _ := strconv.ParseUint(v, 10, 64)
						r.clientSent += x
					case "echoed":
						x, _ := strconv.ParseUint(v, 10, 64)
						r.clEch += x
					case "rtt_p50", "rtt_p99":
						// Merged below from the samples.
					case "samples":
						for _, s := range strings.Split(v, ",") {
							if x, err := strconv.ParseInt(s, 10, 64); err == nil {
								rtts = append(rtts, time.Duration(x))
							}
						}
					}
				}
				mu.Unlock()
			}
			_ = k.cmd.Wait()
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for waiting := true; waiting; {
		select {
		case <-done:
			waiting = false
		default:
			update()
		}
	}
	r.clientCPU = clientCPU
	if len(rtts) > 0 {
		slices.Sort(rtts)
		r.rttP50, r.rttP99 = rtts[len(rtts)/2], rtts[len(rtts)*99/100]
	}
	return r
}

// dropHandler counts why connections ended.
type dropHandler struct{ reasons map[string]int }

func (h dropHandler) OnDisconnect(reason error) {
	r := reason.Error()
	if len(r) > 80 {
		r = r[:80]
	}
	h.reasons[r]++
}

// clients is a client process: n connections to addr, each with its own
// ENet host, sending rate chats a second until stdin closes; then it
// prints a CLIENTS line and exits.
func clients(args []string) {
	fs := flag.NewFlagSet("clients", flag.ExitOnError)
	addr := fs.String("addr", "", "server address")
	n := fs.Int("n", 1, "connections")
	rate := fs.Int("rate", 20, "chats per second per connection")
	name := fs.String("name", "p", "player name prefix")
	handshake := fs.Duration("handshake", 60*time.Second, "handshake timeout")
	_ = fs.Parse(args)
	tr, err := enet.New(nil)
	if err != nil {
		fail("%v", err)
	}
	cli, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: factory(), Transport: tr, HandshakeTimeout: *handshake}})
	if err != nil {
		fail("%v", err)
	}
	defer cli.Close()
	epoch := time.Now()
	var echoed uint64
	const keep = 20000 // RTT samples kept, evenly spread
	samples := make([]int64, 0, keep)
	seen := 0
	if err := gnet.On(cli, func(_ *gnet.Conn, m Chat) {
		sent, err := strconv.ParseInt(m.Msg, 10, 64)
		if err != nil {
			return
		}
		echoed++
		seen++
		rtt := int64(time.Since(epoch)) - sent
		if len(samples) < keep {
			samples = append(samples, rtt)
		} else if i := seen % (keep * 4); i < keep { // refresh a quarter of them now and then
			samples[i] = rtt
		}
	}); err != nil {
		fail("%v", err)
	}
	stop := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(stop)
	}()

	// Ticks of 10 ms; each connection sends every period/10ms ticks, the
	// connections spread over the ticks of a period.
	const step = 10 * time.Millisecond
	period := max(1, int(time.Second/time.Duration(*rate)/step))
	conns := make([]*gnet.Conn, 0, *n)
	players := make([]string, *n)
	for i := range players {
		players[i] = fmt.Sprintf("%s-%d", *name, i)
	}
	drops := dropHandler{reasons: map[string]int{}}
	tick := time.NewTicker(step)
	defer tick.Stop()
	var sent uint64
	cpu0 := cpuTime()
	t0 := time.Now()
	msg := Chat{}
	for k := 0; ; k++ {
		select {
		case <-stop:
			elapsed := time.Since(t0)
			open := cli.NumConns()
			var b strings.Builder
			for i, s := range samples {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(strconv.FormatInt(s, 10))
			}
			for r, k := range drops.reasons {
				fmt.Fprintf(os.Stderr, "enetload clients %s: %d connections ended: %s\n", *name, k, r)
			}
			fmt.Printf("CLIENTS name=%s n=%d open=%d sent=%d echoed=%d cpu=%.4f samples=%s\n",
				*name, *n, open, sent, echoed, float64(cpuTime()-cpu0)/float64(elapsed), b.String())
			return
		case <-tick.C:
		}
		// Connect 50 more per tick until all are connecting.
		for i := 0; i < 50 && len(conns) < *n; i++ {
			c, err := cli.Connect(*addr, drops)
			if err != nil {
				fail("connect: %v", err)
			}
			conns = append(conns, c)
		}
		if err := cli.Update(0); err != nil {
			fail("update: %v", err)
		}
		now := strconv.FormatInt(int64(time.Since(epoch)), 10)
		for i := k % period; i < len(conns); i += period {
			if !conns[i].Connected() {
				continue
			}
			msg.Player, msg.Msg = players[i], now
			if conns[i].Send(&msg) == nil {
				sent++
			}
		}
	}
}
