package main

import (
	"fmt"
	"io"
	"log/slog"
	stdnet "net"

	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/net/transport"
)

// An echo server on a free port, and a client that sends it two frames of
// the byte-count protocol.
func ExampleListenTCP() {
	log := slog.New(slog.DiscardHandler)
	ln, err := ListenTCP("127.0.0.1:0", tcp.Options{Framing: Framing{}}, transport.Config{}, NewEchoFactory(log))
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
	defer c.Close()
	c.Write([]byte("6 hello 5 world"))
	c.(*stdnet.TCPConn).CloseWrite()
	echo, _ := io.ReadAll(c)
	fmt.Printf("%s\n", echo)
	// Output: hello world
}
