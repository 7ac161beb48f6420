// Package linkstats holds a link's traffic counters, which every adapter
// keeps the same way and reports as transport.Stats.
package linkstats

import (
	"sync/atomic"

	"github.com/gonetic/gonetic/net/transport"
)

// Counters are a link's traffic so far. The adapter decides what a byte
// counts (framing or not) and when a payload is sent; the fields are
// atomics so that its writer and reader add to them while any goroutine
// calls Stats. A link embeds Counters by value: adding is one atomic add,
// no call through a pointer. The zero value is ready to use.
type Counters struct {
	BytesSent, PayloadsSent         atomic.Uint64
	BytesReceived, PayloadsReceived atomic.Uint64
}

// Stats is a snapshot of the counters. Safe for concurrent use.
func (c *Counters) Stats() transport.Stats {
	return transport.Stats{
		BytesSent:        c.BytesSent.Load(),
		BytesReceived:    c.BytesReceived.Load(),
		PayloadsSent:     c.PayloadsSent.Load(),
		PayloadsReceived: c.PayloadsReceived.Load(),
	}
}
