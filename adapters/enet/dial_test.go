//go:build cgo

package enet_test

import (
	stdnet "net"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/enet"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/nettest"
)

// TestClientCloseDuringADial: a Client connecting over ENet to a peer that
// never answers closes at once, however long its handshake timeout: Close
// cancels the dial instead of waiting for it (it once waited 9.7 s).
func TestClientCloseDuringADial(t *testing.T) {
	mute, err := stdnet.ListenPacket("udp", "127.0.0.1:0") // reads nothing, answers nothing
	if err != nil {
		t.Fatal(err)
	}
	defer mute.Close()
	tr, err := enet.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{
		Factory: nettest.NewFactory(nil), Transport: tr, HandshakeTimeout: time.Hour,
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Connect(mute.LocalAddr().String(), nil); err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() { cli.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(nettest.Deadline):
		t.Fatal("Client.Close waited for an ENet dial to a peer that never answers")
	}
}
