//go:build !js

package websocket_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gonetic/gonetic/adapters/websocket"
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

// A listener on an address of its own, and a client dialing it.
func Example() {
	tr := websocket.New(websocket.Options{})
	server := printSink{"server", make(chan error, 1)}
	cfg := transport.Config{Channels: 2}
	ln, err := tr.Listen("127.0.0.1:0", cfg, func(transport.Link) transport.Sink { return server })
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ln.Close()

	client := printSink{"client", make(chan error, 1)}
	link, err := tr.Dial(context.Background(), ln.Addr(), cfg, client) // "host:port" is ws://host:port/
	if err != nil {
		fmt.Println(err)
		return
	}
	link.Send(1, transport.Reliable, []byte("hello"))
	link.Close() // sends what is queued first
	fmt.Println("server closed:", <-server.done)
	fmt.Println("client closed:", <-client.done)
	// Output:
	// server got "hello" on channel 1
	// server closed: EOF
	// client closed: <nil>
}

// The Transport mounted in a game's own HTTP server, beside its pages:
// one address serves the page and the players.
func ExampleTransport_ServeHTTP() {
	ws := websocket.New(websocket.Options{})
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "<html>the game</html>") })
	mux.Handle("/play", ws)
	hs := httptest.NewServer(mux) // the game's http.Server
	defer hs.Close()

	server := printSink{"server", make(chan error, 1)}
	ln, err := ws.Listen("", transport.Config{}, func(transport.Link) transport.Sink { return server })
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ln.Close()

	client := printSink{"client", make(chan error, 1)}
	url := "ws://" + strings.TrimPrefix(hs.URL, "http://") + "/play"
	link, err := websocket.New(websocket.Options{}).Dial(context.Background(), url, transport.Config{}, client)
	if err != nil {
		fmt.Println(err)
		return
	}
	link.Send(0, transport.Reliable, []byte("hello"))
	link.Close()
	fmt.Println("server closed:", <-server.done)
	// Output:
	// server got "hello" on channel 0
	// server closed: EOF
}
