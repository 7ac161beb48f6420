//go:build noenet

package transports

import (
	"errors"

	"github.com/gonetic/gonetic/net/transport"
)

func newENet() (transport.Transport, error) {
	return nil, errors.New("transport enet: this program was built with -tags noenet; " +
		"rebuild it without that tag (ENet needs cgo and libenet-dev: apt-get install libenet-dev)")
}
