package net

import (
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	stdnet "net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/message"
	"github.com/gonetic/gonetic/net/transport"
)

type tbEcho struct {
	N    int
	Text string
}

// tbServer echoes tb_echo.
type tbServer struct{ Handler }

func (h *tbServer) NetTbEcho(m tbEcho) { _ = h.Conn().Send(&m) }

type tbClient struct {
	Handler
	mu   sync.Mutex
	seen []int
}

func (h *tbClient) NetTbEcho(m tbEcho) {
	h.mu.Lock()
	h.seen = append(h.seen, m.N)
	h.mu.Unlock()
}

func (h *tbClient) saw(n int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.seen {
		if s == n {
			return true
		}
	}
	return false
}

func tbFactory() *message.Factory {
	f := NewFactory()
	message.MustRegister[tbEcho](f)
	return f
}

// TestTooLargeSaysBye: a peer that announces a frame over the limit reads
// back a bye that says so, before the server closes the connection; the
// server and its other connections go on.
func TestTooLargeSaysBye(t *testing.T) {
	const limit = 1000
	srv, err := Listen(ServerConfig{
		Config:     Config{Factory: tbFactory(), MaxMessageSize: limit},
		NewHandler: func() any { return &tbServer{} },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cli, err := NewClient(ClientConfig{Config: Config{Factory: tbFactory(), MaxMessageSize: limit}})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	h := &tbClient{}
	conn, err := cli.Connect(srv.Addr(), h)
	if err != nil {
		t.Fatal(err)
	}
	// One goroutine runs both game loops, as a game would.
	stop, pumped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(pumped)
		for {
			select {
			case <-stop:
				return
			default:
			}
			_ = srv.Update(time.Millisecond)
			_ = cli.Update(0)
		}
	}()
	defer func() { close(stop); <-pumped }()
	waitFor(t, "the client to connect", conn.Connected)

	raw, err := stdnet.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := raw.Write(binary.BigEndian.AppendUint32(nil, 1<<20)); err != nil {
		t.Fatal(err)
	}
	var head [4]byte
	if _, err := io.ReadFull(raw, head[:]); err != nil {
		t.Fatalf("no frame back: %v", err)
	}
	payload := make([]byte, binary.BigEndian.Uint32(head[:]))
	if _, err := io.ReadFull(raw, payload); err != nil {
		t.Fatal(err)
	}
	if len(payload) == 0 || payload[0] != controlMark {
		t.Fatalf("got % x, want a control payload", payload)
	}
	ctl, err := parseControl(ctlCodec.NewReader(), payload[1:])
	want := "too large: frame of 1048576 bytes exceeds the 1000-byte limit"
	if err != nil || ctl.kind != ctlBye || ctl.reason != want {
		t.Fatalf("got %+v, %v; want bye %q", ctl, err, want)
	}
	if rest, err := io.ReadAll(raw); err != nil || len(rest) != 0 {
		t.Fatalf("after bye: %q, %v; want the end of stream", rest, err)
	}

	if err := conn.Send(&tbEcho{N: 7}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the other connection's echo", func() bool { return h.saw(7) })
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 10 s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestFarewellReason(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&transport.FrameError{Reason: "frame of 9 bytes exceeds the 8-byte limit", TooLarge: true}, "too large: frame of 9 bytes exceeds the 8-byte limit"},
		{&transport.FrameError{Reason: "negative length"}, "bad frame: negative length"},
		{errors.New("tcp: busy"), "tcp: busy"},
	} {
		if got := farewellReason(tc.err); got != tc.want {
			t.Errorf("farewellReason(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
	long := farewellReason(&transport.FrameError{Reason: strings.Repeat("é", 1000)})
	if len(long) > MaxReasonBytes || !strings.HasSuffix(long, "…") || !strings.HasPrefix(long, "bad frame: é") {
		t.Errorf("a long reason is not cut to %d bytes: %d bytes, %q", MaxReasonBytes, len(long), long)
	}
}

// tbFlood floods every connection it serves and reports how each ended.
type tbFlood struct {
	Handler
	ended chan error
}

func (h *tbFlood) OnDisconnect(reason error) { h.ended <- reason }

// TestPeerNotReadingIsTooSlow: a peer that finishes the handshake and then
// reads nothing is disconnected, and the server's handler learns that it
// was too slow.
func TestPeerNotReadingIsTooSlow(t *testing.T) {
	ended := make(chan error, 1)
	srv, err := Listen(ServerConfig{
		Config: Config{
			Factory:   tbFactory(),
			Transport: tcp.New(tcp.Options{WriteTimeout: 100 * time.Millisecond}),
		},
		NewHandler: func() any { return &tbFlood{ended: ended} },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	raw, err := stdnet.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.(*stdnet.TCPConn).SetReadBuffer(4096)
	f := tbFactory()
	h := f.Hash()
	hello := appendControl(ctlCodec.NewWriter(), nil, control{kind: ctlHello, version: ProtocolVersion, codec: f.Codec().Name(), hash: h[:], lines: f.Lines()})
	if _, err := raw.Write(binary.BigEndian.AppendUint32(nil, uint32(len(hello)))); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Write(hello); err != nil {
		t.Fatal(err)
	}
	big := &tbEcho{Text: strings.Repeat("x", 32<<10)}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_ = srv.Update(time.Millisecond)
		for c := range srv.Connections(nil) {
			for c.Send(big) == nil { // until the queue is full
			}
		}
		select {
		case reason := <-ended:
			if !errors.Is(reason, transport.ErrTooSlow) || !strings.Contains(reason.Error(), "too slow") {
				t.Fatalf("OnDisconnect(%v), want an error matching transport.ErrTooSlow", reason)
			}
			return
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the peer that does not read was not disconnected within 10 s")
		}
	}
}

// syncBuffer is a bytes.Buffer for a Logger written from several
// goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
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

// TestFarewellWithHelloWaiting: a peer sends its hello and, right behind
// it, a frame over the limit. The adapter ends the link (bye "too large")
// while the hello still waits for Update; the log says why, and the
// hello, handled later, is not taken for a protocol error that would
// replace that reason.
func TestFarewellWithHelloWaiting(t *testing.T) {
	var log syncBuffer
	srv, err := Listen(ServerConfig{Config: Config{
		Factory:        tbFactory(),
		MaxMessageSize: 1000,
		Logger:         slog.New(slog.NewTextHandler(&log, nil)),
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	raw, err := stdnet.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(10 * time.Second))
	f := tbFactory()
	h := f.Hash()
	hello := appendControl(ctlCodec.NewWriter(), nil, control{kind: ctlHello, version: ProtocolVersion, codec: f.Codec().Name(), hash: h[:], lines: f.Lines()})
	b := binary.BigEndian.AppendUint32(nil, uint32(len(hello)))
	b = append(b, hello...)
	b = binary.BigEndian.AppendUint32(b, 1<<20)
	if _, err := raw.Write(b); err != nil {
		t.Fatal(err)
	}
	// The bye comes from the adapter's goroutine: no Update has run yet.
	var head [4]byte
	if _, err := io.ReadFull(raw, head[:]); err != nil {
		t.Fatal(err)
	}
	bye := make([]byte, binary.BigEndian.Uint32(head[:]))
	if _, err := io.ReadFull(raw, bye); err != nil || !strings.Contains(string(bye), "too large") {
		t.Fatalf("read %q, %v; want a bye saying too large", bye, err)
	}
	raw.Close()
	waitFor(t, "the connection to end", func() bool {
		_ = srv.Update(time.Millisecond)
		return srv.e.live() == 0
	})
	got := log.String()
	if !strings.Contains(got, "its adapter ends the link") || !strings.Contains(got, "too large") {
		t.Errorf("the log does not say why the link ended:\n%s", got)
	}
	if strings.Contains(got, "protocol error") {
		t.Errorf("the hello that waited was taken for a protocol error:\n%s", got)
	}
}
