//go:build cgo

package enet_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gonetic/gonetic/adapters/enet"
	"github.com/gonetic/gonetic/net/transport"
)

// printer is a Sink that sends what arrives to a channel.
type printer chan string

func (p printer) Receive(ch uint8, payload []byte) { p <- fmt.Sprintf("channel %d: %s", ch, payload) }
func (p printer) Closed(err error)                 { p <- fmt.Sprintf("closed: %v", err) }

func Example() {
	tr, err := enet.New(&enet.Options{PeerLimit: 16})
	if err != nil {
		fmt.Println(err) // built without cgo
		return
	}
	cfg := transport.Config{Channels: 2}
	server := make(printer, 8)
	ln, err := tr.Listen("127.0.0.1:0", cfg, func(l transport.Link) transport.Sink { return server })
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ln.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := make(printer, 8)
	link, err := tr.Dial(ctx, ln.Addr(), cfg, client)
	if err != nil {
		fmt.Println(err)
		return
	}
	link.Send(1, transport.Reliable, []byte("hello"))
	// Sequenced and Unsequenced payloads may be dropped, even on loopback:
	// ENet throttles unreliable packets when the round trip time varies.
	link.Send(0, transport.Reliable, []byte("position 3,4"))
	link.Close() // flushes both, then disconnects
	for range 3 {
		fmt.Println(<-server)
	}
	fmt.Println(<-client)
	// Unordered output:
	// channel 1: hello
	// channel 0: position 3,4
	// closed: EOF
	// closed: <nil>
}
