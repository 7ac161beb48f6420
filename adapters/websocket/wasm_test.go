//go:build !js

package websocket_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gonetic/gonetic/adapters/websocket"
	"github.com/gonetic/gonetic/net/transport"
)

// echoOrFlood echoes what comes on channel 1 and answers anything on
// channel 0 with 100 bytes, more than the wasm client's MaxPayload.
type echoOrFlood struct {
	link   transport.Link // set by the Accept, before any Receive
	closed chan error
}

func (s *echoOrFlood) Receive(ch uint8, p []byte) {
	if ch == 1 {
		_ = s.link.Send(1, transport.Reliable, p)
		return
	}
	_ = s.link.Send(0, transport.Reliable, make([]byte, 100))
}
func (s *echoOrFlood) Closed(err error) { s.closed <- err }

// TestWasmClient runs the adapter's client side as the browser does, built
// with GOOS=js GOARCH=wasm, under Node (whose WebSocket is the browser's
// API): it dials a native listener, a payload goes there and back on
// channel 1, and a message over its MaxPayload ends its link with a
// *transport.FrameError. Needs node (20 or later); skipped with -short.
func TestWasmClient(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a wasm binary")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("no node: the browser build is not run")
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatal(err)
	}
	wasm := filepath.Join(t.TempDir(), "client.wasm")
	build := exec.Command("go", "build", "-o", wasm, "./testdata/wasmclient")
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the wasm client: %v\n%s", err, out)
	}

	closed := make(chan error, 2)
	ln, err := websocket.New(websocket.Options{}).Listen("127.0.0.1:0", transport.Config{Channels: 2}, func(l transport.Link) transport.Sink {
		return &echoOrFlood{link: l, closed: closed}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 4*waitLimit)
	defer cancel()
	run := exec.CommandContext(ctx, node, "--experimental-websocket",
		filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec_node.js"), wasm, "ws://"+ln.Addr()+"/")
	out, err := run.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK") {
		t.Fatalf("the wasm client: %v\n%s", err, out)
	}
	t.Logf("%s", out)
	for i, want := range []string{"EOF", "too big"} { // the client's Close; its 1009
		select {
		case err := <-closed:
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("server link %d: Closed(%v), want an error with %q", i, err, want)
			}
		case <-ctx.Done():
			t.Fatal("the server's links did not close")
		}
	}
}
