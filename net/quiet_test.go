package net_test

import (
	stdnet "net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/enet"
	"github.com/gonetic/gonetic/message"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/nettest"
	"github.com/gonetic/gonetic/net/transport"
)

// TestRefusalNotResentOverENet: a peer that never shows it receives at its
// address (its source may be forged) is sent no more bytes than it sent,
// however long it stays silent: its refusal, cut to the hello's size,
// goes once (transport.QuietCloser) instead of being resent until the
// peer times out (8.6 KB in 15 s for a 165-byte hello before). A UDP
// relay passes the client's ENet handshake and hello, then goes silent
// both ways, as the victim of a forged address would, and counts what the
// server sends after. ATTACK_FULL=1 watches the whole 15 s.
func TestRefusalNotResentOverENet(t *testing.T) {
	other := func() *message.Factory {
		f := gnet.NewFactory()
		message.MustRegister[nettest.Chat](f, message.Name("chat_msg"))
		return f
	}
	mk := func() transport.Transport {
		tr, err := enet.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	s, err := gnet.Listen(gnet.ServerConfig{Config: gnet.Config{Factory: suiteFactory(), Transport: mk()}, Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srvAddr, _ := stdnet.ResolveUDPAddr("udp", s.Addr())
	relay, err := stdnet.ListenUDP("udp", &stdnet.UDPAddr{IP: stdnet.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	var in, out, after atomic.Int64 // client→server bytes; server→client; server→client after the cut
	var cut atomic.Bool
	go func() {
		var client *stdnet.UDPAddr
		buf := make([]byte, 2048)
		for {
			n, from, err := relay.ReadFromUDP(buf)
			if err != nil {
				return
			}
			if from.Port == srvAddr.Port {
				out.Add(int64(n))
				if cut.Load() {
					after.Add(int64(n))
					continue
				}
				_, _ = relay.WriteToUDP(buf[:n], client)
				continue
			}
			client = from
			if cut.Load() {
				continue
			}
			in.Add(int64(n))
			_, _ = relay.WriteToUDP(buf[:n], srvAddr)
			if n >= 70 { // the datagram with the hello (a CONNECT is 52 bytes)
				cut.Store(true)
			}
		}
	}()
	c, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: other(), Transport: mk(), PingInterval: -1}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Connect(relay.LocalAddr().String(), nil); err != nil {
		t.Fatal(err)
	}
	end := time.Now().Add(15 * time.Second)
	for time.Now().Before(end) && (os.Getenv("ATTACK_FULL") != "" || after.Load() <= in.Load()) {
		_ = s.Update(10 * time.Millisecond)
		_ = c.Update(0)
	}
	t.Logf("cut %v: in %d, out %d, after the cut %d", cut.Load(), in.Load(), out.Load(), after.Load())
	if after.Load() > in.Load() {
		t.Errorf("the silent peer sent %d bytes in all; the server sent it %d after it went silent (%d in all)", in.Load(), after.Load(), out.Load())
	}
}
