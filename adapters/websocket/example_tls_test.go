//go:build !js

package websocket_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log"
	"net/http"
	"os"

	"github.com/gonetic/gonetic/adapters/websocket"
	"github.com/gonetic/gonetic/net/transport"
)

// wss: the game's own https server serves the Transport beside its pages,
// and a native client trusts the authority that signed the certificate. A
// browser dials the same URL and trusts its own roots.
func ExampleOptions_tls() {
	ws := websocket.New(websocket.Options{})
	ln, err := ws.Listen("", transport.Config{}, func(transport.Link) transport.Sink { return nil })
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	mux := http.NewServeMux()
	mux.Handle("/play", ws)
	go func() { log.Print(http.ListenAndServeTLS(":443", "server.crt", "server.key", mux)) }()

	pem, err := os.ReadFile("ca.crt")
	if err != nil {
		log.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	client := websocket.New(websocket.Options{TLS: &tls.Config{RootCAs: roots}})
	sink := printSink{name: "client", done: make(chan error, 1)}
	if _, err := client.Dial(context.Background(), "wss://game.example.com/play", transport.Config{}, sink); err != nil {
		log.Fatal(err) // names the fix when the certificate is not trusted
	}
}
