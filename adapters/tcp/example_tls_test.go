package tcp_test

import (
	"crypto/tls"
	"crypto/x509"
	"log"
	"os"

	"github.com/gonetic/gonetic/adapters/tcp"
)

// A server with a certificate, and a client that trusts the authority that
// signed it. With a certificate from a public authority (Let's Encrypt),
// the client needs no RootCAs: the system's roots trust it.
func ExampleOptions_tls() {
	cert, err := tls.LoadX509KeyPair("server.crt", "server.key")
	if err != nil {
		log.Fatal(err)
	}
	server := tcp.New(tcp.Options{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}})

	pem, err := os.ReadFile("ca.crt")
	if err != nil {
		log.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	client := tcp.New(tcp.Options{TLS: &tls.Config{RootCAs: roots}})

	_, _ = server, client // server.Listen, client.Dial as without TLS
}
