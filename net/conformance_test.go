package net_test

import (
	"testing"

	"github.com/gonetic/gonetic/adapters/mem"
	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/net/nettest"
	"github.com/gonetic/gonetic/net/transport"
)

func TestConformanceTCP(t *testing.T) {
	nettest.Run(t, nettest.Adapter{
		New:  func(testing.TB) transport.Transport { return tcp.New(tcp.Options{}) },
		Addr: "127.0.0.1:0",
	})
}

func TestConformanceMem(t *testing.T) {
	nw := new(mem.Network)
	nettest.Run(t, nettest.Adapter{
		New:  func(testing.TB) transport.Transport { return nw },
		Addr: "server:0",
	})
}
