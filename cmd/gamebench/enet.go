//go:build cgo

package main

import (
	"github.com/gonetic/gonetic/adapters/enet"
	"github.com/gonetic/gonetic/net/transport"
)

// The ENet adapter needs cgo and libenet, so it registers itself here, with
// the default Options.
func init() {
	transports["enet"] = func() (transport.Transport, error) { return enet.New(nil) }
}
