package net_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gonetic/gonetic/adapters/tcp"
	gnet "github.com/gonetic/gonetic/net"
)

// ZoneLink is the handler of a link between two zone servers, on either
// end: one handler struct, whichever server dialed.
type ZoneLink struct {
	gnet.Handler
	zone  string
	heard *int // greetings heard, on both ends: one game loop runs both
}

// OnConnect greets the other zone.
func (h *ZoneLink) OnConnect() {
	fmt.Printf("%s: link open\n", h.zone)
	_ = h.Conn().Send(&ChatMsg{Player: h.zone, Msg: "hello"})
}

// NetChatMsg prints what the other zone says.
func (h *ZoneLink) NetChatMsg(m ChatMsg) {
	fmt.Printf("%s hears %s: %s\n", h.zone, m.Player, m.Msg)
	*h.heard++
}

// Two zone servers linked to each other: zone-a connects to zone-b, which
// checks that the hello names a zone; then both send on the link, and each
// handles what the other sends in its own Update, as it does its players'.
func ExampleServer_Connect() {
	heard := 0
	zoneB, err := gnet.Listen(gnet.ServerConfig{
		Config: gnet.Config{Factory: chatFactory()},
		Approve: func(_ context.Context, h gnet.Hello) (any, error) {
			if name, ok := strings.CutPrefix(string(h.Data), "zone:"); ok {
				return name, nil
			}
			return nil, errors.New("not a zone server")
		},
		NewHandler: func() any { return &ZoneLink{zone: "zone-b", heard: &heard} },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer zoneB.Close()
	zoneA, err := gnet.Listen(gnet.ServerConfig{Config: gnet.Config{Factory: chatFactory()}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer zoneA.Close()

	// Any adapter will do, whichever zone-a listens with.
	_, err = zoneA.Connect(tcp.New(tcp.Options{}), zoneB.Addr(), &ZoneLink{zone: "zone-a", heard: &heard}, gnet.WithHello([]byte("zone:zone-a")))
	if err != nil {
		fmt.Println(err)
		return
	}
	for heard < 2 { // both game loops, one after the other
		_ = zoneB.Update(time.Millisecond)
		_ = zoneA.Update(time.Millisecond)
	}
	for c := range zoneB.Connections(nil) {
		fmt.Println("zone-b's link is from", c.Identity())
	}
	// Unordered output:
	// zone-b: link open
	// zone-a: link open
	// zone-b hears zone-a: hello
	// zone-a hears zone-b: hello
	// zone-b's link is from zone-a
}
