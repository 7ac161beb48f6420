package sim_test

import (
	"context"
	"testing"

	"github.com/gonetic/gonetic/adapters/sim"
	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/net/transport"
)

type nopSink struct{}

func (nopSink) Receive(uint8, []byte) {}
func (nopSink) Closed(error)          {}

// TestWrapKeepsLossy: a wrapped ENet link still says that it may lose
// or reorder unreliable payloads (transport.Lossy), on both ends, and a
// wrapped TCP link does not.
func TestWrapKeepsLossy(t *testing.T) {
	for _, tc := range []struct {
		name  string
		tr    transport.Transport
		lossy bool
	}{
		{"enet", newENet(t), true},
		{"tcp", tcp.New(tcp.Options{}), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := wrap(t, tc.tr, sim.Config{})
			accepted := make(chan bool, 1)
			l, err := w.Listen("127.0.0.1:0", transport.Config{}, func(l transport.Link) transport.Sink {
				_, ok := l.(transport.Lossy)
				accepted <- ok
				return nopSink{}
			})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			link, err := w.Dial(context.Background(), l.Addr(), transport.Config{}, nopSink{})
			if err != nil {
				t.Fatal(err)
			}
			defer link.Abort()
			if _, ok := link.(transport.Lossy); ok != tc.lossy {
				t.Errorf("dialled link Lossy: %v, want %v", ok, tc.lossy)
			}
			if ok := <-accepted; ok != tc.lossy {
				t.Errorf("accepted link Lossy: %v, want %v", ok, tc.lossy)
			}
		})
	}
}
