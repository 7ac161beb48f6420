//go:build !cgo

package enet

import (
	"context"
	"errors"

	"github.com/gonetic/gonetic/net/transport"
)

var errNoCgo = errors.New("enet: the ENet adapter needs cgo and libenet (apt-get install libenet-dev; build with CGO_ENABLED=1)")

func available() error { return errNoCgo }

// Listen fails: this build has no cgo.
func (t *Transport) Listen(addr string, cfg transport.Config, accept transport.Accept) (transport.Listener, error) {
	return nil, errNoCgo
}

// Dial fails: this build has no cgo.
func (t *Transport) Dial(ctx context.Context, addr string, cfg transport.Config, sink transport.Sink) (transport.Link, error) {
	return nil, errNoCgo
}
