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
// Options are the defaults but for QueueLimit, 1 GiB: the oneway client
// queues all of its messages at once and spins on Update(0) only when Send
// reports transport.ErrQueueFull. Measured both ways (1,000,000 chats):
// with the whole run queued in Go, 520–670 k msg/s; with a 64 KiB to
// 4 MiB limit, 380–500 k, the spinning client taking CPU from the
// adapter's goroutines. Either way the adapter hands ENet bounded batches.
//
// For measurements, GBENCH_ENET_QUEUE sets Options.QueueLimit,
// GBENCH_ENET_INFLIGHT Options.InFlight, GBENCH_ENET_PEERLIMIT
// Options.PeerLimit (what the listener's slot count costs), and
// GBENCH_ENET_BUNDLE=off sets Options.NoBundling (one ENet packet per
// message, as raw libenet sends them).
func init() {
	transports["enet"] = func() transport.Transport {
		opts := &enet.Options{QueueLimit: 1 << 30}
		if s := os.Getenv("GBENCH_ENET_QUEUE"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				fail("GBENCH_ENET_QUEUE: %v", err)
			}
			opts.QueueLimit = n
		}
		if s := os.Getenv("GBENCH_ENET_INFLIGHT"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				fail("GBENCH_ENET_INFLIGHT: %v", err)
			}
			opts.InFlight = n
		}
		if s := os.Getenv("GBENCH_ENET_PEERLIMIT"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				fail("GBENCH_ENET_PEERLIMIT: %v", err)
			}
			opts.PeerLimit = n
		}
		switch b := os.Getenv("GBENCH_ENET_BUNDLE"); b {
		case "", "on":
		case "off":
			opts.NoBundling = true
		default:
			fail("GBENCH_ENET_BUNDLE=%q: want on or off", b)
		}
		tr, err := enet.New(opts)
		if err != nil {
			fail("%v", err)
		}
		return tr
	}
}
