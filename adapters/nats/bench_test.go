package nats_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/nats"
	"github.com/gonetic/gonetic/internal/natstest"
	"github.com/gonetic/gonetic/net/transport"
	natsgo "github.com/nats-io/nats.go"
)

// counter counts what arrives and lets the sender keep at most window
// bytes in flight, so that neither case drops as a slow consumer: raw
// NATS has no flow control, nor does the adapter.
type counter struct {
	got  atomic.Int64
	wake chan struct{}
}

func newCounter() *counter { return &counter{wake: make(chan struct{}, 1)} }

func (c *counter) add() {
	c.got.Add(1)
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// waitFor blocks until at least n arrived.
func (c *counter) waitFor(b *testing.B, n int64) {
	deadline := time.After(time.Minute)
	for c.got.Load() < n {
		select {
		case <-c.wake:
		case <-deadline:
			b.Fatalf("%d of %d messages arrived within a minute", c.got.Load(), n)
		}
	}
}

func (c *counter) Receive(uint8, []byte) { c.add() }
func (c *counter) Closed(error)          {}

// BenchmarkThroughput sends size-byte payloads one way through one
// embedded server, sender and receiver on separate connections: raw is
// nats.go's Publish to a subscription on a subject as long as the link's
// (raw-short-subject: on "bench", to show what the subject costs), link
// the adapter's Send to a Sink. All keep at most 8 MiB in flight.
func BenchmarkThroughput(b *testing.B) {
	for _, size := range []int{64 << 10, 100} {
		name := fmt.Sprintf("%dB", size)
		if size >= 1<<10 {
			name = fmt.Sprintf("%dKiB", size>>10)
		}
		window := max(int64(8<<20/size), 64)
		for _, subject := range []string{benchSubject, "bench"} {
			raw := "/raw"
			if subject != benchSubject {
				raw = "/raw-short-subject"
			}
			b.Run(name+raw, func(b *testing.B) { benchRaw(b, subject, size, window) })
		}
		b.Run(name+"/link", func(b *testing.B) {
			s := natstest.Server(b)
			c := newCounter()
			lt := newTransport(b, s, nats.Options{ID: "srv", PendingBytes: 1 << 30})
			ln, err := lt.Listen("net", transport.Config{}, func(transport.Link) transport.Sink { return c })
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			dt := newTransport(b, s, nats.Options{})
			l, err := dt.Dial(context.Background(), "srv/net", transport.Config{}, newSink())
			if err != nil {
				b.Fatal(err)
			}
			defer l.Abort()
			run(b, size, window, c, func(p []byte) error { return l.Send(0, transport.Reliable, p) })
		})
	}
}

// benchRaw is the raw case: nats.go's Publish on subject to an async
// subscription that never drops.
func benchRaw(b *testing.B, subject string, size int, window int64) {
	s := natstest.Server(b)
	pub, subc := connect(b, s), connect(b, s)
	c := newCounter()
	sub, err := subc.Subscribe(subject, func(*natsgo.Msg) { c.add() })
	if err != nil {
		b.Fatal(err)
	}
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		b.Fatal(err)
	}
	if err := subc.Flush(); err != nil {
		b.Fatal(err)
	}
	run(b, size, window, c, func(p []byte) error { return pub.Publish(subject, p) })
}

// run sends b.N payloads with send, window at most in flight, and stops
// the clock once c counted them all.
func run(b *testing.B, size int, window int64, c *counter, send func([]byte) error) {
	p := make([]byte, size)
	b.ResetTimer()
	start := time.Now()
	for i := range int64(b.N) {
		if i-c.got.Load() >= window {
			c.waitFor(b, i-window/2)
		}
		if err := send(p); err != nil {
			b.Fatal(err)
		}
	}
	c.waitFor(b, int64(b.N))
	b.StopTimer()
	b.ReportMetric(float64(b.N*size)/1e6/time.Since(start).Seconds(), "MB/s")
}

// benchSubject is as long as a link's subject towards a listener with a
// default dialer id, so that raw NATS carries the same bytes per message.
const benchSubject = "gonetic.n.srv.net.l.cITfr5XNfEmRwR33.85zuvzf2rhc"
