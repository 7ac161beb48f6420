//go:build !js

package websocket_test

import (
	"testing"
	"time"

	cws "github.com/coder/websocket"
	"github.com/gonetic/gonetic/adapters/msgpack"
	"github.com/gonetic/gonetic/adapters/websocket"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/nettest"
)

// TestTooLargeSaysBye: a browser-like peer that sends a message over
// gonetic's limit reads back net's bye with the reason, then close status
// 1009.
func TestTooLargeSaysBye(t *testing.T) {
	const limit = 1000
	s, err := gnet.Listen(gnet.ServerConfig{
		Config:     gnet.Config{Factory: nettest.NewFactory(nil), MaxMessageSize: limit, Transport: websocket.New(websocket.Options{})},
		Addr:       "127.0.0.1:0",
		NewHandler: func() any { return &nettest.ChatHandler{} },
	})
	if err != nil {
		t.Fatal(err)
	}
	stop, pumped := make(chan struct{}), make(chan struct{})
	go func() { // the game loop
		defer close(pumped)
		for {
			select {
			case <-stop:
				return
			default:
				_ = s.Update(time.Millisecond)
			}
		}
	}()
	defer func() { close(stop); <-pumped; s.Close() }()

	c, _, err := rawDial(t, "ws://"+s.Addr()+"/", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Write(ctx(t), cws.MessageBinary, append([]byte{0}, nettest.Hello(nettest.NewFactory(nil))...)); err != nil {
		t.Fatal(err)
	}
	if _, p, err := c.Read(ctx(t)); err != nil || len(p) < 2 || p[0] != 0 || p[1] != 0 {
		t.Fatalf("answer to the hello: %q %v, want welcome on channel 0", p, err)
	}
	if err := c.Write(ctx(t), cws.MessageBinary, make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	_, p, err := c.Read(ctx(t))
	if err != nil || len(p) < 2 || p[0] != 0 || p[1] != 0 {
		t.Fatalf("got %q %v, want a control payload on channel 0", p, err)
	}
	r := msgpack.New().NewReader()
	r.Reset(p[2:])
	n, _ := r.Array()
	kind, _ := r.String()
	reason, err := r.String()
	const want = "too large: a message of more than 1001 bytes, the limit is 1 channel byte + MaxPayload 1000"
	if n != 2 || kind != "bye" || reason != want || err != nil {
		t.Fatalf("got [%s %q] (%d elements, %v); want bye %q", kind, reason, n, err, want)
	}
	if _, _, err := c.Read(ctx(t)); cws.CloseStatus(err) != cws.StatusMessageTooBig {
		t.Fatalf("after bye: %v, want close status 1009", err)
	}
}
