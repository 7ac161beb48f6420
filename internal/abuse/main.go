// Command abuse measures what peers that send and never read cost a
// gonetic server (issue 15): it starts a chat-like server in a child
// process (a net.Server whose handler broadcasts every line to every
// connection), connects abusers over raw TCP that finish the handshake,
// then send lines and never read, and one well-behaved client; it prints
// the server's peak RSS, when and why each abuser was dropped, and the
// server's RSS a while after they left.
//
//	go run ./internal/abuse [-abusers 4] [-rate 1000] [-size 1000] [-abuse 60s] [-after 60s]
//
// With -headers N it measures instead what N connections cost that each
// send a 4-byte header announcing a 1 MiB frame and one byte of it.
//
// docs/PERF.md has the figures.
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	stdnet "net"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gonetic/gonetic/message"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/nettest"
)

// Line is one chat line.
type Line struct{ Text string }

func factory() *message.Factory {
	f := gnet.NewFactory()
	message.MustRegister[Line](f)
	return f
}

// relay is the server's handler: every line goes to every connection.
type relay struct{ gnet.Handler }

func (h *relay) NetLine(m Line) { _ = h.Server().Broadcast(&m, nil) }

func (h *relay) OnDisconnect(reason error) {
	fmt.Printf("gone %s %v\n", h.Conn().Addr(), reason)
}

// serve is the child: it prints its address and runs the game loop until
// its standard input closes.
func serve() error {
	srv, err := gnet.Listen(gnet.ServerConfig{
		Config:     gnet.Config{Factory: factory()},
		NewHandler: func() any { return &relay{} },
	})
	if err != nil {
		return err
	}
	fmt.Printf("addr %s\n", srv.Addr())
	var done atomic.Bool
	go func() {
		// "gc" asks what the heap really holds: the runtime collects and
		// gives free memory back to the system at once.
		in := bufio.NewScanner(os.Stdin)
		for in.Scan() {
			switch in.Text() {
			case "gc":
				debug.FreeOSMemory()
				fmt.Println("gc done")
			case "heap":
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				fmt.Printf("heap %d\n", m.HeapInuse)
			}
		}
		done.Store(true)
	}()
	for !done.Load() {
		_ = srv.Update(10 * time.Millisecond)
	}
	return srv.Close()
}

// rss returns the VmRSS and VmHWM of process pid, in MB.
func rss(pid int) (cur, peak float64) {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmRSS:":
			cur = kb / 1024
		case "VmHWM:":
			peak = kb / 1024
		}
	}
	return cur, peak
}

func frame(p []byte) []byte { return append(binary.BigEndian.AppendUint32(nil, uint32(len(p))), p...) }

// abuser finishes the handshake, then sends rate lines a second and never
// reads, until its write fails or stop closes. It returns its address at
// once on addr, and when the server cut it off.
func abuser(server string, f *message.Factory, rate, size int, stop <-chan struct{}, addr chan<- string) (time.Time, error) {
	c, err := stdnet.Dial("tcp", server)
	if err != nil {
		addr <- ""
		return time.Time{}, err
	}
	defer c.Close()
	addr <- c.LocalAddr().String()
	if _, err := c.Write(frame(nettest.Hello(f))); err != nil {
		return time.Time{}, err
	}
	var head [4]byte
	if _, err := io.ReadFull(c, head[:]); err != nil {
		return time.Time{}, fmt.Errorf("no welcome: %w", err)
	}
	if _, err := io.CopyN(io.Discard, c, int64(binary.BigEndian.Uint32(head[:]))); err != nil {
		return time.Time{}, err
	}
	p, err := f.Pack(&Line{Text: strings.Repeat("x", size)})
	if err != nil {
		return time.Time{}, err
	}
	const tick = 10 * time.Millisecond
	var batch []byte
	for range rate * int(tick) / int(time.Second) {
		batch = append(batch, frame(p)...)
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return time.Time{}, nil
		case <-t.C:
		}
		c.SetWriteDeadline(time.Now().Add(time.Second))
		if _, err := c.Write(batch); err != nil {
			if ne, ok := err.(stdnet.Error); ok && ne.Timeout() {
				continue // the server reads slowly: not cut off
			}
			return time.Now(), nil
		}
	}
}

// goodClient reads everything and sends a line every 100 ms.
type goodClient struct {
	gnet.Handler
	got atomic.Int64
}

func (h *goodClient) NetLine(Line) { h.got.Add(1) }

func main() {
	serveFlag := flag.Bool("serve", false, "run the server (the child process)")
	abusers := flag.Int("abusers", 4, "peers that send and never read")
	rate := flag.Int("rate", 1000, "lines a second each abuser sends")
	size := flag.Int("size", 1000, "bytes of text per line")
	abuse := flag.Duration("abuse", 60*time.Second, "longest the abusers stay")
	after := flag.Duration("after", 60*time.Second, "how long after they left to read the RSS")
	headers := flag.Int("headers", 0, "measure N connections that send a header announcing 1 MiB and one byte, instead")
	flag.Parse()
	if *serveFlag {
		if err := serve(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	var err error
	if *headers > 0 {
		err = runHeaders(*headers)
	} else {
		err = run(*abusers, *rate, *size, *abuse, *after)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "abuse:", err)
		os.Exit(1)
	}
}

// startServer starts the child; stop ends it.
func startServer() (pid int, server string, out *bufio.Scanner, ask func(string), stop func(), err error) {
	self, err := os.Executable()
	if err != nil {
		return 0, "", nil, nil, nil, err
	}
	cmd := exec.Command(self, "-serve")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return 0, "", nil, nil, nil, err
	}
	stop = func() { stdin.Close(); _ = cmd.Wait() }
	ask = func(what string) { _, _ = io.WriteString(stdin, what+"\n") }
	out = bufio.NewScanner(stdout)
	if !out.Scan() || !strings.HasPrefix(out.Text(), "addr ") {
		stop()
		return 0, "", nil, nil, nil, fmt.Errorf("the server did not start: %q", out.Text())
	}
	return cmd.Process.Pid, strings.TrimPrefix(out.Text(), "addr "), out, ask, stop, nil
}

func runHeaders(n int) error {
	pid, server, out, ask, stop, err := startServer()
	if err != nil {
		return err
	}
	defer stop()
	heaps := make(chan float64)
	go func() {
		for out.Scan() {
			if h, ok := strings.CutPrefix(out.Text(), "heap "); ok {
				b, _ := strconv.ParseFloat(h, 64)
				heaps <- b / (1 << 20)
			}
		}
	}()
	heap := func() float64 { ask("heap"); return <-heaps }
	before, _ := rss(pid)
	heapBefore := heap()
	for range n {
		c, err := stdnet.Dial("tcp", server)
		if err != nil {
			return err
		}
		defer c.Close()
		if _, err := c.Write(append(binary.BigEndian.AppendUint32(nil, 1<<20), 0)); err != nil {
			return err
		}
	}
	time.Sleep(2 * time.Second) // for the server to read them all
	cur, _ := rss(pid)
	fmt.Printf("%d connections, each a header announcing 1 MiB and 1 byte:\n", n)
	fmt.Printf("  server heap in use (runtime.MemStats.HeapInuse) %.0f MB before, %.0f MB after\n", heapBefore, heap())
	fmt.Printf("  server RSS %.0f MB before, %.0f MB after (pages never written are not resident)\n", before, cur)
	return nil
}

func run(abusers, rate, size int, abuse, after time.Duration) error {
	pid, server, out, ask, stop, err := startServer()
	if err != nil {
		return err
	}
	defer stop()
	collected := make(chan struct{}, 1)
	var mu sync.Mutex
	gone := map[string]string{} // address -> reason
	goneAt := map[string]time.Time{}
	go func() {
		for out.Scan() {
			if out.Text() == "gc done" {
				collected <- struct{}{}
			}
			f := strings.SplitN(out.Text(), " ", 3)
			if len(f) == 3 && f[0] == "gone" {
				mu.Lock()
				gone[f[1]], goneAt[f[1]] = f[2], time.Now()
				mu.Unlock()
			}
		}
	}()
	f := factory()

	// The well-behaved client.
	cli, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: factory()}})
	if err != nil {
		return err
	}
	good := &goodClient{}
	conn, err := cli.Connect(server, good)
	if err != nil {
		return err
	}
	stopGood := make(chan struct{})
	goodDone := make(chan struct{})
	go func() {
		defer close(goodDone)
		next := time.Now()
		for {
			select {
			case <-stopGood:
				return
			default:
			}
			_ = cli.Update(10 * time.Millisecond)
			if conn.Connected() && time.Now().After(next) {
				_ = conn.Send(&Line{Text: "hello from a client that reads"})
				next = time.Now().Add(100 * time.Millisecond)
			}
		}
	}()
	for !conn.Connected() {
		time.Sleep(10 * time.Millisecond)
	}
	idle, _ := rss(pid)
	fmt.Printf("server RSS before the abuse: %.0f MB\n", idle)

	start := time.Now()
	leave := make(chan struct{})
	type result struct {
		addr string
		cut  time.Time
		err  error
	}
	results := make(chan result, abusers)
	for range abusers {
		addrc := make(chan string, 1)
		go func() {
			cut, err := abuser(server, f, rate, size, leave, addrc)
			results <- result{<-addrc, cut, err}
		}()
	}
	var res []result
	timeout := time.After(abuse)
	ticker := time.NewTicker(100 * time.Millisecond)
wait:
	for len(res) < abusers {
		select {
		case r := <-results:
			res = append(res, r)
		case <-timeout:
			break wait
		case <-ticker.C:
		}
	}
	close(leave)
	for len(res) < abusers {
		res = append(res, <-results)
	}
	left := time.Now()
	_, peak := rss(pid)
	fmt.Printf("abuse: %d peers sending %d lines/s of %d bytes, never reading, for at most %v\n", abusers, rate, size, abuse)
	fmt.Printf("server RSS peak (VmHWM): %.0f MB\n", peak)
	time.Sleep(time.Second) // the server's last words
	mu.Lock()
	for i, r := range res {
		switch {
		case r.err != nil:
			fmt.Printf("abuser %d: failed: %v\n", i+1, r.err)
		case gone[r.addr] == "" || goneAt[r.addr].After(left):
			fmt.Printf("abuser %d: never dropped; left after %.1f s\n", i+1, left.Sub(start).Seconds())
		case r.cut.IsZero():
			fmt.Printf("abuser %d: dropped after %.1f s: %s\n", i+1, goneAt[r.addr].Sub(start).Seconds(), gone[r.addr])
		default:
			fmt.Printf("abuser %d: dropped after %.1f s (its write failed after %.1f s): %s\n", i+1,
				goneAt[r.addr].Sub(start).Seconds(), r.cut.Sub(start).Seconds(), gone[r.addr])
		}
	}
	mu.Unlock()
	time.Sleep(after - time.Second)
	cur, _ := rss(pid)
	fmt.Printf("server RSS %v after the abusers left: %.0f MB\n", after, cur)
	ask("gc")
	<-collected
	cur, _ = rss(pid)
	fmt.Printf("server RSS after debug.FreeOSMemory: %.0f MB\n", cur)
	close(stopGood)
	<-goodDone
	fmt.Printf("well-behaved client: connected %v, %d lines received\n", conn.Connected(), good.got.Load())
	return cli.Close()
}
