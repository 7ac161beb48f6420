//go:build js

package websocket

import (
	"errors"
	"net/http"

	"github.com/gonetic/gonetic/net/transport"
)

// Listen fails in the browser (GOOS=js), which cannot accept connections.
func (t *Transport) Listen(string, transport.Config, transport.Accept) (transport.Listener, error) {
	return nil, errors.New("websocket: Listen is not available in the browser (GOOS=js); only Dial is")
}

// ServeHTTP answers 501 Not Implemented in the browser (GOOS=js).
func (t *Transport) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	http.Error(w, "websocket: no server in the browser", http.StatusNotImplemented)
}

// mount is empty in the browser, which serves nothing.
//
//lint:ignore U1000 Transport keeps one layout on every platform.
type mount struct{}
