//go:build !js

package websocket_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	cws "github.com/coder/websocket"
	"github.com/gonetic/gonetic/adapters/internal/transporttest"
	"github.com/gonetic/gonetic/adapters/websocket"
	"github.com/gonetic/gonetic/net/nettest"
	"github.com/gonetic/gonetic/net/transport"
)

// waitLimit bounds every wait; the tests synchronise on events.
const waitLimit = 10 * time.Second

type message struct {
	ch uint8
	p  string
}

// sink records what a link receives, and its Farewell.
type sink struct {
	link     transport.Link // for say
	say      string         // sent by Farewell when set, as net's bye is
	got      chan message
	closed   chan error
	farewell chan error
}

func newSink() *sink {
	return &sink{got: make(chan message, 64), closed: make(chan error, 1), farewell: make(chan error, 1)}
}

func (s *sink) Receive(ch uint8, p []byte) { s.got <- message{ch, string(p)} }
func (s *sink) Closed(err error)           { s.closed <- err }
func (s *sink) Farewell(err error) {
	if s.say != "" {
		_ = s.link.Send(0, transport.Reliable, []byte(s.say))
	}
	s.farewell <- err
}

func (s *sink) next(t *testing.T) message {
	t.Helper()
	select {
	case m := <-s.got:
		return m
	case err := <-s.closed:
		t.Fatalf("closed (%v) before a payload arrived", err)
	case <-time.After(waitLimit):
		t.Fatal("no payload within the time limit")
	}
	return message{}
}

func (s *sink) waitClosed(t *testing.T) error {
	t.Helper()
	return transporttest.Await(t, s.closed, "Closed")
}

func (s *sink) waitFarewell(t *testing.T) error {
	t.Helper()
	return transporttest.Await(t, s.farewell, "Farewell")
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), waitLimit)
	t.Cleanup(cancel)
	return c
}

// server is a listener on its own address whose accepted links arrive on
// accepted with their sinks.
type server struct {
	ln       transport.Listener
	say      string // the accepted sinks' farewell
	accepted chan *sink
	links    chan transport.Link
}

func listen(t *testing.T, tr *websocket.Transport, addr string, cfg transport.Config) *server {
	t.Helper()
	return listenSaying(t, tr, addr, cfg, "")
}

// listenSaying listens with sinks whose Farewell sends say.
func listenSaying(t *testing.T, tr *websocket.Transport, addr string, cfg transport.Config, say string) *server {
	t.Helper()
	before := runtime.NumGoroutine()
	s := &server{say: say, accepted: make(chan *sink, 16), links: make(chan transport.Link, 16)}
	ln, err := tr.Listen(addr, cfg, func(l transport.Link) transport.Sink {
		k := newSink()
		k.link, k.say = l, s.say
		s.accepted <- k
		s.links <- l
		return k
	})
	if err != nil {
		t.Fatalf("Listen(%q): %v", addr, err)
	}
	s.ln = ln
	t.Cleanup(func() {
		if err := ln.Close(); err != nil {
			t.Errorf("Listener.Close: %v", err)
		}
		nettest.CheckGoroutines(t, before)
	})
	return s
}

func (s *server) accept(t *testing.T) (transport.Link, *sink) {
	t.Helper()
	k := transporttest.Await(t, s.accepted, "accepted link")
	return <-s.links, k
}

// rawDial opens a WebSocket with coder/websocket alone, as a client in
// another language would, with the given Origin header ("" for none).
func rawDial(t *testing.T, url, origin string) (*cws.Conn, *http.Response, error) {
	t.Helper()
	var h http.Header
	if origin != "" {
		h = http.Header{"Origin": {origin}}
	}
	c, resp, err := cws.Dial(ctx(t), url, &cws.DialOptions{HTTPHeader: h})
	if err == nil {
		t.Cleanup(func() { c.CloseNow() })
	}
	return c, resp, err
}

// mounted serves tr on path of an httptest.Server and returns its URL.
func mounted(t *testing.T, tr *websocket.Transport, path string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(path, tr)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "the game's page") })
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	return hs
}

func wsURL(hs *httptest.Server, path string) string {
	return "ws" + strings.TrimPrefix(hs.URL, "http") + path
}

// dial opens a link with the adapter and aborts it when the test ends.
func dial(t *testing.T, tr *websocket.Transport, addr string, cfg transport.Config) (transport.Link, *sink) {
	t.Helper()
	k := newSink()
	l, err := tr.Dial(ctx(t), addr, cfg, k)
	if err != nil {
		t.Fatalf("Dial(%q): %v", addr, err)
	}
	t.Cleanup(l.Abort)
	return l, k
}

func send(t *testing.T, l transport.Link, ch uint8, p string) {
	t.Helper()
	if err := l.Send(ch, transport.Reliable, []byte(p)); err != nil {
		t.Fatalf("Send: %v", err)
	}
}

// TestMounted: a listener of Listen("") serves the upgrades that reach the
// Transport mounted in the game's own mux, on its path, beside the game's
// pages; Addr is "", a second mounted listener is refused, and before and
// after it the handler answers 503.
func TestMounted(t *testing.T) {
	tr := websocket.New(websocket.Options{})
	hs := mounted(t, tr, "/play")
	if code := get(t, hs.URL+"/play"); code != http.StatusServiceUnavailable {
		t.Fatalf("before Listen: %d, want 503", code)
	}
	if _, err := tr.Dial(ctx(t), wsURL(hs, "/play"), transport.Config{}, newSink()); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("Dial before Listen: %v, want a refusal with 503", err)
	}

	cfg := transport.Config{Channels: 3}
	srv := listen(t, tr, "", cfg)
	if a := srv.ln.Addr(); a != "" {
		t.Errorf("mounted listener's Addr() = %q, want \"\"", a)
	}
	if _, err := tr.Listen("", cfg, func(transport.Link) transport.Sink { return nil }); err == nil || !strings.Contains(err.Error(), "already") {
		t.Fatalf("a second Listen(\"\"): %v, want an error saying one is mounted", err)
	}
	c, ck := dial(t, tr, wsURL(hs, "/play"), cfg)
	sl, sk := srv.accept(t)
	send(t, c, 2, "up")
	if m := sk.next(t); m != (message{2, "up"}) {
		t.Fatalf("server got %+v", m)
	}
	send(t, sl, 1, "down")
	if m := ck.next(t); m != (message{1, "down"}) {
		t.Fatalf("client got %+v", m)
	}
	if code := get(t, hs.URL+"/"); code != http.StatusOK {
		t.Fatalf("the game's page: %d", code)
	}
	if code := get(t, hs.URL+"/play"); code != http.StatusUpgradeRequired {
		t.Fatalf("a plain GET of the WebSocket path: %d, want 426", code)
	}

	if err := srv.ln.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ck.waitClosed(t); !errors.Is(err, io.EOF) {
		t.Fatalf("client's Closed(%v) after Listener.Close, want io.EOF", err)
	}
	if code := get(t, hs.URL+"/play"); code != http.StatusServiceUnavailable {
		t.Fatalf("after Close: %d, want 503", code)
	}
	// The handler serves the next mounted listener.
	srv2 := listen(t, tr, "", cfg)
	c2, _ := dial(t, tr, wsURL(hs, "/play"), cfg)
	_, sk2 := srv2.accept(t)
	send(t, c2, 0, "again")
	if m := sk2.next(t); m.p != "again" {
		t.Fatalf("second listener got %+v", m)
	}
}

func get(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestOrigin: by default a page of another origin is refused, a page of
// the server's own origin and a client without Origin are accepted;
// OriginPatterns widens it.
func TestOrigin(t *testing.T) {
	for _, tc := range []struct {
		patterns []string
		origin   string // "%s" is the server's host
		ok       bool
	}{
		{nil, "", true},
		{nil, "http://%s", true},
		{nil, "https://evil.example", false},
		{nil, "http://localhost:1", false},
		{[]string{"*.example"}, "https://evil.example", true},
		{[]string{"https://play.example"}, "https://play.example", true},
		{[]string{"https://play.example"}, "http://play.example", false},
	} {
		tr := websocket.New(websocket.Options{OriginPatterns: tc.patterns})
		srv := listen(t, tr, "127.0.0.1:0", transport.Config{})
		origin := strings.ReplaceAll(tc.origin, "%s", srv.ln.Addr())
		c, resp, err := rawDial(t, "ws://"+srv.ln.Addr()+"/", origin)
		if tc.ok {
			if err != nil {
				t.Errorf("patterns %q, Origin %q: refused (%v), want accepted", tc.patterns, origin, err)
				continue
			}
			srv.accept(t)
			c.Close(cws.StatusNormalClosure, "")
			continue
		}
		if err == nil {
			t.Errorf("patterns %q, Origin %q: accepted, want refused", tc.patterns, origin)
			continue
		}
		if resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("patterns %q, Origin %q: %v, want 403 Forbidden", tc.patterns, origin, err)
		}
	}
}

// TestTextRefused: a text message ends the link with a *FrameError, the
// Sink's Farewell told first, and the peer reads status 1003.
func TestTextRefused(t *testing.T) {
	srv := listen(t, websocket.New(websocket.Options{}), "127.0.0.1:0", transport.Config{})
	c, _, err := rawDial(t, "ws://"+srv.ln.Addr()+"/", "")
	if err != nil {
		t.Fatal(err)
	}
	_, sk := srv.accept(t)
	if err := c.Write(ctx(t), cws.MessageText, []byte("\x00hello")); err != nil {
		t.Fatal(err)
	}
	var fe *transport.FrameError
	if err := sk.waitFarewell(t); !errors.As(err, &fe) || fe.TooLarge {
		t.Fatalf("Farewell(%v), want a FrameError", err)
	}
	if _, _, err := c.Read(ctx(t)); cws.CloseStatus(err) != cws.StatusUnsupportedData {
		t.Fatalf("the peer read %v, want close status 1003", err)
	}
	if err := sk.waitClosed(t); !errors.As(err, &fe) {
		t.Fatalf("Closed(%v), want a FrameError", err)
	}
}

// TestReadLimit: a message of a channel byte and MaxPayload bytes is
// delivered; one byte more ends the link with a *FrameError (TooLarge),
// the Sink's Farewell may still send, and its payload reaches the peer
// before close status 1009.
func TestReadLimit(t *testing.T) {
	const max = 1000
	srv := listenSaying(t, websocket.New(websocket.Options{}), "127.0.0.1:0", transport.Config{MaxPayload: max}, "bye: too large")
	c, _, err := rawDial(t, "ws://"+srv.ln.Addr()+"/", "")
	if err != nil {
		t.Fatal(err)
	}
	_, sk := srv.accept(t)
	if err := c.Write(ctx(t), cws.MessageBinary, make([]byte, 1+max)); err != nil {
		t.Fatal(err)
	}
	if m := sk.next(t); len(m.p) != max {
		t.Fatalf("got %d bytes, want %d", len(m.p), max)
	}
	// Far larger than the limit: refused after max+2 bytes.
	if err := c.Write(ctx(t), cws.MessageBinary, make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	var fe *transport.FrameError
	if err := sk.waitFarewell(t); !errors.As(err, &fe) || !fe.TooLarge {
		t.Fatalf("Farewell(%v), want a FrameError with TooLarge", err)
	}
	typ, p, err := c.Read(ctx(t))
	if err != nil || typ != cws.MessageBinary || string(p) != "\x00bye: too large" {
		t.Fatalf("the peer read %v %q %v, want the farewell", typ, p, err)
	}
	if _, _, err := c.Read(ctx(t)); cws.CloseStatus(err) != cws.StatusMessageTooBig {
		t.Fatalf("the peer read %v, want close status 1009", err)
	}
	if err := sk.waitClosed(t); !errors.As(err, &fe) || !fe.TooLarge {
		t.Fatalf("Closed(%v), want a FrameError with TooLarge", err)
	}
}

// TestBadMessages: an empty message or a channel byte beyond
// Config.Channels ends the link with a *FrameError and status 1002.
func TestBadMessages(t *testing.T) {
	for _, p := range [][]byte{{}, {2, 'x'}} {
		srv := listen(t, websocket.New(websocket.Options{}), "127.0.0.1:0", transport.Config{Channels: 2})
		c, _, err := rawDial(t, "ws://"+srv.ln.Addr()+"/", "")
		if err != nil {
			t.Fatal(err)
		}
		_, sk := srv.accept(t)
		if err := c.Write(ctx(t), cws.MessageBinary, p); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Read(ctx(t)); cws.CloseStatus(err) != cws.StatusProtocolError {
			t.Fatalf("message %q: the peer read %v, want close status 1002", p, err)
		}
		var fe *transport.FrameError
		if err := sk.waitClosed(t); !errors.As(err, &fe) {
			t.Fatalf("message %q: Closed(%v), want a FrameError", p, err)
		}
	}
}

// TestCloseCodes: the status the peer closes with is what Sink.Closed
// reports: io.EOF for a normal closure, a *FrameError for 1009 (and for
// 4009, a browser's stand-in for it), a *CloseError with the code and
// reason for the others.
func TestCloseCodes(t *testing.T) {
	for _, tc := range []struct {
		code   cws.StatusCode
		reason string
		check  func(error) bool
	}{
		{cws.StatusNormalClosure, "", func(err error) bool { return err == io.EOF }},
		{cws.StatusMessageTooBig, "too big for me", func(err error) bool {
			var fe *transport.FrameError
			return errors.As(err, &fe) && fe.TooLarge && strings.Contains(fe.Reason, "too big for me")
		}},
		{4009, "a browser's 1009", func(err error) bool {
			var fe *transport.FrameError
			return errors.As(err, &fe) && fe.TooLarge
		}},
		{cws.StatusGoingAway, "tab closed", func(err error) bool {
			var ce *websocket.CloseError
			return errors.As(err, &ce) && ce.Code == 1001 && ce.Reason == "tab closed"
		}},
		{4000, "custom", func(err error) bool {
			var ce *websocket.CloseError
			return errors.As(err, &ce) && ce.Code == 4000 && ce.Reason == "custom" && strings.Contains(err.Error(), "4000")
		}},
	} {
		// A raw coder/websocket server that closes at once with the code.
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := cws.Accept(w, r, nil)
			if err != nil {
				return
			}
			c.Close(tc.code, tc.reason)
		}))
		_, k := dial(t, websocket.New(websocket.Options{}), wsURL(hs, "/"), transport.Config{})
		if err := k.waitClosed(t); !tc.check(err) {
			t.Errorf("peer closed with %d %q: Closed(%#v)", tc.code, tc.reason, err)
		}
		hs.Close()
	}
}

// TestDialAddresses: a ws:// URL with a path, a plain host:port meaning
// path "/", and errors that say what is wrong otherwise.
func TestDialAddresses(t *testing.T) {
	tr := websocket.New(websocket.Options{})
	srv := listen(t, tr, "127.0.0.1:0", transport.Config{})
	for _, addr := range []string{srv.ln.Addr(), "ws://" + srv.ln.Addr() + "/any/path?x=1"} {
		c, _ := dial(t, tr, addr, transport.Config{})
		_, sk := srv.accept(t)
		send(t, c, 0, addr)
		if m := sk.next(t); m.p != addr {
			t.Fatalf("%q: got %+v", addr, m)
		}
	}
	for _, addr := range []string{"http://" + srv.ln.Addr() + "/", "ws:///nohost", "localhost", ""} {
		if l, err := tr.Dial(ctx(t), addr, transport.Config{}, newSink()); err == nil {
			l.Abort()
			t.Errorf("Dial(%q) succeeded, want an error", addr)
		} else if !strings.Contains(err.Error(), "websocket: Dial address") {
			t.Errorf("Dial(%q): %v, want an error about the address", addr, err)
		}
	}
}

// TestDialWrongPath: a Dial to a path of a web server where no listener is
// mounted says which answer came and what to check.
func TestDialWrongPath(t *testing.T) {
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "a page") }))
	defer page.Close()
	_, err := websocket.New(websocket.Options{}).Dial(ctx(t), "ws"+strings.TrimPrefix(page.URL, "http")+"/play", transport.Config{}, newSink())
	if err == nil || !strings.Contains(err.Error(), `"200 OK"`) || !strings.Contains(err.Error(), "mounted at that path") {
		t.Errorf("Dial to a page: %v, want an error naming the answer and the mount", err)
	}
}

// TestPeerNotReadingDropped: a peer that reads nothing fills the link's
// queue (Send: ErrQueueFull, which matches transport.ErrQueueFull) and is
// dropped with ErrTooSlow once a write has not finished for
// Options.WriteTimeout.
func TestPeerNotReadingDropped(t *testing.T) {
	srv := listen(t, websocket.New(websocket.Options{MaxQueued: 1 << 20, WriteTimeout: 200 * time.Millisecond}), "127.0.0.1:0", transport.Config{})
	if _, _, err := rawDial(t, "ws://"+srv.ln.Addr()+"/", ""); err != nil { // never reads
		t.Fatal(err)
	}
	l, sk := srv.accept(t)
	p := make([]byte, 64<<10)
	deadline := time.Now().Add(waitLimit)
	full := false
	for {
		err := l.Send(0, transport.Reliable, p)
		if errors.Is(err, transport.ErrClosed) {
			break
		}
		if errors.Is(err, transport.ErrQueueFull) {
			if err != websocket.ErrQueueFull {
				t.Fatalf("Send: %v, want websocket.ErrQueueFull", err)
			}
			full = true
			time.Sleep(time.Millisecond) // a sender backing off, not a synchronisation
		} else if err != nil {
			t.Fatalf("Send: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the peer that does not read was not dropped")
		}
	}
	if !full {
		t.Error("Send never returned ErrQueueFull")
	}
	if err := sk.waitClosed(t); err != websocket.ErrTooSlow || !errors.Is(err, transport.ErrTooSlow) {
		t.Fatalf("Closed(%v), want websocket.ErrTooSlow", err)
	}
}
