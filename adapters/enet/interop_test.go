//go:build cgo

package enet_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/enet"
	"github.com/gonetic/gonetic/adapters/msgpack"
	"github.com/gonetic/gonetic/message"
	gnet "github.com/gonetic/gonetic/net"
)

// burst is interop.py's BURST.
const burst = 20

// interopHash is the registry hash of interopFactory, as docs/PROTOCOL.md
// gives it.
const interopHash = "a49b1bed3573e4eddcadc27d89efb28c"

// python is the system interpreter, which has python3-enet and
// python3-msgpack (a PATH python3 may be another one).
const python = "/usr/bin/python3"

// interopChat is chat_msg(player, msg), the first type of the registry
// testdata/interop.py knows.
type interopChat struct {
	Player string
	Msg    string
}

// The nested types of interop.py: snapshot(tick,players[]{id,x,y}), sent
// by the server, and aim(origin{x,y},path[]{x,y}), sent by clients.
type (
	interopPlayer struct {
		ID   uint16
		X, Y float32
	}
	interopSnapshot struct {
		Tick    uint32
		Players []interopPlayer
	}
	interopVec struct{ X, Y float32 }
	interopAim struct {
		Origin interopVec
		Path   []interopVec
	}
)

func interopFactory() *message.Factory {
	f := message.NewFactory(msgpack.New())
	message.MustRegister[interopChat](f, message.Name("chat_msg"))
	message.MustRegister[interopSnapshot](f, message.Name("snapshot"), message.SentBy(message.ServerToClient))
	message.MustRegister[interopAim](f, message.Name("aim"), message.SentBy(message.ClientToServer), message.MaxSize(200))
	return f
}

// relayHandler reports the chats, the aims and the end of one server
// connection, broadcasts every chat to the other connections and answers
// an aim with a snapshot of players where the aim's path goes.
type relayHandler struct {
	gnet.Handler
	chats chan<- interopChat
	aims  chan<- interopAim
	gone  chan<- error
}

func (h *relayHandler) NetAim(m interopAim) {
	h.aims <- m
	snap := interopSnapshot{Tick: uint32(len(m.Path))}
	for i, p := range m.Path {
		snap.Players = append(snap.Players, interopPlayer{ID: uint16(i + 1), X: p.X, Y: p.Y})
	}
	_ = h.Conn().Send(&snap)
}

func (h *relayHandler) NetChatMsg(m interopChat) {
	h.chats <- m
	if m.Msg == "burst" {
		// burst chats from one handler call: they wait for ENet
		// together, so the server bundles them.
		for i := range burst {
			_ = h.Server().Broadcast(&interopChat{"server", fmt.Sprintf("burst %d", i)}, h.Conn())
		}
		return
	}
	_ = h.Server().Broadcast(&m, h.Conn())
}

func (h *relayHandler) OnDisconnect(reason error) { h.gone <- reason }

// clientHandler reports the chats a Go client receives.
type clientHandler struct{ chats chan<- interopChat }

func (h *clientHandler) NetChatMsg(m interopChat) { h.chats <- m }

// loop calls Update until stop is closed; done is closed when it returns.
func loop(u interface{ Update(time.Duration) error }) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			default:
			}
			if err := u.Update(5 * time.Millisecond); err != nil {
				return
			}
		}
	}()
	return func() { close(quit); <-done }
}

// TestPythonInterop runs testdata/interop.py, a client written from
// docs/PROTOCOL.md with pyenet and msgpack, against a gonetic server over
// ENet, next to a Go client: the Python client completes the handshake
// (with a registry hash it computes), its chat reaches the server and,
// relayed, the Go client; the Go client's chat reaches Python; a bundle of
// two chats from Python reaches both; a burst of chats the server sends
// from one handler call reaches Python in order, in bundles; Python's bye
// ends its connection with its reason.
func TestPythonInterop(t *testing.T) {
	if err := exec.Command(python, "-c", "import enet, msgpack").Run(); err != nil {
		t.Skipf("needs %s with the enet and msgpack modules (Debian: python3-enet, python3-msgpack): %v", python, err)
	}
	tr, err := enet.New(&enet.Options{PeerLimit: 8})
	if err != nil {
		t.Fatal(err)
	}
	serverChats, gone := make(chan interopChat, 64), make(chan error, 16)
	aims := make(chan interopAim, 4)
	s, err := gnet.Listen(gnet.ServerConfig{
		Config: gnet.Config{Factory: interopFactory(), Transport: tr},
		Addr:   "127.0.0.1:0",
		NewHandler: func() any {
			return &relayHandler{chats: serverChats, aims: aims, gone: gone}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	stopServer := loop(s)
	defer stopServer()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: interopFactory(), Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	clientChats := make(chan interopChat, 64)
	goConn, err := c.Dial(ctx, s.Addr(), &clientHandler{chats: clientChats})
	if err != nil {
		t.Fatal(err)
	}
	stopClient := loop(c)
	defer stopClient()

	_, port, _ := strings.Cut(s.Addr(), ":")
	cmd := exec.CommandContext(ctx, python, "testdata/interop.py", "127.0.0.1", port)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 64)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var transcript []string
	// next returns Python's next line that has prefix, after logging the
	// lines before it; it fails the test if Python ends or fails first.
	next := func(prefix string) string {
		t.Helper()
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("python ended before %q:\n%s\nstderr:\n%s", prefix, strings.Join(transcript, "\n"), stderr.String())
				}
				transcript = append(transcript, l)
				if strings.HasPrefix(l, "FAIL") {
					t.Fatalf("python: %s\n%s\nstderr:\n%s", l, strings.Join(transcript, "\n"), stderr.String())
				}
				if strings.HasPrefix(l, prefix) {
					return l
				}
			case <-ctx.Done():
				t.Fatalf("no %q from python:\n%s", prefix, strings.Join(transcript, "\n"))
			}
		}
	}
	waitChat := func(ch <-chan interopChat, who string) interopChat {
		t.Helper()
		select {
		case m := <-ch:
			return m
		case <-ctx.Done():
			t.Fatalf("%s got no chat; python said:\n%s", who, strings.Join(transcript, "\n"))
		}
		return interopChat{}
	}

	// Python computed the hash from the documented text (nested structs,
	// directions and MaxSize included); it is the server's, and the
	// example of docs/PROTOCOL.md.
	hash := interopFactory().Hash()
	if l := next("sent hello"); !strings.Contains(l, fmt.Sprintf("hash %x,", hash[:])) || !strings.Contains(l, "hash "+interopHash+",") {
		t.Errorf("python's hello: %s; the registry's hash is %x, docs/PROTOCOL.md's %s", l, hash[:], interopHash)
	}
	next("got welcome")
	if l := next("sent chat_msg"); !strings.HasSuffix(l, "93 01 a2 70 79 b1 68 65 6c 6c 6f 20 66 72 6f 6d 20 70 79 74 68 6f 6e") {
		t.Errorf("python's chat_msg bytes: %s", l)
	}
	if m := waitChat(serverChats, "the server"); m != (interopChat{"py", "hello from python"}) {
		t.Fatalf("the server got %+v from python", m)
	}
	if m := waitChat(clientChats, "the Go client"); m != (interopChat{"py", "hello from python"}) {
		t.Fatalf("the Go client got %+v relayed from python", m)
	}
	if err := goConn.Send(&interopChat{"go", "hello from go"}); err != nil {
		t.Fatal(err)
	}
	if m := waitChat(serverChats, "the server"); m != (interopChat{"go", "hello from go"}) {
		t.Fatalf("the server got %+v from the Go client", m)
	}
	if l := next("got chat_msg"); !strings.Contains(l, "{'player': 'go', 'msg': 'hello from go'} on channel 0") {
		t.Errorf("python got %s", l)
	}
	// A bundle from Python: both chats, in order, relayed to the Go client.
	if l := next("sent a bundle of 2 chat_msg"); !strings.HasSuffix(l,
		"01 0f 93 01 a2 70 79 a9 62 75 6e 64 6c 65 64 20 31 0f 93 01 a2 70 79 a9 62 75 6e 64 6c 65 64 20 32") {
		t.Errorf("python's bundle bytes: %s", l)
	}
	for i := 1; i <= 2; i++ {
		want := interopChat{"py", fmt.Sprintf("bundled %d", i)}
		if m := waitChat(serverChats, "the server"); m != want {
			t.Fatalf("the server got %+v from python's bundle, want %+v", m, want)
		}
		if m := waitChat(clientChats, "the Go client"); m != want {
			t.Fatalf("the Go client got %+v relayed from python's bundle, want %+v", m, want)
		}
	}
	// The Go client asks the server for a burst, which reaches Python in
	// bundles.
	if err := goConn.Send(&interopChat{"go", "burst"}); err != nil {
		t.Fatal(err)
	}
	if m := waitChat(serverChats, "the server"); m != (interopChat{"go", "burst"}) {
		t.Fatalf("the server got %+v from the Go client", m)
	}
	l := next("got the burst")
	var inOrder, bundled int
	if _, err := fmt.Sscanf(l, "got the burst: %d chat_msg in order, %d of them in bundles", &inOrder, &bundled); err != nil || inOrder != burst {
		t.Errorf("python: %s (%v)", l, err)
	}
	if bundled < 2 {
		t.Errorf("python got none of the server's %d chats in a bundle: %s", burst, l)
	}
	// An aim from Python, nested structs as arrays, answered with a
	// snapshot that Python reads back by the shape in its type line.
	if l := next("sent aim"); !strings.HasSuffix(l,
		"93 03 92 cb 3f f8 00 00 00 00 00 00 cb c0 00 00 00 00 00 00 00 92 92 cb 3f e0 00 00 00 00 00 00 cb 3f f0 00 00 00 00 00 00 92 cb 40 00 00 00 00 00 00 00 cb 40 10 00 00 00 00 00 00") {
		t.Errorf("python's aim bytes: %s", l)
	}
	select {
	case m := <-aims:
		if m.Origin != (interopVec{1.5, -2}) || len(m.Path) != 2 || m.Path[0] != (interopVec{0.5, 1}) || m.Path[1] != (interopVec{2, 4}) {
			t.Errorf("the server got aim %+v from python", m)
		}
	case <-ctx.Done():
		t.Fatalf("the server got no aim; python said:\n%s", strings.Join(transcript, "\n"))
	}
	if l := next("got snapshot"); !strings.HasSuffix(l,
		"on channel 0: 93 02 02 92 93 01 ca 3f 00 00 00 ca 3f 80 00 00 93 02 ca 40 00 00 00 ca 40 80 00 00") {
		t.Errorf("python got %s", l)
	}
	next("enet disconnected by the server: data 1")
	next("OK")
	for l := range lines {
		transcript = append(transcript, l)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.String())
	}
	select {
	case reason := <-gone:
		var de *gnet.DisconnectError
		if !errors.As(reason, &de) || !de.Remote || de.Reason != "python done" {
			t.Errorf("the server saw python leave with %#v, want its bye's reason", reason)
		}
	case <-ctx.Done():
		t.Fatal("the server did not see python leave")
	}
	t.Logf("python's transcript:\n%s", strings.Join(transcript, "\n"))
}
