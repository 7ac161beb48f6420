//go:build cgo

package enet_test

import (
	"testing"

	"github.com/gonetic/gonetic/adapters/enet"
	"github.com/gonetic/gonetic/net/nettest"
	"github.com/gonetic/gonetic/net/transport"
)

// TestNetConformance runs package net's conformance suite over ENet: the
// game-loop layer (handshake, messages, bye, pings, shutdown) on real UDP
// sockets on the loopback.
func TestNetConformance(t *testing.T) {
	nettest.Run(t, nettest.Adapter{
		New: func(t testing.TB) transport.Transport {
			tr, err := enet.New(nil)
			if err != nil {
				t.Fatal(err)
			}
			return tr
		},
		Addr: "127.0.0.1:0",
	})
}
