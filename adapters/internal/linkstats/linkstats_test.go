package linkstats

import (
	"testing"

	"github.com/gonetic/gonetic/net/transport"
)

func TestStats(t *testing.T) {
	var c Counters
	if got := c.Stats(); got != (transport.Stats{}) {
		t.Fatalf("zero Counters: Stats() = %+v, want zero", got)
	}
	c.BytesSent.Add(1)
	c.BytesReceived.Add(2)
	c.PayloadsSent.Add(3)
	c.PayloadsReceived.Add(4)
	want := transport.Stats{BytesSent: 1, BytesReceived: 2, PayloadsSent: 3, PayloadsReceived: 4}
	if got := c.Stats(); got != want {
		t.Fatalf("Stats() = %+v, want %+v", got, want)
	}
}
