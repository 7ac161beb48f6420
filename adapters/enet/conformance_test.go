//go:build cgo

package enet_test

import (
	"testing"

	"github.com/gonetic/gonetic/adapters/enet"
	"github.com/gonetic/gonetic/adapters/internal/transporttest"
	"github.com/gonetic/gonetic/net/transport"
)

func newENet(t *testing.T) transport.Transport {
	tr, err := enet.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestConformance(t *testing.T) {
	transporttest.Run(t, newENet, "127.0.0.1:0", transporttest.Options{KeepsChannel: true})
}

func TestConformanceChannels(t *testing.T) {
	transporttest.Run(t, newENet, "127.0.0.1:0", transporttest.Options{Channels: 4, KeepsChannel: true})
}
