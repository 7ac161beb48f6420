//go:build !cgo

package enet

import (
	"context"
	"testing"

	"github.com/gonetic/gonetic/net/transport"
)

func TestNeedsCgo(t *testing.T) {
	if _, err := New(nil); err != errNoCgo {
		t.Errorf("New: %v", err)
	}
	var tr Transport
	if _, err := tr.Listen("127.0.0.1:0", transport.Config{}, nil); err != errNoCgo {
		t.Errorf("Listen: %v", err)
	}
	if _, err := tr.Dial(context.Background(), "127.0.0.1:1", transport.Config{}, nil); err != errNoCgo {
		t.Errorf("Dial: %v", err)
	}
}
