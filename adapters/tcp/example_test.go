package tcp_test

import (
	"context"
	"fmt"
	"io"
	stdnet "net"

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

// A server speaking Twisted's byte-count framing, "<length> <payload>", to
// a raw TCP client.
func ExampleByteCount() {
	tr := tcp.New(tcp.Options{Framing: tcp.ByteCount{}})
	server := printSink{"server", make(chan error, 1)}
	ln, err := tr.Listen("127.0.0.1:0", transport.Config{}, func(transport.Link) transport.Sink { return server })
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ln.Close()

	c, err := stdnet.Dial("tcp", ln.Addr())
	if err != nil {
		fmt.Println(err)
		return
	}
	c.Write([]byte("5 hello0 3 abc")) // three frames; the second is empty
	c.Close()
	fmt.Println("server closed:", <-server.done)
	// Output:
	// server got "hello" on channel 0
	// server got "" on channel 0
	// server got "abc" on channel 0
	// server closed: EOF
}

// lineSink is a Sink that tells the peer why its link ends.
type lineSink struct {
	printSink
	link transport.Link
}

// Farewell answers a line that is too long; the adapter then closes the
// link gracefully, so the answer is sent first.
func (s lineSink) Farewell(error) { s.link.Send(0, transport.Reliable, []byte("-ERR too long")) }

// A line protocol whose Sink answers a line that is too long before the
// adapter closes the link.
func ExampleFarewell() {
	tr := tcp.New(tcp.Options{Framing: tcp.Lines{CRLF: true}})
	server := printSink{"server", make(chan error, 1)}
	ln, err := tr.Listen("127.0.0.1:0", transport.Config{MaxPayload: 16}, func(l transport.Link) transport.Sink { return lineSink{server, l} })
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ln.Close()

	c, err := stdnet.Dial("tcp", ln.Addr())
	if err != nil {
		fmt.Println(err)
		return
	}
	c.Write([]byte("PING\r\nTHIS LINE IS FAR TOO LONG\r\n"))
	answer, _ := io.ReadAll(c) // until the server's end of stream
	c.Close()
	fmt.Printf("client read %q\n", answer)
	fmt.Println("server closed:", <-server.done)
	// Output:
	// server got "PING" on channel 0
	// client read "-ERR too long\r\n"
	// server closed: transport: bad frame from peer: line longer than the 16-byte limit
}
