package request

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	stdnet "net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// patience bounds every wait in these tests: generous, for a noisy VM.
const patience = 20 * time.Second

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	t.Cleanup(cancel)
	return ctx
}

// startServer starts a Server on 127.0.0.1 answering with h on its own
// goroutine, closed when the test ends.
func startServer(t *testing.T, h Handler, opts *Options) *Server {
	t.Helper()
	return startServerHook(t, h, opts, nil)
}

func startServerHook(t *testing.T, h Handler, opts *Options, onReceive func()) *Server {
	t.Helper()
	s, err := newServer("127.0.0.1:0", h, opts, onReceive)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.Start()
	return s
}

func echo(_ context.Context, req []byte) ([]byte, error) { return req, nil }

// wait fails the test if ch is not closed (or sent to) within patience.
func wait[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(patience):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// freeAddr returns an address where nothing listens.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := stdnet.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestRoundTrip(t *testing.T) {
	s := startServer(t, func(_ context.Context, req []byte) ([]byte, error) {
		return append([]byte("echo:"), req...), nil
	}, nil)
	ctx := testContext(t)
	for _, req := range [][]byte{
		[]byte("hello"),
		{},
		{0, '\r', '\n', 0xff, 0},
		bytes.Repeat([]byte("x"), 100_000),
	} {
		reply, err := DoRequest(ctx, s.Addr(), req)
		if err != nil {
			t.Fatalf("request of %d bytes: %v", len(req), err)
		}
		if want := append([]byte("echo:"), req...); !bytes.Equal(reply, want) {
			t.Fatalf("request of %d bytes: reply of %d bytes, want %d", len(req), len(reply), len(want))
		}
	}
	got, err := DoString(ctx, s.Addr(), "hi")
	if err != nil || got != "echo:hi" {
		t.Fatalf("DoString = %q, %v; want \"echo:hi\", nil", got, err)
	}
}

// manualDeadline is a context whose deadline passes when the test says so.
type manualDeadline struct {
	context.Context
	done chan struct{}
}

func (c manualDeadline) Done() <-chan struct{} { return c.done }
func (c manualDeadline) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

func checkTimeout(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v (%T) does not match ErrTimeout and context.DeadlineExceeded", err, err)
	}
	var ne stdnet.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("error %v is not a net.Error with Timeout true", err)
	}
}

func TestEmptyReplyIsNotTimeout(t *testing.T) {
	entered := make(chan struct{}, 1)
	cancelled := make(chan error, 1)
	release := make(chan struct{})
	s := startServer(t, func(ctx context.Context, req []byte) ([]byte, error) {
		if string(req) == "block" {
			entered <- struct{}{}
			select {
			case <-release:
			case <-ctx.Done():
				cancelled <- context.Cause(ctx)
				return nil, ctx.Err()
			}
		}
		return nil, nil // the empty reply
	}, nil)
	ctx := testContext(t)

	reply, err := DoRequest(ctx, s.Addr(), []byte("empty"))
	if err != nil || reply == nil || len(reply) != 0 {
		t.Fatalf("empty reply: got %q (nil %v), %v; want empty, nil", reply, reply == nil, err)
	}
	if got, err := DoString(ctx, s.Addr(), "empty"); got != "" || err != nil {
		t.Fatalf("DoString empty reply: got %q, %v", got, err)
	}

	// A deadline that passes while the handler holds the request.
	dl := manualDeadline{Context: ctx, done: make(chan struct{})}
	errc := make(chan error, 1)
	go func() {
		_, err := DoRequest(dl, s.Addr(), []byte("block"))
		errc <- err
	}()
	wait(t, entered, "the handler")
	close(dl.done)
	checkTimeout(t, wait(t, errc, "the request"))
	// The client gave up: the handler's context says so.
	if cause := wait(t, cancelled, "the handler's context"); !errors.Is(cause, errClientGone) {
		t.Fatalf("handler context cause %v, want errClientGone", cause)
	}

	// A real deadline, the handler blocking until released.
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, err = DoRequest(short, s.Addr(), []byte("block"))
	checkTimeout(t, err)
	close(release)

	// The server still serves.
	if reply, err := DoRequest(ctx, s.Addr(), []byte("empty")); err != nil || len(reply) != 0 {
		t.Fatalf("after the timeouts: %q, %v", reply, err)
	}
}

func TestCancelledRequest(t *testing.T) {
	entered := make(chan struct{}, 1)
	s := startServer(t, func(ctx context.Context, req []byte) ([]byte, error) {
		entered <- struct{}{}
		<-ctx.Done()
		return nil, ctx.Err()
	}, nil)
	ctx, cancel := context.WithCancel(testContext(t))
	errc := make(chan error, 1)
	go func() {
		_, err := DoRequest(ctx, s.Addr(), []byte("x"))
		errc <- err
	}()
	wait(t, entered, "the handler")
	cancel()
	err := wait(t, errc, "the request")
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
		t.Fatalf("cancelled request: %v; want context.Canceled, not ErrTimeout", err)
	}
}

func TestHandlerError(t *testing.T) {
	s := startServer(t, func(_ context.Context, req []byte) ([]byte, error) {
		if string(req) == "fail" {
			return nil, errors.New("no such region: 7")
		}
		return []byte("fine"), nil
	}, nil)
	ctx := testContext(t)
	_, err := DoRequest(ctx, s.Addr(), []byte("fail"))
	var re *RemoteError
	if !errors.As(err, &re) || re.Message != "no such region: 7" {
		t.Fatalf("handler error: got %v (%T), want *RemoteError{no such region: 7}", err, err)
	}
	if err.Error() != "request: server error: no such region: 7" {
		t.Fatalf("message %q", err.Error())
	}
	if got, err := DoString(ctx, s.Addr(), "next"); err != nil || got != "fine" {
		t.Fatalf("after a handler error: %q, %v", got, err)
	}
}

func TestHandlerPanic(t *testing.T) {
	for _, max := range []int{0, 4} {
		t.Run(fmt.Sprintf("MaxConcurrent=%d", max), func(t *testing.T) {
			s := startServer(t, func(_ context.Context, req []byte) ([]byte, error) {
				if string(req) == "panic" {
					panic("the dragon woke up")
				}
				return []byte("fine"), nil
			}, &Options{MaxConcurrent: max})
			ctx := testContext(t)
			for range 2 {
				_, err := DoRequest(ctx, s.Addr(), []byte("panic"))
				var re *RemoteError
				if !errors.As(err, &re) || re.Message != "panic: the dragon woke up" {
					t.Fatalf("handler panic: got %v, want RemoteError \"panic: the dragon woke up\"", err)
				}
				if got, err := DoString(ctx, s.Addr(), "next"); err != nil || got != "fine" {
					t.Fatalf("after a panic: %q, %v", got, err)
				}
			}
		})
	}
}

func TestNothingListening(t *testing.T) {
	addr := freeAddr(t)
	ctx := testContext(t)
	for _, lines := range []bool{false, true} {
		_, err := Do(ctx, addr, []byte("anyone?"), &Options{Lines: lines})
		var de *DialError
		if !errors.As(err, &de) || de.Address != addr {
			t.Fatalf("lines=%v: got %v (%T), want *DialError for %s", lines, err, err, addr)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("lines=%v: %v does not match ECONNREFUSED", lines, err)
		}
		if want := "nothing listens at " + addr; !strings.Contains(err.Error(), want) {
			t.Fatalf("lines=%v: message %q lacks %q", lines, err, want)
		}
		if errors.Is(err, ErrTimeout) {
			t.Fatalf("lines=%v: a refused connection matches ErrTimeout", lines)
		}
	}
}

func TestConcurrent(t *testing.T) {
	const n = 8
	for _, max := range []int{n, -1} {
		t.Run(fmt.Sprintf("MaxConcurrent=%d", max), func(t *testing.T) {
			var arrived atomic.Int32
			all := make(chan struct{})
			s := startServer(t, func(ctx context.Context, req []byte) ([]byte, error) {
				// A barrier: no handler returns before all n run at once.
				if arrived.Add(1) == n {
					close(all)
				}
				select {
				case <-all:
				case <-ctx.Done():
					return nil, ctx.Err()
				}
				return req, nil
			}, &Options{MaxConcurrent: max})
			ctx := testContext(t)
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for i := range n {
				wg.Go(func() {
					want := fmt.Sprint("request ", i)
					got, err := DoString(ctx, s.Addr(), want)
					if err == nil && got != want {
						err = fmt.Errorf("got %q, want %q", got, want)
					}
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestOneAtATime(t *testing.T) {
	const n = 6
	var received atomic.Int32
	allReceived := make(chan struct{})
	var running, started, overlaps atomic.Int32
	var order []string
	var mu sync.Mutex
	s := startServerHook(t, func(ctx context.Context, req []byte) ([]byte, error) {
		if running.Add(1) > 1 {
			overlaps.Add(1)
		}
		defer running.Add(-1)
		if started.Add(1) == 1 {
			// Every request is in the server's hands: a server that ran
			// handlers concurrently would start the others now.
			select {
			case <-allReceived:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			for range 1000 {
				runtime.Gosched()
			}
			if got := started.Load(); got != 1 {
				return nil, fmt.Errorf("%d handlers started while the first ran", got)
			}
		}
		mu.Lock()
		order = append(order, string(req))
		mu.Unlock()
		return req, nil
	}, nil, func() {
		if received.Add(1) == n {
			close(allReceived)
		}
	})
	ctx := testContext(t)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, err := DoString(ctx, s.Addr(), fmt.Sprint(i))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if overlaps.Load() != 0 {
		t.Fatalf("%d handlers overlapped", overlaps.Load())
	}
	if len(order) != n {
		t.Fatalf("handled %d requests, want %d", len(order), n)
	}
}

func TestServeOne(t *testing.T) {
	s, err := NewServer("127.0.0.1:0", StringHandler(func(_ context.Context, req string) (string, error) {
		return "one:" + req, nil
	}), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := testContext(t)
	for i := range 3 {
		replies := make(chan string, 1)
		go func() {
			got, err := DoString(ctx, s.Addr(), fmt.Sprint(i))
			if err != nil {
				got = err.Error()
			}
			replies <- got
		}()
		if err := s.ServeOne(ctx); err != nil {
			t.Fatal(err)
		}
		if got, want := wait(t, replies, "the reply"), fmt.Sprint("one:", i); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	s.Close()
	if err := s.ServeOne(ctx); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("ServeOne after Close: %v, want ErrServerClosed", err)
	}
}

func TestTwoServers(t *testing.T) {
	a := startServer(t, StringHandler(func(_ context.Context, req string) (string, error) { return "a:" + req, nil }), nil)
	b := startServer(t, StringHandler(func(_ context.Context, req string) (string, error) { return "b:" + req, nil }), &Options{MaxConcurrent: 2})
	if a.Addr() == b.Addr() {
		t.Fatalf("both servers on %s", a.Addr())
	}
	ctx := testContext(t)
	for range 3 {
		if got, err := DoString(ctx, a.Addr(), "x"); err != nil || got != "a:x" {
			t.Fatalf("server a: %q, %v", got, err)
		}
		if got, err := DoString(ctx, b.Addr(), "x"); err != nil || got != "b:x" {
			t.Fatalf("server b: %q, %v", got, err)
		}
	}
	a.Close()
	if got, err := DoString(ctx, b.Addr(), "y"); err != nil || got != "b:y" {
		t.Fatalf("server b after a closed: %q, %v", got, err)
	}
	if _, err := DoString(ctx, a.Addr(), "y"); !errors.As(err, new(*DialError)) {
		t.Fatalf("server a after Close: %v, want *DialError", err)
	}
}

func TestSizeLimits(t *testing.T) {
	ctx := testContext(t)
	big := bytes.Repeat([]byte("b"), 1000)

	if _, err := Do(ctx, freeAddr(t), big, &Options{MaxSize: 999}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("request over the client's limit: %v, want ErrTooLarge", err)
	}

	s := startServer(t, func(_ context.Context, req []byte) ([]byte, error) {
		if string(req) == "big" {
			return big, nil
		}
		return req, nil
	}, &Options{MaxSize: 100})
	_, err := DoRequest(ctx, s.Addr(), big)
	var re *RemoteError
	if !errors.As(err, &re) || !strings.Contains(re.Message, "exceeds") {
		t.Fatalf("request over the server's limit: %v, want a RemoteError", err)
	}
	_, err = DoRequest(ctx, s.Addr(), []byte("big"))
	if !errors.As(err, &re) || !strings.Contains(re.Message, "reply of 1000 bytes exceeds") {
		t.Fatalf("reply over the server's limit: %v, want a RemoteError", err)
	}
	// A reply over the client's limit.
	echoServer := startServer(t, echo, nil)
	small := &Options{MaxSize: 999}
	if _, err := Do(ctx, echoServer.Addr(), big[:999], small); err != nil {
		t.Fatalf("exactly MaxSize: %v", err)
	}
	s2 := startServer(t, func(context.Context, []byte) ([]byte, error) { return big, nil }, nil)
	if _, err := Do(ctx, s2.Addr(), nil, small); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("reply over the client's limit: %v, want ErrTooLarge", err)
	}
	// The servers still serve.
	if got, err := DoString(ctx, s.Addr(), "ok"); err != nil || got != "ok" {
		t.Fatalf("after refusals: %q, %v", got, err)
	}
}

func TestMalformedRequest(t *testing.T) {
	s := startServer(t, echo, nil)
	ctx := testContext(t)
	// A raw client sending a frame of the wrong kind.
	conn, err := (&stdnet.Dialer{}).DialContext(ctx, "tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(patience))
	payload := appendOK(nil, []byte("x")) // ["ok", "x"], not a request
	frame := append([]byte{0, 0, 0, byte(len(payload))}, payload...)
	if _, err := conn.Write(frame); err != nil {
		t.Fatal(err)
	}
	answer, err := io.ReadAll(conn)
	if err != nil {
		t.Fatal(err)
	}
	if len(answer) < 4 {
		t.Fatalf("answer %q", answer)
	}
	_, re, err := decodeReply(answer[4:])
	if err != nil || re == nil || !strings.Contains(re.Message, "malformed request") {
		t.Fatalf("answer to a malformed request: %v, %v", re, err)
	}
}

func TestLineClientAgainstHTTP(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s %s", r.Method, r.URL.Path)
	}))
	defer hs.Close()
	addr := strings.TrimPrefix(hs.URL, "http://")
	ctx := testContext(t)
	reply, err := DoLineRequest(ctx, addr, "GET /status HTTP/1.0\r\n")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(reply, "HTTP/1.0 200 OK\r\n") || !strings.HasSuffix(reply, "\r\n\r\nhello from GET /status") {
		t.Fatalf("reply %q", reply)
	}
}

// A binary request to a server that speaks another protocol says so, and
// quotes a bounded number of its first bytes; it is not a reply too large.
func TestBinaryClientAgainstHTTP(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "hello")
	}))
	defer hs.Close()
	addr := strings.TrimPrefix(hs.URL, "http://")
	ctx := testContext(t)
	for _, opts := range []*Options{nil, {MaxSize: 1 << 31}} { // "HTTP" as a length: over and under MaxSize
		_, err := Do(ctx, addr, []byte("GET / HTTP/1.0\r\n\r\n"), opts)
		if !errors.Is(err, ErrForeignPeer) || errors.Is(err, ErrTooLarge) {
			t.Fatalf("binary request to an HTTP server: %v, want ErrForeignPeer", err)
		}
		want := `the peer at ` + addr + ` does not speak gonetic request/reply (binary mode): its first bytes are "HTTP/1.1 400 Bad"…`
		if msg := err.Error(); !strings.Contains(msg, want) || len(msg) > 300 {
			t.Fatalf("error %q, want it to say %q, in at most 300 bytes", msg, want)
		}
	}
}

// A peer whose first bytes are few, or whose first frame is empty, is
// told apart from a reply too large the same way.
func TestBinaryClientAgainstForeignBytes(t *testing.T) {
	for _, tc := range []struct {
		answer  string
		foreign bool
	}{
		{"HTTP/1.1 400 Bad Request\r\n\r\n", true},
		{"\x00\x00\x00\x00", true},            // an empty frame: never a reply
		{"\x00\x00\x00\x05hello", true},       // a frame that holds no fixarray(2)
		{"\xff\xff\xff\x00\x92\xa2ok", false}, // a reply too large
		{"HTTP", false},                       // too few bytes to tell: the peer closed
	} {
		ln, err := stdnet.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		served := make(chan struct{})
		go func() {
			defer close(served)
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			_, _ = c.Write([]byte(tc.answer))
		}()
		_, err = DoRequest(testContext(t), ln.Addr().String(), []byte("hi"))
		ln.Close()
		<-served
		if errors.Is(err, ErrForeignPeer) != tc.foreign || err == nil {
			t.Errorf("answer %q: %v; foreign peer: %v", tc.answer, err, tc.foreign)
		}
	}
}

func TestLineClientChecks(t *testing.T) {
	ctx := testContext(t)
	addr := freeAddr(t) // the checks come before connecting
	for _, req := range []string{"a\nb", "a\r\nb", "a\r", "a\n", "\r\n\r\n", "a\r\n\r\n"} {
		if _, err := DoLineRequest(ctx, addr, req); !errors.Is(err, ErrLineBreak) {
			t.Errorf("request %q: %v, want ErrLineBreak", req, err)
		}
	}
	long := strings.Repeat("l", 11)
	if _, err := Do(ctx, addr, []byte(long), &Options{Lines: true, MaxLine: 10}); !errors.Is(err, ErrLineTooLong) {
		t.Errorf("line of 11 bytes, limit 10: %v, want ErrLineTooLong", err)
	}
	if _, err := Do(ctx, addr, []byte(long[:10]+"\r\n"), &Options{Lines: true, MaxLine: 10}); !errors.As(err, new(*DialError)) {
		t.Errorf("line of 10 bytes and CRLF, limit 10: %v, want it sent (a *DialError)", err)
	}
}

func TestLineMode(t *testing.T) {
	opts := &Options{Lines: true, MaxLine: 32}
	s := startServer(t, StringHandler(func(_ context.Context, req string) (string, error) {
		switch req {
		case "fail":
			return "", errors.New("bad\r\nthing")
		case "panic":
			panic("oops")
		case "multi":
			return "line one\r\nline two\r\n", nil
		}
		return "you said: " + req, nil
	}), opts)
	ctx := testContext(t)
	for _, tc := range []struct{ req, want string }{
		{"hello", "you said: hello"},
		{"", "you said: "},
		{"multi", "line one\r\nline two\r\n"},
		{"fail", "error: bad  thing\r\n"},
		{"panic", "error: panic: oops\r\n"},
		{strings.Repeat("x", 32), "you said: " + strings.Repeat("x", 32)},
	} {
		got, err := Do(ctx, s.Addr(), []byte(tc.req), opts)
		if err != nil || string(got) != tc.want {
			t.Errorf("request %q: got %q, %v; want %q", tc.req, got, err, tc.want)
		}
	}
	// A telnet-like client: writes a line ending in LF and more after it,
	// keeps its side open, reads until the server closes.
	for _, tc := range []struct{ send, want string }{
		{"plain\nignored\n", "you said: plain"},
		{"crlf\r\n", "you said: crlf"},
		{strings.Repeat("y", 40), "error: request line refused: line longer than the 32-byte limit\r\n"},
	} {
		conn, err := (&stdnet.Dialer{}).DialContext(ctx, "tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(patience))
		if _, err := io.WriteString(conn, tc.send); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(conn)
		conn.Close()
		if err != nil || string(got) != tc.want {
			t.Errorf("raw %q: got %q, %v; want %q", tc.send, got, err, tc.want)
		}
	}
}

func TestLineServerWithNetcat(t *testing.T) {
	if _, err := exec.LookPath("nc"); err != nil {
		t.Skip("nc not found: install netcat-openbsd to run this test")
	}
	s := startServer(t, StringHandler(func(_ context.Context, req string) (string, error) {
		return strings.ToUpper(req) + "\n", nil
	}), &Options{Lines: true})
	_, port, _ := stdnet.SplitHostPort(s.Addr())
	ctx := testContext(t)
	// -N half-closes after stdin's end, as a scripted telnet user would;
	// -C sends CRLF line ends.
	for _, args := range [][]string{{"-N"}, {"-N", "-C"}} {
		cmd := exec.CommandContext(ctx, "nc", append(args, "127.0.0.1", port)...)
		cmd.Stdin = strings.NewReader("hello, netcat\n")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("nc %v: %v: %s", args, err, out)
		}
		if string(out) != "HELLO, NETCAT\n" {
			t.Fatalf("nc %v: got %q", args, out)
		}
	}
}

func TestServeContext(t *testing.T) {
	entered := make(chan struct{}, 1)
	s, err := NewServer("127.0.0.1:0", func(ctx context.Context, req []byte) ([]byte, error) {
		if string(req) == "wait" {
			entered <- struct{}{}
			<-ctx.Done()
			return nil, context.Cause(ctx)
		}
		return req, nil
	}, &Options{MaxConcurrent: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := testContext(t)

	serveCtx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- s.Serve(serveCtx) }()
	if got, err := DoString(ctx, s.Addr(), "x"); err != nil || got != "x" {
		t.Fatalf("%q, %v", got, err)
	}
	// Cancelling Serve's context cancels the handler it runs, then Serve
	// returns.
	errc := make(chan error, 1)
	go func() {
		_, err := DoRequest(ctx, s.Addr(), []byte("wait"))
		errc <- err
	}()
	wait(t, entered, "the handler")
	stop()
	if err := wait(t, served, "Serve"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Serve returned %v, want context.Canceled", err)
	}
	var re *RemoteError
	if err := wait(t, errc, "the request"); !errors.As(err, &re) || re.Message != "context canceled" {
		t.Fatalf("request during cancel: %v", err)
	}
	// The server still listens; a new Serve answers.
	go func() { served <- s.Serve(ctx) }()
	if got, err := DoString(ctx, s.Addr(), "again"); err != nil || got != "again" {
		t.Fatalf("%q, %v", got, err)
	}
	s.Close()
	if err := wait(t, served, "Serve"); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve after Close returned %v, want ErrServerClosed", err)
	}
}

func TestShutdown(t *testing.T) {
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	s := startServer(t, func(ctx context.Context, req []byte) ([]byte, error) {
		if string(req) == "slow" {
			entered <- struct{}{}
			<-release
		}
		return req, nil
	}, &Options{MaxConcurrent: 4})
	ctx := testContext(t)
	slow := make(chan error, 1)
	go func() {
		got, err := DoString(ctx, s.Addr(), "slow")
		if err == nil && got != "slow" {
			err = fmt.Errorf("got %q", got)
		}
		slow <- err
	}()
	wait(t, entered, "the handler")
	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(ctx) }()
	for {
		s.mu.Lock()
		shutting := s.shutting
		s.mu.Unlock()
		if shutting {
			break
		}
		runtime.Gosched()
	}
	_, err := DoRequest(ctx, s.Addr(), []byte("late"))
	var re *RemoteError
	if !errors.As(err, &re) || re.Message != "server shutting down" {
		t.Fatalf("request during Shutdown: %v", err)
	}
	close(release)
	if err := wait(t, slow, "the slow request"); err != nil {
		t.Fatalf("request in flight at Shutdown: %v", err)
	}
	if err := wait(t, shut, "Shutdown"); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if _, err := DoRequest(ctx, s.Addr(), nil); !errors.As(err, new(*DialError)) {
		t.Fatalf("after Shutdown: %v, want *DialError", err)
	}
}

// waitGoroutines waits until no more than n goroutines run.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, want at most %d:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
	}
}

func TestCloseLeavesNoGoroutine(t *testing.T) {
	ctx := testContext(t)
	baseline := runtime.NumGoroutine()
	for _, opts := range []*Options{nil, {MaxConcurrent: 4}, {MaxConcurrent: -1}, {Lines: true}} {
		blocked := make(chan struct{}, 8)
		var running atomic.Int32 // handlers not yet returned
		s, err := NewServer("127.0.0.1:0", func(ctx context.Context, req []byte) ([]byte, error) {
			running.Add(1)
			defer running.Add(-1)
			if string(req) == "block" {
				blocked <- struct{}{}
				<-ctx.Done()
				return nil, ctx.Err()
			}
			return req, nil
		}, opts)
		if err != nil {
			t.Fatal(err)
		}
		s.Start()
		for range 5 {
			if _, err := Do(ctx, s.Addr(), []byte("x"), opts); err != nil {
				t.Fatal(err)
			}
		}
		// A request still in the handler, and one waiting for it, at Close.
		errc := make(chan error, 2)
		go func() {
			_, err := Do(ctx, s.Addr(), []byte("block"), opts)
			errc <- err
		}()
		wait(t, blocked, "the handler")
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if n := running.Load(); n != 0 {
			t.Fatalf("Close returned with %d handlers running", n)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		wait(t, errc, "the request cut by Close")
	}
	waitGoroutines(t, baseline)

	// Serving on the caller's goroutine, and Shutdown.
	s, err := NewServer("127.0.0.1:0", echo, nil)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }()
	if _, err := DoRequest(ctx, s.Addr(), []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	wait(t, served, "Serve")
	waitGoroutines(t, baseline)
}

func TestBadOptions(t *testing.T) {
	for _, o := range []*Options{{MaxSize: -1}, {MaxLine: -1}, {MaxSize: 1 << 62}} {
		if _, err := NewServer("127.0.0.1:0", echo, o); err == nil {
			t.Errorf("NewServer with %+v: no error", *o)
		}
		if _, err := Do(context.Background(), "127.0.0.1:1", nil, o); err == nil {
			t.Errorf("Do with %+v: no error", *o)
		}
	}
	if _, err := NewServer("127.0.0.1:0", nil, nil); err == nil {
		t.Error("NewServer with a nil handler: no error")
	}
}
