//go:build !js

package websocket_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/gonetic/gonetic/adapters/websocket"
	"github.com/gonetic/gonetic/internal/headless"
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

// consoleText is how the console shows an argument of console.log.
func consoleText(a *runtime.RemoteObject) string {
	var s string
	if len(a.Value) > 0 && json.Unmarshal(a.Value, &s) == nil {
		return s
	}
	if len(a.Value) > 0 {
		return string(a.Value)
	}
	return a.Description
}

// wasmPage loads wasm_exec.js and client.wasm from its own server and runs
// the client with the WebSocket URL of the same server as its argument.
const wasmPage = `<!doctype html>
<html><head><meta charset="utf-8"><script src="/wasm_exec.js"></script></head>
<body><script>
const go = new Go();
go.argv = ["wasmclient", "ws://" + location.host + "/ws"];
fetch("/client.wasm").then(r => r.arrayBuffer())
	.then(b => WebAssembly.instantiate(b, go.importObject))
	.then(r => go.run(r.instance))
	.then(() => console.log("EXITED"), e => console.log("FAIL: " + e));
</script></body></html>`

// TestWasmClient runs the adapter's client side in headless Chromium,
// built with GOOS=js GOARCH=wasm: one httptest server serves the page,
// wasm_exec.js from the Go installation, the wasm binary and, mounted
// (Listen("")), the WebSocket listener. The client sends a payload on
// channel 1 and gets it back, and a message over its MaxPayload ends its
// link with a *transport.FrameError; it prints OK to the console. Needs
// Chromium (internal/headless): fails without it, skipped with -short.
func TestWasmClient(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a wasm binary and runs Chromium")
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
	tr := websocket.New(websocket.Options{})
	ln, err := tr.Listen("", transport.Config{Channels: 2}, func(l transport.Link) transport.Sink {
		return &echoOrFlood{link: l, closed: closed}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	mux := http.NewServeMux()
	mux.Handle("/ws", tr)
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, wasmPage)
	})
	mux.HandleFunc("/wasm_exec.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"))
	})
	mux.HandleFunc("/client.wasm", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, wasm)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 4*waitLimit)
	defer cancel()
	bctx := headless.Start(t, ctx)
	console := make(chan string, 64)
	err = chromedp.Listen(bctx, func(ev any) {
		var line string
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			var args []string
			for _, a := range ev.Args {
				args = append(args, consoleText(a))
			}
			line = strings.Join(args, " ")
		case *runtime.EventExceptionThrown:
			line = "FAIL: exception: " + ev.ExceptionDetails.Text
			if e := ev.ExceptionDetails.Exception; e != nil {
				line += " " + e.Description
			}
		default:
			return
		}
		select {
		case console <- line:
		default: // a chatty page; the test fails on its deadline
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(bctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	var out []string
	for done := false; !done; {
		select {
		case line := <-console:
			out = append(out, line)
			switch {
			case line == "OK":
				done = true
			case strings.HasPrefix(line, "FAIL"), line == "EXITED":
				t.Fatalf("the wasm client in Chromium:\n%s", strings.Join(out, "\n"))
			}
		case <-ctx.Done():
			t.Fatalf("the wasm client in Chromium printed no OK:\n%s", strings.Join(out, "\n"))
		}
	}
	t.Logf("%s", strings.Join(out, "\n"))
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
