//go:build !noenet

package transports

import (
	"fmt"

	"github.com/gonetic/gonetic/adapters/enet"
	"github.com/gonetic/gonetic/net/transport"
)

func newENet() (transport.Transport, error) {
	t, err := enet.New(nil)
	if err != nil {
		return nil, fmt.Errorf("transport enet: %w", err)
	}
	return t, nil
}
