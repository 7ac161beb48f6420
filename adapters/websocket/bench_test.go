//go:build !js

package websocket_test

import (
	"context"
	"io"
	stdnet "net"
	"net/http"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	cws "github.com/coder/websocket"
	"github.com/gonetic/gonetic/adapters/internal/transporttest"
	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/adapters/websocket"
	"github.com/gonetic/gonetic/net/nettest"
	"github.com/gonetic/gonetic/net/transport"
)

// The benchmarks run gonetic over this adapter ("gonetic") and a program
// of coder/websocket alone ("raw") side by side, in one process, on the
// loopback:
//
//	go test -run '^$' -bench . -benchtime 2s ./adapters/websocket
//
// gonetic sends the suite's chat message, Chat{"Tom", "Test message"},
// 20 bytes of msgpack, one channel byte more on the wire, through the whole
// stack (typed Send, Update, handler); adapter is this adapter alone
// (Link.Send to a Sink) with 19-byte payloads; raw sends 19-byte binary
// messages with coder/websocket alone.

// newBenchPair is gonetic over this adapter, a server and a client.
func newBenchPair(b *testing.B, echo bool) *nettest.BenchPair {
	b.Helper()
	return nettest.NewBenchPair(b, func() transport.Transport { return websocket.New(websocket.Options{}) }, "127.0.0.1:0", echo)
}

// rawPair is a coder/websocket server on its own http.Server, whose
// handler reads every message into one buffer, counts it and, with echo,
// writes it back; and one client connected to it.
type rawPair struct {
	hs    *http.Server
	ln    stdnet.Listener
	cli   *cws.Conn
	count atomic.Int64
}

func newRawPair(b *testing.B, echo bool) *rawPair {
	b.Helper()
	p := &rawPair{}
	ln, err := stdnet.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	p.ln = ln
	p.hs = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := cws.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := context.Background()
		buf := make([]byte, 4096)
		for {
			_, rd, err := c.Reader(ctx)
			if err != nil {
				return
			}
			n, err := io.ReadFull(rd, buf[:19])
			if err != nil {
				return
			}
			if _, err := rd.Read(buf[n:]); err != io.EOF {
				return
			}
			p.count.Add(1)
			if echo {
				if err := c.Write(ctx, cws.MessageBinary, buf[:n]); err != nil {
					return
				}
			}
		}
	})}
	go p.hs.Serve(ln)
	ctx, cancel := context.WithTimeout(context.Background(), nettest.Deadline)
	defer cancel()
	p.cli, _, err = cws.Dial(ctx, "ws://"+ln.Addr().String()+"/", nil)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

func (p *rawPair) close() {
	p.cli.CloseNow()
	p.hs.Close()
}

// BenchmarkOneWay: messages client → server, counted when the server's
// handler (gonetic) or read loop (raw) has each.
func BenchmarkOneWay(b *testing.B) {
	b.Run("gonetic", func(b *testing.B) {
		p := newBenchPair(b, false)
		defer p.Close()
		p.OneWay(b)
	})
	// adapter-wss: the same over TLS (docs/PERF.md, "TLS (issue 20)").
	for _, mode := range []struct {
		name string
		tls  bool
	}{{"adapter", false}, {"adapter-wss", true}} {
		b.Run(mode.name, func(b *testing.B) {
			link, srv, _, stop := adapterPair(b, false, benchOptions(b, mode.tls))
			defer stop()
			payload := make([]byte, 19)
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				for link.Send(0, transport.Reliable, payload) != nil { // queue full
					runtime.Gosched()
				}
			}
			for srv.count.Load() < int64(b.N) {
				time.Sleep(50 * time.Microsecond)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
		})
	}
	b.Run("raw", func(b *testing.B) {
		p := newRawPair(b, false)
		defer p.close()
		payload := make([]byte, 19)
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		for i := 0; i < b.N; i++ {
			if err := p.cli.Write(ctx, cws.MessageBinary, payload); err != nil {
				b.Fatal(err)
			}
		}
		for p.count.Load() < int64(b.N) {
			time.Sleep(50 * time.Microsecond)
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
	})
}

// BenchmarkPingPong: round trips of one message that the server echoes.
// gonetic's client blocks in Update(timeout) for the reply; raw's in Read.
func BenchmarkPingPong(b *testing.B) {
	b.Run("gonetic", func(b *testing.B) {
		p := newBenchPair(b, true)
		defer p.Close()
		p.PingPong(b)
	})
	// gonetic over adapters/tcp, which has the same goroutine layout
	// (a reader per link, a writer or flusher), for comparison.
	b.Run("gonetic-tcp", func(b *testing.B) {
		p := nettest.NewBenchPair(b, func() transport.Transport { return tcp.New(tcp.Options{}) }, "127.0.0.1:0", true)
		defer p.Close()
		p.PingPong(b)
	})
	for _, mode := range []struct {
		name string
		tls  bool
	}{{"adapter", false}, {"adapter-wss", true}} {
		b.Run(mode.name, func(b *testing.B) {
			link, _, cli, stop := adapterPair(b, true, benchOptions(b, mode.tls))
			defer stop()
			payload := make([]byte, 19)
			rtts := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				if err := link.Send(0, transport.Reliable, payload); err != nil {
					b.Fatal(err)
				}
				<-cli.got
				rtts = append(rtts, time.Since(t0))
			}
			b.StopTimer()
			reportRTT(b, rtts)
		})
	}
	b.Run("raw", func(b *testing.B) {
		p := newRawPair(b, true)
		defer p.close()
		payload := make([]byte, 19)
		buf := make([]byte, 4096)
		ctx := context.Background()
		rtts := make([]time.Duration, 0, b.N)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			if err := p.cli.Write(ctx, cws.MessageBinary, payload); err != nil {
				b.Fatal(err)
			}
			_, rd, err := p.cli.Reader(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(rd, buf[:19]); err != nil {
				b.Fatal(err)
			}
			if _, err := rd.Read(buf); err != io.EOF {
				b.Fatal(err)
			}
			rtts = append(rtts, time.Since(t0))
		}
		b.StopTimer()
		reportRTT(b, rtts)
	})
}

// BenchmarkPingPongLayout: raw's round trip with gonetic's goroutine
// layout and none of its code, to tell the cost of the layout from the
// cost of the code (docs/PERF.md, "WebSocket (issue 19)"). "handoff2":
// each side reads on a goroutine of its own and hands the message to the
// goroutine that answers (the server) or waits (the client), as the
// adapter's reader hands it to gonetic's Update; writes are inline.
// "handoff4": writes also go through a writer goroutine per side, as the
// adapter's do.
func BenchmarkPingPongLayout(b *testing.B) {
	for _, l := range []struct {
		name    string
		writers bool
	}{{"handoff2", false}, {"handoff4", true}} {
		b.Run(l.name, func(b *testing.B) {
			ln, err := stdnet.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, err := cws.Accept(w, r, nil)
				if err != nil {
					return
				}
				defer c.CloseNow()
				in := make(chan [19]byte, 1)
				go layoutReader(c, in)
				send, stop := layoutWriter(c, l.writers)
				defer stop()
				for m := range in { // the server's Update: echo
					send(m)
				}
			})}
			go hs.Serve(ln)
			defer hs.Close()
			ctx, cancel := context.WithTimeout(context.Background(), nettest.Deadline)
			defer cancel()
			c, _, err := cws.Dial(ctx, "ws://"+ln.Addr().String()+"/", nil)
			if err != nil {
				b.Fatal(err)
			}
			defer c.CloseNow()
			in := make(chan [19]byte, 1)
			go layoutReader(c, in)
			send, stop := layoutWriter(c, l.writers)
			defer stop()
			var msg [19]byte
			rtts := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				send(msg)
				<-in
				rtts = append(rtts, time.Since(t0))
			}
			b.StopTimer()
			reportRTT(b, rtts)
		})
	}
}

// layoutReader reads 19-byte messages from c and hands each to in.
func layoutReader(c *cws.Conn, in chan<- [19]byte) {
	defer close(in)
	ctx := context.Background()
	var m [19]byte
	for {
		_, rd, err := c.Reader(ctx)
		if err != nil {
			return
		}
		if _, err := io.ReadFull(rd, m[:]); err != nil {
			return
		}
		if _, err := rd.Read(m[:0]); err != nil && err != io.EOF {
			return
		}
		in <- m
	}
}

// layoutWriter returns the function that writes a message to c: inline,
// or with writers by handing it to a writer goroutine, which stop ends.
func layoutWriter(c *cws.Conn, writers bool) (send func([19]byte), stop func()) {
	ctx := context.Background()
	if !writers {
		return func(m [19]byte) { _ = c.Write(ctx, cws.MessageBinary, m[:]) }, func() {}
	}
	ch := make(chan [19]byte, 1)
	go func() {
		for m := range ch {
			if c.Write(ctx, cws.MessageBinary, m[:]) != nil {
				return
			}
		}
	}()
	return func(m [19]byte) { ch <- m }, func() { close(ch) }
}

// echoSink sends back what it receives, when link is set.
type echoSink struct {
	link  transport.Link
	count atomic.Int64
	got   chan struct{}
}

func (s *echoSink) Receive(ch uint8, p []byte) {
	s.count.Add(1)
	if s.link != nil {
		_ = s.link.Send(ch, transport.Reliable, p)
	}
	if s.got != nil {
		s.got <- struct{}{}
	}
}
func (s *echoSink) Closed(error) {}

// adapterPair is this adapter alone, no gonetic above it: a listener
// whose links echo (or count) and one dialed link.
func adapterPair(b *testing.B, echo bool, opts websocket.Options) (transport.Link, *echoSink, *echoSink, func()) {
	b.Helper()
	tr := websocket.New(opts)
	srv := &echoSink{}
	ln, err := tr.Listen("127.0.0.1:0", transport.Config{}, func(l transport.Link) transport.Sink {
		if echo {
			srv.link = l
		}
		return srv
	})
	if err != nil {
		b.Fatal(err)
	}
	cli := &echoSink{got: make(chan struct{}, 1)}
	if !echo {
		cli.got = nil
	}
	link, err := tr.Dial(context.Background(), ln.Addr(), transport.Config{}, cli)
	if err != nil {
		b.Fatal(err)
	}
	return link, srv, cli, func() { link.Abort(); ln.Close() }
}

// benchOptions are the adapter's defaults, over TLS (wss) when secure.
func benchOptions(b *testing.B, secure bool) websocket.Options {
	if !secure {
		return websocket.Options{}
	}
	return websocket.Options{TLS: transporttest.TLSConfig(b)}
}

func reportRTT(b *testing.B, rtts []time.Duration) {
	slices.Sort(rtts)
	b.ReportMetric(float64(rtts[len(rtts)/2].Nanoseconds())/1e3, "median-µs")
	b.ReportMetric(float64(rtts[len(rtts)*99/100].Nanoseconds())/1e3, "p99-µs")
}
