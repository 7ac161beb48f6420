package flow

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gonetic/gonetic/adapters/enet"
	"github.com/gonetic/gonetic/adapters/json"
	"github.com/gonetic/gonetic/adapters/mem"
	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/net/nettest"
	"github.com/gonetic/gonetic/net/transport"
)

// The listener tests of flow_test.go run over adapters/mem and adapters/tcp
// as well (carriers "listener/mem" and "listener/tcp-adapter"): header,
// packets, replies, final values, compression, backpressure, a dropped
// link (the transport link aborted) and Shutdown. These add what is
// particular to a Transport.

// adapters are the Transports the tests below run over, with a listen
// address of each one's form.
var adapters = []struct {
	name string
	new  func() transport.Transport
	addr string
}{
	{"mem", func() transport.Transport { return &mem.Network{} }, "server:0"},
	{"tcp", func() transport.Transport { return tcp.New(tcp.Options{}) }, "127.0.0.1:0"},
}

func forEachAdapter(t *testing.T, body func(t *testing.T, tr transport.Transport, addr string)) {
	for _, a := range adapters {
		t.Run(a.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			t.Cleanup(func() { nettest.CheckGoroutines(t, before) })
			body(t, a.new(), a.addr)
		})
	}
}

func TestTransportHandshake(t *testing.T) {
	forEachAdapter(t, func(t *testing.T, tr transport.Transport, addr string) {
		srv, err := Listen(ServerConfig{Addr: addr, MaxConns: 1, Transport: tr})
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		if _, err := Dial(ctx, srv.Addr(), ClientConfig{Config: Config{Codec: json.New()}, Transport: tr}); err == nil || !strings.Contains(err.Error(), "codec differs") {
			t.Fatalf("a client with another codec: %v", err)
		}
		c1, err := Dial(ctx, srv.Addr(), ClientConfig{Transport: tr})
		if err != nil {
			t.Fatal(err)
		}
		defer c1.Close()
		if _, err := Dial(ctx, srv.Addr(), ClientConfig{Transport: tr}); err == nil || !strings.Contains(err.Error(), "server full") {
			t.Fatalf("a client past MaxConns: %v", err)
		}
	})
}

// TestTransportStats: Client.Stats are the transport link's.
func TestTransportStats(t *testing.T) {
	forEachAdapter(t, func(t *testing.T, tr transport.Transport, addr string) {
		e := newListenerEnvOver(t, tr, addr, Config{}, Config{})
		e.handle("sink", benchSink)
		const n, size = 64, 16 << 10
		if _, err := Wait(Call(context.Background(), e.caller, Request{Name: "sink"}, counting(n, size, new(atomic.Int64)))); err != nil {
			t.Fatal(err)
		}
		st := e.caller.(*Client).Stats()
		if st.BytesSent < n*size || st.BytesReceived == 0 {
			t.Fatalf("stats %+v after sending %d bytes", st, n*size)
		}
	})
}

// TestTransportQueueFull: when the adapter's send queue is full, frames
// wait in the link and go out in order; the flow neither fails nor loses
// any.
func TestTransportQueueFull(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() { nettest.CheckGoroutines(t, before) })
	// A queue smaller than a chunk: nearly every Send finds it full.
	tr := tcp.New(tcp.Options{MaxQueued: 16 << 10})
	e := newListenerEnvOver(t, tr, "127.0.0.1:0", Config{}, Config{})
	e.handle("sink", benchSink)
	const n = 512 // 32 MiB of 64 KiB packets
	final, err := Wait(Call(context.Background(), e.caller, Request{Name: "sink"}, counting(n, 64<<10, new(atomic.Int64))))
	var got int
	if err == nil {
		err = final.Decode(&got)
	}
	if err != nil || got != n {
		t.Fatalf("flow: %v, %d of %d packets", err, got, n)
	}
}

// TestTransportLargeChunks: a full chunk frame fits the adapter's payloads.
func TestTransportLargeChunks(t *testing.T) {
	forEachAdapter(t, func(t *testing.T, tr transport.Transport, addr string) {
		cfg := Config{ChunkSize: MaxChunkSize}
		e := newListenerEnvOver(t, tr, addr, cfg, cfg)
		e.handle("sink", benchSink)
		final, err := Wait(Call(context.Background(), e.caller, Request{Name: "sink"}, counting(8, 3<<20, new(atomic.Int64))))
		var got int
		if err == nil {
			err = final.Decode(&got)
		}
		if err != nil || got != 8 {
			t.Fatalf("flow: %v, %d of 8 packets", err, got)
		}
	})
}

// rawSink records what a raw adapter link gets.
type rawSink struct {
	closed chan error
}

func (s *rawSink) Receive(uint8, []byte) {}
func (s *rawSink) Closed(err error)      { s.closed <- err }

// TestTransportBadFrame: bytes that are no frame end the link, without a
// panic or a leak.
func TestTransportBadFrame(t *testing.T) {
	forEachAdapter(t, func(t *testing.T, tr transport.Transport, addr string) {
		srv, err := Listen(ServerConfig{Addr: addr, Transport: tr})
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		sink := &rawSink{closed: make(chan error, 1)}
		l, err := tr.Dial(ctx, srv.Addr(), transportConfig(), sink)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Abort()
		if err := l.Send(0, transport.Reliable, []byte{0xc1, 0xff, 0x00}); err != nil {
			t.Fatal(err)
		}
		wait(t, sink.closed, "the server to close the link")
	})
}

// TestTransportLossyRefused: ENet's links are lossy (transport.Lossy), so
// they carry no dedicated flow connection: Dial says so, and Listen refuses
// them.
func TestTransportLossyRefused(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() { nettest.CheckGoroutines(t, before) })
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()

	t.Run("dial", func(t *testing.T) {
		tr := newENet(t)
		ln, err := tr.Listen("127.0.0.1:0", transportConfig(), func(transport.Link) transport.Sink {
			return &rawSink{closed: make(chan error, 1)}
		})
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		_, err = Dial(ctx, ln.Addr(), ClientConfig{Transport: tr})
		if err == nil || !strings.Contains(err.Error(), "lossy") {
			t.Fatalf("Dial over enet: %v, want a lossy link refused", err)
		}
	})

	t.Run("listen", func(t *testing.T) {
		tr := newENet(t)
		srv, err := Listen(ServerConfig{Addr: "127.0.0.1:0", Transport: tr, HandshakeTimeout: 10 * deadline})
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		sink := &rawSink{closed: make(chan error, 1)}
		l, err := tr.Dial(ctx, srv.Addr(), transportConfig(), sink)
		if err != nil {
			return // refused during the connect
		}
		defer l.Abort()
		// An accepted link would wait for flow_hello for HandshakeTimeout,
		// far past the test's deadline.
		wait(t, sink.closed, "the server to refuse the lossy link")
	})
}

func newENet(t *testing.T) *enet.Transport {
	tr, err := enet.New(nil)
	if err != nil {
		t.Fatalf("enet: %v (the lossy-link check needs cgo)", err)
	}
	return tr
}

// TestTransportDropBothEnds: the transport link aborted under a flow ends
// it with ErrConnLost at both ends, from either side.
func TestTransportDropBothEnds(t *testing.T) {
	forEachAdapter(t, func(t *testing.T, tr transport.Transport, addr string) {
		for _, side := range []string{"client", "server"} {
			t.Run(side, func(t *testing.T) {
				e := newListenerEnvOver(t, tr, addr, Config{}, Config{})
				started, ended := make(chan struct{}), make(chan error, 1)
				abortHandler(e, started, ended)
				go func() {
					<-started
					if side == "client" {
						e.dropClient()
					} else {
						e.killServer()
					}
				}()
				_, err := Wait(Call(context.Background(), e.caller, Request{Name: "sink"}, counting(-1, 10, new(atomic.Int64))))
				if !errors.Is(err, ErrConnLost) {
					t.Fatalf("client got %v, want ErrConnLost", err)
				}
				if herr := wait(t, ended, "the handler's range to end"); !errors.Is(herr, ErrConnLost) {
					t.Fatalf("handler's range ended with %v, want ErrConnLost", herr)
				}
			})
		}
	})
}


// TestTransportSlowFlowAlone: a handler that stops reading holds up its own
// flow only; another flow on the same link runs to its end meanwhile.
func TestTransportSlowFlowAlone(t *testing.T) {
	forEachAdapter(t, func(t *testing.T, tr transport.Transport, addr string) {
		cfg := Config{Window: 256 << 10, ChunkSize: 32 << 10}
		e := newListenerEnvOver(t, tr, addr, cfg, cfg)
		release, stuck := make(chan struct{}), make(chan struct{})
		e.handle("slow", func(f *Flow, r *Reply) (any, error) {
			n := 0
			for _, err := range f.Packets() {
				if err != nil {
					return nil, err
				}
				if n++; n == 1 {
					close(stuck)
					select {
					case <-release:
					case <-f.Context().Done():
						return nil, f.Context().Err()
					}
				}
			}
			return n, nil
		})
		e.handle("sink", benchSink)
		slow := make(chan error, 1)
		go func() {
			// Far more than the window: the sender must wait for the handler.
			_, err := Wait(Call(context.Background(), e.caller, Request{Name: "slow"}, counting(2000, 1000, new(atomic.Int64))))
			slow <- err
		}()
		wait(t, stuck, "the slow handler to hold its first packet")
		const n = 256 // 16 MiB, 64 windows
		final, err := Wait(Call(context.Background(), e.caller, Request{Name: "sink"}, counting(n, 64<<10, new(atomic.Int64))))
		var got int
		if err == nil {
			err = final.Decode(&got)
		}
		if err != nil || got != n {
			t.Fatalf("the other flow: %v, %d of %d packets", err, got, n)
		}
		select {
		case err := <-slow:
			t.Fatalf("the slow flow ended while its handler was stuck: %v", err)
		default:
		}
		close(release)
		if err := wait(t, slow, "the slow flow"); err != nil {
			t.Fatal(err)
		}
	})
}
