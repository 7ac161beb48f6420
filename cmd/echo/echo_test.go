package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	stdnet "net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitLimit bounds every wait: generous, for slow and busy machines.
const waitLimit = 20 * time.Second

// mainEnv, when set, makes the test binary run the echo program itself,
// with the arguments it holds, for TestProcess.
const mainEnv = "GONETIC_ECHO_ARGS"

func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv(mainEnv); ok {
		os.Exit(run(context.Background(), strings.Fields(args), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// server is the echo program running in this process.
type server struct {
	addr   string
	stop   context.CancelFunc
	code   chan int
	stderr syncBuffer
}

// start runs the program with args and the -addr flag on 127.0.0.1:0, and
// returns once it has printed its address.
func start(t *testing.T, args ...string) *server {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	s := &server{stop: stop, code: make(chan int, 1)}
	pr, pw := io.Pipe()
	go func() {
		s.code <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), pw, &s.stderr)
		pw.Close()
	}()
	s.addr = listeningOn(t, pr)
	t.Cleanup(func() {
		stop()
		if code := s.exit(t); code != 0 {
			t.Errorf("exit code %d", code)
		}
		if t.Failed() {
			t.Logf("the server's log:\n%s", s.stderr.String())
		}
	})
	return s
}

// listeningOn reads "listening on ADDR" from the program's stdout, returns
// ADDR and discards the rest.
func listeningOn(t *testing.T, stdout io.Reader) string {
	t.Helper()
	line := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		l, _ := r.ReadString('\n')
		line <- l
		io.Copy(io.Discard, r)
	}()
	select {
	case l := <-line:
		addr, ok := strings.CutPrefix(strings.TrimSpace(l), "listening on ")
		if !ok {
			t.Fatalf("the server printed %q", l)
		}
		return addr
	case <-time.After(waitLimit):
		t.Fatal("the server did not print its address in time")
		return ""
	}
}

func (s *server) exit(t *testing.T) int {
	t.Helper()
	select {
	case code := <-s.code:
		s.code <- code
		return code
	case <-time.After(waitLimit):
		t.Fatal("the server did not stop in time")
		return -1
	}
}

// exchange sends input to the echo server at addr in writes of chunk bytes
// (all at once if 0), half-closes, and returns all that comes back.
func exchange(t *testing.T, addr, input string, chunk int) string {
	t.Helper()
	c, err := stdnet.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(waitLimit))
	for b := []byte(input); len(b) > 0; {
		n := len(b)
		if chunk > 0 {
			n = min(chunk, n)
		}
		if _, err := c.Write(b[:n]); err != nil {
			break // the server may close on a bad frame
		}
		b = b[n:]
	}
	c.(*stdnet.TCPConn).CloseWrite()
	out, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, stdnet.ErrClosed) && !isReset(err) {
		t.Fatalf("reading the echo of %.20q: %v", input, err)
	}
	return string(out)
}

func isReset(err error) bool {
	var op *stdnet.OpError
	return errors.As(err, &op) && op.Op == "read" && !op.Timeout()
}

func TestEcho(t *testing.T) {
	s := start(t, "-max", "100")
	max := strings.Repeat("m", 100)
	for _, tc := range []struct{ name, in, want string }{
		{"one frame", "5 hello", "hello"},
		{"many frames", "5 hello0 3 abc1 \n", "helloabc\n"},
		{"spaces inside", "11 hello world", "hello world"},
		{"exactly the limit", "100 " + max, max},
		{"bad length", "abc", ""},
		{"no space", "5hello", ""},
		{"negative", "-5 hello", ""},
		{"over the limit", "101 " + max + "x", ""},
		{"good then bad", "2 ok5hello", "ok"},
	} {
		for _, chunk := range []int{0, 1} {
			if got := exchange(t, s.addr, tc.in, chunk); got != tc.want {
				t.Errorf("%s, chunks of %d: got %q, want %q", tc.name, chunk, got, tc.want)
			}
		}
	}
}

// TestOversizedClosesEarly: a length over the limit closes the connection
// before the client sends a byte of the data.
func TestOversizedClosesEarly(t *testing.T) {
	s := start(t, "-max", "100")
	c, err := stdnet.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(waitLimit))
	c.Write([]byte("101 "))
	if out, err := io.ReadAll(c); len(out) != 0 || err != nil && !isReset(err) {
		t.Fatalf("read %q, %v; want the connection closed", out, err)
	}
}

// TestStopFlushes: a stop while a client is connected ends its connection
// cleanly, with an end of stream rather than a reset; the program then
// exits 0.
func TestStopFlushes(t *testing.T) {
	s := start(t)
	c, err := stdnet.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(waitLimit))
	c.Write([]byte("5 hello"))
	got := make([]byte, 5)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "hello" {
		t.Fatalf("read %q, %v", got, err)
	}
	s.stop()
	rest, err := io.ReadAll(c) // the server's end of stream
	if err != nil || len(rest) != 0 {
		t.Fatalf("after the stop, read %q, %v", rest, err)
	}
	c.Close()
	if code := s.exit(t); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if log := s.stderr.String(); !strings.Contains(log, "msg=stopped") {
		t.Fatalf("the log does not say it stopped:\n%s", log)
	}
}

// TestNetcat runs the command from the package documentation.
func TestNetcat(t *testing.T) {
	if _, err := exec.LookPath("nc"); err != nil {
		t.Skip("nc (netcat-openbsd) is not on PATH")
	}
	s := start(t)
	netcat(t, s.addr)
}

// netcat pipes "5 hello" into nc, with -N and with -q1, and expects "hello".
func netcat(t *testing.T, addr string) {
	t.Helper()
	host, port, _ := stdnet.SplitHostPort(addr)
	for _, flag := range []string{"-N", "-q1"} {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		cmd := exec.CommandContext(ctx, "sh", "-c", "printf '5 hello' | nc "+flag+" "+host+" "+port)
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil || string(out) != "hello" {
			t.Errorf("printf '5 hello' | nc %s: %q, %v; want \"hello\"", flag, out, err)
		}
	}
}

func TestFlags(t *testing.T) {
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"-max", "0"}, io.Discard, &stderr); code != 2 {
		t.Errorf("-max 0: exit code %d, want 2", code)
	}
	if code := run(context.Background(), []string{"-bogus"}, io.Discard, &stderr); code != 2 {
		t.Errorf("-bogus: exit code %d, want 2", code)
	}
	if code := run(context.Background(), []string{"-addr", "256.0.0.1:0"}, io.Discard, &stderr); code != 1 {
		t.Errorf("a bad address: exit code %d, want 1", code)
	}
}
