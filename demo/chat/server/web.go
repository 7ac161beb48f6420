package main

import (
	"compress/gzip"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	stdnet "net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gonetic/gonetic/adapters/websocket"
	"github.com/gonetic/gonetic/demo/chat/chat"
	gnet "github.com/gonetic/gonetic/net"
)

// The files of the browser client, in the directory that -web names or
// that buildWeb fills.
const (
	wasmFile   = "chat.wasm"
	gzipFile   = "chat.wasm.gz" // optional: served to browsers that accept gzip
	wasmExec   = "wasm_exec.js"
	windowPkg  = "github.com/gonetic/gonetic/demo/chat/window"
	wsPath     = "/ws"
	cacheLabel = "gonetic/chat-web" // under os.UserCacheDir
)

//go:embed web/index.html
var indexHTML []byte

// webDir returns the directory holding the browser client: dir when
// given, after checking it, or else a fresh build in the user's cache
// directory.
func webDir(ctx context.Context, dir string) (string, error) {
	if dir == "" {
		return buildWeb(ctx)
	}
	for _, f := range []string{wasmFile, wasmExec} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return "", fmt.Errorf("-web %s: %w; build it with: GOOS=js GOARCH=wasm go build -o %s %s && cp \"$(go env GOROOT)/lib/wasm/%s\" %s",
				dir, err, filepath.Join(dir, wasmFile), windowPkg, wasmExec, dir)
		}
	}
	return dir, nil
}

// buildWeb builds the window client for the browser (GOOS=js
// GOARCH=wasm) into the user's cache directory, beside wasm_exec.js from
// the Go installation and a gzipped copy, saying so: a first build takes
// a while, later ones come from Go's build cache. It needs the go command
// and this module's source (go run from the repository does). A stop
// (ctx) ends the build.
func buildWeb(ctx context.Context) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory for the browser client (%w): pass -web DIR", err)
	}
	dir := filepath.Join(cache, filepath.FromSlash(cacheLabel))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	wasm := filepath.Join(dir, wasmFile)
	fmt.Printf("building the browser client: GOOS=js GOARCH=wasm go build -o %s %s\n", wasm, windowPkg)
	start := time.Now()
	// Into a temporary name, then renamed: another server may be serving
	// the old file.
	tmp := wasm + fmt.Sprintf(".%d.tmp", os.Getpid())
	cmd := exec.CommandContext(ctx, "go", "build", "-o", tmp, windowPkg)
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("building the browser client: %v\n%s(it needs the go command and gonetic's source: run the server from the repository, or pass -web DIR with a prebuilt client)", err, out)
	}
	if err := os.Rename(tmp, wasm); err != nil {
		return "", err
	}
	goroot, err := exec.CommandContext(ctx, "go", "env", "GOROOT").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOROOT: %w", err)
	}
	if err := copyWasmExec(strings.TrimSpace(string(goroot)), filepath.Join(dir, wasmExec)); err != nil {
		return "", err
	}
	size, zsize, err := gzipTo(wasm, filepath.Join(dir, gzipFile))
	if err != nil {
		return "", err
	}
	fmt.Printf("browser client built in %v: %s, %.1f MB (%.1f MB gzipped)\n",
		time.Since(start).Round(100*time.Millisecond), wasm, float64(size)/1e6, float64(zsize)/1e6)
	return dir, nil
}

// copyWasmExec copies the Go installation's wasm_exec.js, the glue the
// page needs to run a Go program; it must come from the toolchain that
// built chat.wasm.
func copyWasmExec(goroot, dst string) error {
	var b []byte
	var err error
	// lib/wasm since Go 1.24, misc/wasm before.
	for _, sub := range []string{"lib/wasm", "misc/wasm"} {
		if b, err = os.ReadFile(filepath.Join(goroot, filepath.FromSlash(sub), wasmExec)); err == nil {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("%s not found in the Go installation %s: %w", wasmExec, goroot, err)
	}
	return writeAtomic(dst, b)
}

// gzipTo writes a gzipped copy of src to dst and returns both sizes.
func gzipTo(src, dst string) (size, zsize int64, err error) {
	b, err := os.ReadFile(src)
	if err != nil {
		return 0, 0, err
	}
	var sb strings.Builder
	zw, _ := gzip.NewWriterLevel(&sb, gzip.BestCompression)
	if _, err := zw.Write(b); err != nil {
		return 0, 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, 0, err
	}
	return int64(len(b)), int64(sb.Len()), writeAtomic(dst, []byte(sb.String()))
}

func writeAtomic(name string, b []byte) error {
	tmp := name + fmt.Sprintf(".%d.tmp", os.Getpid())
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}

// webHandler serves the page, wasm_exec.js, the client (gzipped when the
// browser accepts it and dir has the gzipped copy) and, on wsPath, the
// WebSocket endpoint ws.
func webHandler(dir string, ws http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(indexHTML)
	})
	mux.HandleFunc("GET /"+wasmExec, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFile(w, r, filepath.Join(dir, wasmExec))
	})
	mux.HandleFunc("GET /"+wasmFile, func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/wasm") // instantiateStreaming insists
		h.Set("Cache-Control", "no-cache")        // revalidated: a rebuild is seen at once
		h.Set("Vary", "Accept-Encoding")
		name := filepath.Join(dir, wasmFile)
		if acceptsGzip(r) {
			if _, err := os.Stat(filepath.Join(dir, gzipFile)); err == nil {
				name = filepath.Join(dir, gzipFile)
				h.Set("Content-Encoding", "gzip")
			}
		}
		f, err := os.Open(name)
		if err != nil {
			http.Error(w, "the browser client is missing: "+err.Error(), http.StatusInternalServerError)
			return
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		http.ServeContent(w, r, "", fi.ModTime(), f)
	})
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent) // none, and no 404 in the console
	})
	mux.Handle(wsPath, ws)
	return mux
}

// acceptsGzip reports whether the request's Accept-Encoding takes gzip:
// listed (or "*"), and not with q=0.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, params, _ := strings.Cut(part, ";")
		if enc = strings.TrimSpace(enc); enc != "gzip" && enc != "*" {
			continue
		}
		q, ok := strings.CutPrefix(strings.TrimSpace(params), "q=")
		if !ok {
			return true
		}
		v, err := strconv.ParseFloat(q, 64)
		return err == nil && v > 0
	}
	return false
}

// webServer is the -http server: the page and the WebSocket listener of
// the chat server.
type webServer struct {
	http *http.Server
	url  string // what to open in a browser
	done chan error
}

// startWeb adds a WebSocket listener to srv and serves it on addr beside
// the page and the browser client in dir (from webDir), and beside login,
// the -auth login endpoint, when not nil: the page logs in on its own
// origin.
func startWeb(srv *gnet.Server, addr, dir string, login http.Handler, log *slog.Logger) (*webServer, error) {
	ws := websocket.New(websocket.Options{})
	if _, err := srv.AddListener(ws, ""); err != nil {
		return nil, err
	}
	ln, err := stdnet.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("-http: %w", err)
	}
	w := &webServer{
		http: &http.Server{
			Handler:           withLogin(webHandler(dir, ws), login),
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		url:  pageURL(ln.Addr().(*stdnet.TCPAddr)),
		done: make(chan error, 1),
	}
	if login != nil { // the page's query is the client's flags: -login
		w.url += "?login=" + url.QueryEscape(w.url+strings.TrimPrefix(chat.LoginPath, "/"))
	}
	go func() { w.done <- w.http.Serve(ln) }()
	return w, nil
}

// withLogin serves login's LoginPath beside h, or h alone if login is nil.
func withLogin(h, login http.Handler) http.Handler {
	if login == nil {
		return h
	}
	mux := http.NewServeMux()
	mux.Handle(chat.LoginPath, login)
	mux.Handle("/", h)
	return mux
}

// startLogin serves the -auth login endpoint h on addr.
func startLogin(addr string, h http.Handler, log *slog.Logger) (*webServer, error) {
	ln, err := stdnet.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("-login: %w", err)
	}
	w := &webServer{
		http: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		url:  pageURL(ln.Addr().(*stdnet.TCPAddr)),
		done: make(chan error, 1),
	}
	go func() { w.done <- w.http.Serve(ln) }()
	return w, nil
}

// pageURL is the page's address on a, with localhost for a wildcard.
func pageURL(a *stdnet.TCPAddr) string {
	host := a.IP.String()
	if a.IP.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + stdnet.JoinHostPort(host, fmt.Sprint(a.Port)) + "/"
}

// close stops serving pages; the WebSocket links are the chat server's,
// closed by its Shutdown.
func (w *webServer) close(ctx context.Context) error {
	err := w.http.Shutdown(ctx)
	if serveErr := <-w.done; !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	return err
}
