//go:build cgo

package enet_test

import (
	"context"
	"testing"
	"time"

	"github.com/gonetic/gonetic/net/nettest"
	"github.com/gonetic/gonetic/net/transport"
)

var t0 = time.Now()

type logTr struct {
	transport.Transport
	t    testing.TB
	name string
}

type logSink struct {
	transport.Sink
	t    testing.TB
	name string
}

func (s logSink) Receive(ch uint8, p []byte) {
	s.t.Logf("%8.3f %s recv ch%d %q", time.Since(t0).Seconds(), s.name, ch, p[:min(len(p), 30)])
	s.Sink.Receive(ch, p)
}
func (s logSink) Closed(err error) {
	s.t.Logf("%8.3f %s closed %v", time.Since(t0).Seconds(), s.name, err)
	s.Sink.Closed(err)
}

type logLink struct {
	transport.Link
	t    testing.TB
	name string
}

func (l logLink) Send(ch uint8, d transport.Delivery, p []byte) error {
	err := l.Link.Send(ch, d, p)
	l.t.Logf("%8.3f %s send ch%d %q %v", time.Since(t0).Seconds(), l.name, ch, p[:min(len(p), 30)], err)
	return err
}
func (l logLink) Close() { l.t.Logf("%8.3f %s Close", time.Since(t0).Seconds(), l.name); l.Link.Close() }
func (l logLink) Abort() { l.t.Logf("%8.3f %s Abort", time.Since(t0).Seconds(), l.name); l.Link.Abort() }

func (tr logTr) Listen(addr string, cfg transport.Config, acc transport.Accept) (transport.Listener, error) {
	return tr.Transport.Listen(addr, cfg, func(l transport.Link) transport.Sink {
		n := tr.name + "-srv"
		tr.t.Logf("%8.3f %s accept", time.Since(t0).Seconds(), n)
		s := acc(logLink{l, tr.t, n})
		if s == nil {
			return nil
		}
		return logSink{s, tr.t, n}
	})
}
func (tr logTr) Dial(ctx context.Context, addr string, cfg transport.Config, s transport.Sink) (transport.Link, error) {
	n := tr.name + "-cli"
	tr.t.Logf("%8.3f %s dial", time.Since(t0).Seconds(), n)
	l, err := tr.Transport.Dial(ctx, addr, cfg, logSink{s, tr.t, n})
	tr.t.Logf("%8.3f %s dialed %v", time.Since(t0).Seconds(), n, err)
	if err != nil {
		return nil, err
	}
	return logLink{l, tr.t, n}, nil
}

func TestDebugNet(t *testing.T) {
	i := 0
	nettest.Run(t, nettest.Adapter{
		New: func(t testing.TB) transport.Transport {
			i++
			return logTr{newENet(t.(*testing.T)), t, string(rune('A' + i - 1))}
		},
		Addr: "127.0.0.1:0",
	})
}
