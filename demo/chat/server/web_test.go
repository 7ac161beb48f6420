package main

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// webFiles writes a fake browser client into a directory.
func webFiles(t *testing.T, gz bool) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{wasmFile: "\x00asm fake", wasmExec: "// glue"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if gz {
		if _, _, err := gzipTo(filepath.Join(dir, wasmFile), filepath.Join(dir, gzipFile)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func get(t *testing.T, h http.Handler, path, acceptEncoding string) *http.Response {
	t.Helper()
	r := httptest.NewRequest("GET", path, nil)
	if acceptEncoding != "" {
		r.Header.Set("Accept-Encoding", acceptEncoding)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func TestWebHandler(t *testing.T) {
	ws := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := webHandler(webFiles(t, true), ws)

	res := get(t, h, "/", "")
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(body), `src="wasm_exec.js"`) || !strings.Contains(string(body), `fetch("chat.wasm")`) {
		t.Errorf("/: %d %q\n%s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	if res := get(t, h, "/wasm_exec.js", ""); res.StatusCode != 200 {
		t.Errorf("/wasm_exec.js: %d", res.StatusCode)
	}
	if res := get(t, h, "/ws", ""); res.StatusCode != http.StatusTeapot {
		t.Errorf("/ws did not reach the WebSocket handler: %d", res.StatusCode)
	}
	for _, path := range []string{"/index.html", "/chat.wasm.gz", "/go.mod", "/nothing"} {
		if res := get(t, h, path, ""); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, res.StatusCode)
		}
	}

	// instantiateStreaming needs application/wasm, gzipped or not.
	for _, tc := range []struct {
		accept string
		gzip   bool
	}{{"", false}, {"gzip, deflate, br, zstd", true}, {"br", false}, {"gzip;q=0, br", false}, {"*", true}} {
		res := get(t, h, "/chat.wasm", tc.accept)
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/wasm" {
			t.Errorf("Accept-Encoding %q: %d %q", tc.accept, res.StatusCode, res.Header.Get("Content-Type"))
		}
		if got := res.Header.Get("Content-Encoding") == "gzip"; got != tc.gzip {
			t.Errorf("Accept-Encoding %q: gzipped %v, want %v", tc.accept, got, tc.gzip)
			continue
		}
		if tc.gzip {
			zr, err := gzip.NewReader(strings.NewReader(string(body)))
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(zr)
		}
		if string(body) != "\x00asm fake" {
			t.Errorf("Accept-Encoding %q: body %q", tc.accept, body)
		}
	}

	// Without the gzipped copy (a -web directory may lack it): plain.
	plain := webHandler(webFiles(t, false), ws)
	if res := get(t, plain, "/chat.wasm", "gzip"); res.StatusCode != 200 || res.Header.Get("Content-Encoding") != "" {
		t.Errorf("without chat.wasm.gz: %d, Content-Encoding %q", res.StatusCode, res.Header.Get("Content-Encoding"))
	}
}

func TestWebDir(t *testing.T) {
	dir := webFiles(t, false)
	if got, err := webDir(t.Context(), dir); err != nil || got != dir {
		t.Fatalf("webDir(%s) = %q, %v", dir, got, err)
	}
	empty := t.TempDir()
	_, err := webDir(t.Context(), empty)
	if err == nil || !strings.Contains(err.Error(), "GOOS=js GOARCH=wasm go build -o "+filepath.Join(empty, wasmFile)) {
		t.Fatalf("webDir(empty) = %v, want how to build it", err)
	}
}
