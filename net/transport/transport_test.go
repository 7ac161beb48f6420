package transport_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/net/transport"
)

func TestQueueFull(t *testing.T) {
	err := transport.QueueFull("x: send queue full; raise Options.Limit")
	if err.Error() != "x: send queue full; raise Options.Limit" {
		t.Errorf("Error() = %q, want the adapter's message", err.Error())
	}
	if !errors.Is(err, transport.ErrQueueFull) {
		t.Error("an adapter's queue-full error does not match transport.ErrQueueFull")
	}
	if !errors.Is(fmt.Errorf("send chat: %w", err), transport.ErrQueueFull) {
		t.Error("a wrapped queue-full error does not match transport.ErrQueueFull")
	}
	if errors.Is(err, transport.ErrClosed) || errors.Is(transport.ErrClosed, transport.ErrQueueFull) {
		t.Error("queue-full and closed errors match each other")
	}
}

// Game code tells a full send queue apart with errors.Is and
// transport.ErrQueueFull, not with one adapter's error, so that swapping
// the adapter changes no code.
func ExampleErrQueueFull() {
	err := fmt.Errorf("send chat_msg: %w", tcp.ErrQueueFull) // as Conn.Send might return it
	if errors.Is(err, transport.ErrQueueFull) {
		fmt.Println("the peer is behind: call Update, then send again")
	}
	// Output: the peer is behind: call Update, then send again
}

// The zero Config means one channel and DefaultMaxPayload; set fields stay.
func TestConfigWithDefaults(t *testing.T) {
	if got := (transport.Config{}).WithDefaults(); got != (transport.Config{Channels: 1, MaxPayload: transport.DefaultMaxPayload}) {
		t.Errorf("zero Config.WithDefaults() = %+v", got)
	}
	if got := (transport.Config{Channels: -1, MaxPayload: -1}).WithDefaults(); got != (transport.Config{Channels: 1, MaxPayload: transport.DefaultMaxPayload}) {
		t.Errorf("negative Config.WithDefaults() = %+v", got)
	}
	if got := (transport.Config{Channels: 3, MaxPayload: 100}).WithDefaults(); got != (transport.Config{Channels: 3, MaxPayload: 100}) {
		t.Errorf("set Config.WithDefaults() = %+v", got)
	}
}

// The three modes are valid and named; anything else is neither.
func TestDelivery(t *testing.T) {
	for d, name := range map[transport.Delivery]string{
		transport.Reliable: "reliable", transport.Sequenced: "sequenced", transport.Unsequenced: "unsequenced",
		transport.Unsequenced + 1: "delivery(3)",
	} {
		if d.String() != name || d.Valid() != (d <= transport.Unsequenced) {
			t.Errorf("Delivery %d: String %q, Valid %v", uint8(d), d.String(), d.Valid())
		}
	}
}
