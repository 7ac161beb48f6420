package tcp_test

import (
	"context"
	"crypto/tls"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/internal/transporttest"
	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/net/transport"
)

// BenchmarkTLS compares, in one run, plain TCP with TLS: one-way
// throughput of 19-byte payloads from the dialed link to the listener's
// (up) and back (down: the listener's flusher without TLS, the link's
// writer with it), and the round trip of one payload echoed by the server.
func BenchmarkTLS(b *testing.B) {
	conf := transporttest.TLSConfig(b)
	for _, mode := range []struct {
		name string
		conf *tls.Config
	}{{"plain", nil}, {"tls", conf}} {
		opts := tcp.Options{TLS: mode.conf}
		b.Run("up/"+mode.name, func(b *testing.B) {
			client, _, sink, _ := tlsBenchPair(b, opts, false)
			oneWay(b, client, sink)
		})
		b.Run("down/"+mode.name, func(b *testing.B) {
			_, server, _, sink := tlsBenchPair(b, opts, false)
			oneWay(b, server, sink)
		})
		b.Run("roundtrip/"+mode.name, func(b *testing.B) {
			client, _, _, sink := tlsBenchPair(b, opts, true)
			roundTrip(b, client, sink)
		})
	}
}

// echoSink sends back what it receives on its link, once it has one.
type echoSink struct {
	*countSink
	link chan transport.Link
	l    transport.Link
}

func (s *echoSink) Receive(ch uint8, p []byte) {
	if s.l == nil {
		s.l = <-s.link
	}
	_ = s.l.Send(0, transport.Reliable, p)
	s.countSink.Receive(ch, p)
}

// tlsBenchPair is a loopback pair: the dialed link, the listener's, and
// what each one's peer counts. With echo, the server sends back what it
// receives.
func tlsBenchPair(b *testing.B, opts tcp.Options, echo bool) (client, server transport.Link, atServer, atClient *countSink) {
	b.Helper()
	tr := tcp.New(opts)
	atServer, atClient = newCountSink(), newCountSink()
	links := make(chan transport.Link, 1)
	var sink transport.Sink = atServer
	if echo {
		sink = &echoSink{countSink: atServer, link: make(chan transport.Link, 1)}
	}
	ln, err := tr.Listen("127.0.0.1:0", transport.Config{}, func(l transport.Link) transport.Sink {
		if e, ok := sink.(*echoSink); ok {
			e.link <- l
		}
		links <- l
		return sink
	})
	if err != nil {
		b.Fatal(err)
	}
	client, err = tr.Dial(context.Background(), ln.Addr(), transport.Config{}, atClient)
	if err != nil {
		b.Fatal(err)
	}
	server = <-links
	b.Cleanup(func() {
		client.Close()
		ln.Close()
	})
	return client, server, atServer, atClient
}

// oneWay sends b.N payloads on l, at most a window ahead of the peer's
// sink, and reports messages per second until the last arrived.
func oneWay(b *testing.B, l transport.Link, sink *countSink) {
	const window = 1 << 16
	warm := sink.expect(10000)
	for range 10000 {
		send(b, l, chatPayload)
	}
	warm(b)
	base := sink.n.Load()
	wait := sink.expect(int64(b.N))
	b.ReportAllocs()
	b.SetBytes(int64(len(chatPayload)))
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		for int64(i)-(sink.n.Load()-base) > window {
			<-sink.progress
		}
		send(b, l, chatPayload)
	}
	wait(b)
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

// roundTrip sends one payload at a time and waits for its echo. It waits
// on the sink's channel itself, so that the harness allocates nothing.
func roundTrip(b *testing.B, l transport.Link, sink *countSink) {
	one := func() {
		sink.want.Store(sink.n.Load() + 1)
		send(b, l, chatPayload)
		<-sink.done
	}
	for range 100 { // warm up
		one()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		one()
	}
}
