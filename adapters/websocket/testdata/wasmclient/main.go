//go:build js

// Command wasmclient is the browser side of TestWasmClient: built with
// GOOS=js GOARCH=wasm and run by Node, it dials the URL in its first
// argument with the adapter, sends a payload on channel 1, waits for the
// echo and closes; then dials again and asks for a message over its
// MaxPayload. It exits 0 only if all went as the contract says.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/gonetic/gonetic/adapters/websocket"
	"github.com/gonetic/gonetic/net/transport"
)

type sink struct {
	got    chan string
	closed chan error
}

func (s sink) Receive(ch uint8, p []byte) { s.got <- fmt.Sprintf("%d:%s", ch, p) }
func (s sink) Closed(err error)           { s.closed <- err }

func main() {
	if err := run(os.Args[1]); err != nil {
		fmt.Println("FAIL:", err)
		os.Exit(1)
	}
	fmt.Println("OK")
}

func run(url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tr := websocket.New(websocket.Options{})
	cfg := transport.Config{Channels: 2, MaxPayload: 64}

	s := sink{make(chan string, 4), make(chan error, 1)}
	l, err := tr.Dial(ctx, url, cfg, s)
	if err != nil {
		return err
	}
	if err := l.Send(1, transport.Reliable, []byte("hello from wasm")); err != nil {
		return err
	}
	select {
	case got := <-s.got:
		if got != "1:hello from wasm" {
			return fmt.Errorf("echo %q", got)
		}
	case <-ctx.Done():
		return fmt.Errorf("no echo")
	}
	l.Close()
	select {
	case err := <-s.closed:
		if err != nil {
			return fmt.Errorf("Closed(%v) after Close, want nil", err)
		}
	case <-ctx.Done():
		return fmt.Errorf("no Closed after Close")
	}

	// The server answers this with a message over the limit: the link must
	// end with a FrameError.
	s = sink{make(chan string, 4), make(chan error, 1)}
	if l, err = tr.Dial(ctx, url, cfg, s); err != nil {
		return err
	}
	if err := l.Send(0, transport.Reliable, []byte("send me too much")); err != nil {
		return err
	}
	select {
	case err := <-s.closed:
		if fe, ok := err.(*transport.FrameError); !ok || !fe.TooLarge {
			return fmt.Errorf("Closed(%v), want a FrameError for the oversized message", err)
		}
	case <-ctx.Done():
		return fmt.Errorf("no Closed")
	}
	fmt.Println("RemoteAddr", l.RemoteAddr())
	return nil
}
