//go:build cgo

package main

import (
	"os"
	"strconv"

	"github.com/gonetic/gonetic/adapters/enet"
	"github.com/gonetic/gonetic/net/transport"
)

// The ENet adapter needs cgo and libenet, so it registers itself here.
//
// Options are the defaults but for QueueLimit: the oneway client backs off
// only on tcp.ErrQueueFull, and its default 2,000,000 chats (35 bytes each
// against the limit) would overflow enet's 64 MiB and end the run with
// enet.ErrQueueFull; with 1 GiB the link queues what ENet cannot take yet
// in Go, which the adapter hands to ENet in bounded batches anyway.
// GBENCH_ENET_PEERLIMIT sets Options.PeerLimit (default enet.DefaultPeerLimit), to measure
// what the listener's slot count costs; GBENCH_ENET_POLL=all|dialed|none sets Options.Poll,
// to measure servicing a host on its own goroutine only against servicing it in Update too.
func init() {
	transports["enet"] = func() transport.Transport {
		opts := &enet.Options{QueueLimit: 1 << 30}
		if s := os.Getenv("GBENCH_ENET_PEERLIMIT"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				fail("GBENCH_ENET_PEERLIMIT: %v", err)
			}
			opts.PeerLimit = n
		}
		switch p := os.Getenv("GBENCH_ENET_POLL"); p {
		case "", "dialed":
		case "all":
			opts.Poll = enet.PollAll
		case "none":
			opts.Poll = enet.PollNone
		default:
			fail("GBENCH_ENET_POLL=%q: want all, dialed or none", p)
		}
		tr, err := enet.New(opts)
		if err != nil {
			fail("%v", err)
		}
		return tr
	}
}
