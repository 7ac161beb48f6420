//go:build !js

package websocket_test

import (
	"context"
	"io"
	stdnet "net"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cws "github.com/coder/websocket"
	"github.com/gonetic/gonetic/adapters/websocket"
	gnet "github.com/gonetic/gonetic/net"
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

// benchPair is a gonetic server over WebSocket whose Update runs on its
// own goroutine, and one connected client.
type benchPair struct {
	srv   *gnet.Server
	cli   *gnet.Client
	conn  *gnet.Conn
	stop  chan struct{}
	done  sync.WaitGroup
	chats atomic.Int64
}

func newBenchPair(b *testing.B, echo bool) *benchPair {
	b.Helper()
	p := &benchPair{stop: make(chan struct{})}
	srv, err := gnet.Listen(gnet.ServerConfig{
		Config: gnet.Config{Factory: nettest.NewFactory(nil), Transport: websocket.New(websocket.Options{})},
		Addr:   "127.0.0.1:0",
	})
	if err != nil {
		b.Fatal(err)
	}
	p.srv = srv
	count := func(c *gnet.Conn, m nettest.Chat) { p.chats.Add(1) }
	if echo {
		count = func(c *gnet.Conn, m nettest.Chat) {
			p.chats.Add(1)
			_ = c.Send(&m)
		}
	}
	if err := gnet.On(srv, count); err != nil {
		b.Fatal(err)
	}
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		for {
			select {
			case <-p.stop:
				return
			default:
				_ = srv.Update(10 * time.Millisecond)
			}
		}
	}()
	cli, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: nettest.NewFactory(nil), Transport: websocket.New(websocket.Options{})}})
	if err != nil {
		b.Fatal(err)
	}
	p.cli = cli
	ctx, cancel := context.WithTimeout(context.Background(), nettest.Deadline)
	defer cancel()
	p.conn, err = cli.Dial(ctx, srv.Addr(), nil)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

func (p *benchPair) close() {
	close(p.stop)
	p.done.Wait()
	p.cli.Close()
	p.srv.Close()
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
		defer p.close()
		msg := nettest.Chat{Player: "Tom", Msg: "Test message"}
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		for i := 0; i < b.N; i++ {
			for p.conn.Send(&msg) != nil { // queue full: the server is behind
				_ = p.cli.Update(0)
			}
		}
		for p.chats.Load() < int64(b.N) {
			time.Sleep(50 * time.Microsecond)
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
	})
	b.Run("adapter", func(b *testing.B) {
		link, srv, _, stop := adapterPair(b, false)
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
		defer p.close()
		var got int
		if err := gnet.On(p.cli, func(_ *gnet.Conn, m nettest.Chat) { got++ }); err != nil {
			b.Fatal(err)
		}
		msg := nettest.Chat{Player: "Tom", Msg: "Test message"}
		rtts := make([]time.Duration, 0, b.N)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			if err := p.conn.Send(&msg); err != nil {
				b.Fatal(err)
			}
			for got <= i {
				_ = p.cli.Update(time.Second)
			}
			rtts = append(rtts, time.Since(t0))
		}
		b.StopTimer()
		reportRTT(b, rtts)
	})
	b.Run("adapter", func(b *testing.B) {
		link, _, cli, stop := adapterPair(b, true)
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
func adapterPair(b *testing.B, echo bool) (transport.Link, *echoSink, *echoSink, func()) {
	b.Helper()
	tr := websocket.New(websocket.Options{})
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

func reportRTT(b *testing.B, rtts []time.Duration) {
	slices.Sort(rtts)
	b.ReportMetric(float64(rtts[len(rtts)/2].Nanoseconds())/1e3, "median-µs")
	b.ReportMetric(float64(rtts[len(rtts)*99/100].Nanoseconds())/1e3, "p99-µs")
}
