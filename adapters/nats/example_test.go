package nats_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gonetic/gonetic/adapters/nats"
	"github.com/gonetic/gonetic/net/transport"
	"github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"
)

// printer prints what a link receives.
type printer struct{ closed chan error }

func (p printer) Receive(ch uint8, payload []byte) {
	fmt.Printf("zone-1 got %q on channel %d\n", payload, ch)
}
func (p printer) Closed(err error) { p.closed <- err }

// Two nodes, each with its own NATS connection to one embedded server:
// zone-2 dials zone-1's "net" service and sends it a payload. Watch the
// subjects with `nats sub 'gonetic.>'`.
func Example() {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true})
	if err != nil {
		panic(err)
	}
	ns.Start()
	defer ns.WaitForShutdown()
	defer ns.Shutdown()
	if !ns.ReadyForConnections(5 * time.Second) {
		panic("nats-server not ready")
	}

	var conns []*natsgo.Conn // the caller's to close: the adapter never does
	defer func() {
		for _, nc := range conns {
			nc.Close()
		}
	}()
	node := func(id string) *nats.Transport {
		nc, err := natsgo.Connect(ns.ClientURL())
		if err != nil {
			panic(err)
		}
		conns = append(conns, nc)
		tr, err := nats.New(nats.Options{Conn: nc, ID: id})
		if err != nil {
			panic(err)
		}
		return tr
	}
	zone1, zone2 := node("zone-1"), node("zone-2")

	got := printer{closed: make(chan error, 1)}
	ln, err := zone1.Listen("net", transport.Config{}, func(transport.Link) transport.Sink { return got })
	if err != nil {
		panic(err)
	}
	fmt.Println("listening at", ln.Addr())

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	link, err := zone2.Dial(ctx, "zone-1/net", transport.Config{}, printer{closed: make(chan error, 1)})
	if err != nil {
		panic(err)
	}
	_ = link.Send(0, transport.Reliable, []byte("hello from zone-2"))
	link.Close()
	fmt.Println("zone-1's link ended:", <-got.closed)
	_ = ln.Close()

	_, err = zone2.Dial(ctx, "zone-3/net", transport.Config{}, got)
	fmt.Println(err)
	// Output:
	// listening at zone-1/net
	// zone-1 got "hello from zone-2" on channel 0
	// zone-1's link ended: EOF
	// nats: no gonetic listener at zone-3/net on NATS (is the node up?)
}
