package net_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/mem"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/nettest"
	"github.com/gonetic/gonetic/net/transport"
)

// TestDialCancelled: Dial returns its context's error, wrapped, when the
// context ends before the connection opens.
func TestDialCancelled(t *testing.T) {
	cli, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{
		Factory: nettest.NewFactory(nil), Transport: new(silentTransport), HandshakeTimeout: time.Hour,
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := cli.Dial(ctx, "nowhere:1", nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Dial with a cancelled context: %v, want context.Canceled", err)
	}
}

// TestClosedEndpoints: Connect on a closed Client and Update on a closed
// Client or Server fail with ErrClosed.
func TestClosedEndpoints(t *testing.T) {
	nw := new(mem.Network)
	srv, err := gnet.Listen(gnet.ServerConfig{Config: gnet.Config{Factory: nettest.NewFactory(nil), Transport: nw}, Addr: "server:0"})
	if err != nil {
		t.Fatal(err)
	}
	cli, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: nettest.NewFactory(nil), Transport: nw}})
	if err != nil {
		t.Fatal(err)
	}
	addr := srv.Addr()
	srv.Close()
	cli.Close()
	if _, err := cli.Connect(addr, nil); !errors.Is(err, gnet.ErrClosed) {
		t.Errorf("Connect on a closed Client: %v, want ErrClosed", err)
	}
	if err := cli.Update(0); !errors.Is(err, gnet.ErrClosed) {
		t.Errorf("Client.Update after Close: %v, want ErrClosed", err)
	}
	if err := srv.Update(0); !errors.Is(err, gnet.ErrClosed) {
		t.Errorf("Server.Update after Close: %v, want ErrClosed", err)
	}
}

// TestConcurrentUpdate: Update while another goroutine is inside Update
// fails with ErrConcurrentUpdate at once.
func TestConcurrentUpdate(t *testing.T) {
	cli, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: nettest.NewFactory(nil), Transport: new(mem.Network)}})
	if err != nil {
		t.Fatal(err)
	}
	first := make(chan error, 1)
	go func() { first <- cli.Update(time.Hour) }()
	deadline := time.Now().Add(nettest.Deadline)
	for !waitingIn("net.(*inbox).take") { // the first Update waits for the network
		if time.Now().After(deadline) {
			t.Fatal("the first Update never waited")
		}
		runtime.Gosched()
	}
	second := make(chan error, 1)
	go func() { second <- cli.Update(0) }()
	select {
	case err := <-second:
		if !errors.Is(err, gnet.ErrConcurrentUpdate) {
			t.Errorf("a second Update at once: %v, want ErrConcurrentUpdate", err)
		}
	case <-time.After(nettest.Deadline):
		t.Error("a second Update waited for the first instead of failing")
	}
	cli.Close() // ends the first Update's wait
	select {
	case <-first:
	case <-time.After(nettest.Deadline):
		t.Fatal("Close did not end the waiting Update")
	}
}

// waitingIn reports whether some goroutine's stack holds fn.
func waitingIn(fn string) bool {
	buf := make([]byte, 1<<20)
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.Contains(g, fn) {
			return true
		}
	}
	return false
}

// TestClientHandshakeTimeout: a server that takes the link but never
// answers the hello ends the client's connection after HandshakeTimeout,
// with a reason that wraps ErrTimeout.
func TestClientHandshakeTimeout(t *testing.T) {
	nw := new(mem.Network)
	mute := muteSink{}
	ln, err := nw.Listen("mute:0", transport.Config{}, func(transport.Link) transport.Sink { return mute })
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cli, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{
		Factory: nettest.NewFactory(nil), Transport: nw, HandshakeTimeout: 100 * time.Millisecond,
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	h := &nettest.ChatHandler{}
	if _, err := cli.Connect(ln.Addr(), h); err != nil {
		t.Fatal(err)
	}
	nettest.Pump(t, func() bool { return h.Disconnected != nil }, cli)
	if !errors.Is(h.Disconnected, gnet.ErrTimeout) || !strings.Contains(h.Disconnected.Error(), "handshake timed out") {
		t.Fatalf("a handshake nobody answers ended with %v, want ErrTimeout", h.Disconnected)
	}
	if h.Connects != 0 {
		t.Fatal("OnConnect ran without a welcome")
	}
}

// muteSink takes a link and ignores what arrives.
type muteSink struct{}

func (muteSink) Receive(uint8, []byte) {}
func (muteSink) Closed(error)          {}
