package mem_test

import (
	"context"
	"fmt"

	"github.com/gonetic/gonetic/adapters/mem"
	"github.com/gonetic/gonetic/net/transport"
)

type printSink struct {
	name string
	done chan error
}

func (s printSink) Receive(ch uint8, p []byte) {
	fmt.Printf("%s got %q on channel %d\n", s.name, p, ch)
}
func (s printSink) Closed(err error) { s.done <- err }

func Example() {
	var network mem.Network // no sockets; links stay in this process
	cfg := transport.Config{Channels: 2}
	server := printSink{"server", make(chan error, 1)}
	ln, err := network.Listen("server:0", cfg, func(transport.Link) transport.Sink { return server })
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ln.Close()

	client := printSink{"client", make(chan error, 1)}
	link, err := network.Dial(context.Background(), ln.Addr(), cfg, client)
	if err != nil {
		fmt.Println(err)
		return
	}
	link.Send(1, transport.Reliable, []byte("hello"))
	link.Close()
	fmt.Println("server closed:", <-server.done)
	fmt.Println("client closed:", <-client.done)
	// Output:
	// server got "hello" on channel 1
	// server closed: EOF
	// client closed: <nil>
}
