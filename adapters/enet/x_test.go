//go:build cgo

package enet

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/gonetic/gonetic/net/transport"
)

type tsSink struct{ ch chan time.Time }

func (s *tsSink) Receive(uint8, []byte) { s.ch <- time.Now() }
func (s *tsSink) Closed(error)          {}

func TestXLatency(t *testing.T) {
	tr := newTransport(t, nil)
	ss := &tsSink{make(chan time.Time, 16)}
	var sl transport.Link
	got := make(chan transport.Link, 1)
	ln, _ := tr.Listen("127.0.0.1:0", transport.Config{}, func(l transport.Link) transport.Sink { got <- l; return ss })
	defer ln.Close()
	cs := &tsSink{make(chan time.Time, 16)}
	cl, err := tr.Dial(context.Background(), ln.Addr(), transport.Config{}, cs)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	sl = <-got
	var up, down []time.Duration
	p := make([]byte, 19)
	for range 2000 {
		t0 := time.Now()
		cl.Send(0, transport.Reliable, p)
		t1 := <-ss.ch
		sl.Send(0, transport.Reliable, p)
		t2 := time.Now()
		t3 := <-cs.ch
		up = append(up, t1.Sub(t0))
		down = append(down, t3.Sub(t2))
	}
	slices.Sort(up)
	slices.Sort(down)
	t.Logf("up median %v p90 %v; down median %v p90 %v", up[1000], up[1800], down[1000], down[1800])
}
