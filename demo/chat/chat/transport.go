package chat

import (
	"fmt"

	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/net/transport"
)

// Transports are the network adapters the chat programs offer, by name.
var Transports = []string{"tcp", "enet"}

// NewTransport returns the network adapter called name: "tcp" (the default
// when empty) or "enet". Both ends must use the same one.
func NewTransport(name string) (transport.Transport, error) {
	switch name {
	case "", "tcp":
		return tcp.New(tcp.Options{}), nil
	case "enet":
		return newENet()
	}
	return nil, fmt.Errorf("unknown transport %q: use tcp or enet", name)
}
