package tcp_test

import (
	"context"
	"fmt"

	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/net/transport"
)

// printSink prints what arrives and reports the end on done.
type printSink struct {
	name string
	done chan error
}

func (s printSink) Receive(ch uint8, p []byte) {
	fmt.Printf("%s got %q on channel %d\n", s.name, p, ch)
}
func (s printSink) Closed(err error) { s.done <- err }

func Example() {
	tr := tcp.New(tcp.Options{})
	server := printSink{"server", make(chan error, 1)}
	ln, err := tr.Listen("127.0.0.1:0", transport.Config{}, func(transport.Link) transport.Sink { return server })
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ln.Close()

	client := printSink{"client", make(chan error, 1)}
	link, err := tr.Dial(context.Background(), ln.Addr(), transport.Config{}, client)
	if err != nil {
		fmt.Println(err)
		return
	}
	link.Send(0, transport.Reliable, []byte("hello"))
	link.Close() // sends what is queued first
	fmt.Println("server closed:", <-server.done)
	fmt.Println("client closed:", <-client.done)
	// Output:
	// server got "hello" on channel 0
	// server closed: EOF
	// client closed: <nil>
}
