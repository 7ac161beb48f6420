//go:build cgo

package main

import (
	"fmt"

	"github.com/gonetic/gonetic/adapters/enet"
	"github.com/gonetic/gonetic/net/transport"
)

// The ENet adapter needs cgo and libenet, so it registers itself here, with
// the default Options but for Poll.
func init() {
	transports["enet"] = func(poll string) (transport.Transport, error) {
		var opts enet.Options
		switch poll {
		case "", "dialed":
			opts.Poll = enet.PollDialed
		case "all":
			opts.Poll = enet.PollAll
		case "none":
			opts.Poll = enet.PollNone
		default:
			return nil, fmt.Errorf("-poll %q: want dialed, all or none", poll)
		}
		return enet.New(&opts)
	}
}
