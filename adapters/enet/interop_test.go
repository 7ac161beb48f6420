//go:build cgo

package enet_test

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/enet"
	"github.com/gonetic/gonetic/adapters/msgpack"
	"github.com/gonetic/gonetic/message"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/token"
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

// interopPos is pos(x,y), on channel 1, sequenced: interop.py's fourth
// type with --token.
type interopPos struct{ X, Y float32 }

// interopFactory is interop.py's registry; with pos, its registry with
// --token.
func interopFactory(pos bool) *message.Factory {
	f := message.NewFactory(msgpack.New())
	message.MustRegister[interopChat](f, message.Name("chat_msg"))
	message.MustRegister[interopSnapshot](f, message.Name("snapshot"), message.SentBy(message.ServerToClient))
	message.MustRegister[interopAim](f, message.Name("aim"), message.SentBy(message.ClientToServer), message.MaxSize(200))
	if pos {
		message.MustRegister[interopPos](f, message.Name("pos"), message.Channel(1), message.Deliver(message.Sequenced))
	}
	return f
}

// relayHandler reports the opening, the chats, the aims and the end of
// one server connection, broadcasts every chat to the other connections and answers
// an aim with a snapshot of players where the aim's path goes.
type relayHandler struct {
	gnet.Handler
	opened chan<- *gnet.Conn
	chats  chan<- interopChat
	aims   chan<- interopAim
	gone   chan<- error
}

func (h *relayHandler) OnConnect() { h.opened <- h.Conn() }

// posRelayHandler is relayHandler for the registry with pos: it reports
// each pos and sends it back.
type posRelayHandler struct {
	relayHandler
	positions chan<- interopPos
}

func (h *posRelayHandler) NetPos(m interopPos) {
	h.positions <- m
	_ = h.Conn().Send(&m)
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

// needPython skips the test without /usr/bin/python3 and the modules
// (Debian packages pkgs, which make deps installs), or fails it where the
// CI environment variable is set: there, a missing package must not pass
// unnoticed.
func needPython(t *testing.T, modules, pkgs string) {
	t.Helper()
	if err := exec.Command(python, "-c", "import "+modules).Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("needs %s with %s (Debian: %s; make deps): %v", python, modules, pkgs, err)
		}
		t.Skipf("needs %s with %s (Debian: %s; make deps): %v", python, modules, pkgs, err)
	}
}

// interopServer is a gonetic server over ENet for interop.py, with a Go
// client connected to it; tokens, if set, makes the server take only
// connect tokens issued under its key for tokenServer, and the Go client
// use one (client id 1).
type interopServer struct {
	s           *gnet.Server
	goConn      *gnet.Conn
	opened      chan *gnet.Conn
	serverChats chan interopChat
	clientChats chan interopChat
	aims        chan interopAim
	positions   chan interopPos
	gone        chan error
}

// tokenServer is the interop server's name in connect tokens.
const tokenServer = "interop-1"

func startInterop(t *testing.T, ctx context.Context, tokens *gnet.Tokens) *interopServer {
	t.Helper()
	tr, err := enet.New(&enet.Options{PeerLimit: 8})
	if err != nil {
		t.Fatal(err)
	}
	is := &interopServer{
		opened:      make(chan *gnet.Conn, 4),
		serverChats: make(chan interopChat, 64),
		clientChats: make(chan interopChat, 64),
		aims:        make(chan interopAim, 4),
		positions:   make(chan interopPos, 4),
		gone:        make(chan error, 16),
	}
	sealed := tokens != nil
	is.s, err = gnet.Listen(gnet.ServerConfig{
		// Pings every 20 ms: interop.py answers one before its bye.
		Config: gnet.Config{Factory: interopFactory(sealed), Transport: tr, PingInterval: 20 * time.Millisecond},
		Addr:   "127.0.0.1:0",
		Tokens: tokens,
		NewHandler: func() any {
			h := relayHandler{opened: is.opened, chats: is.serverChats, aims: is.aims, gone: is.gone}
			if sealed {
				return &posRelayHandler{relayHandler: h, positions: is.positions}
			}
			return &h
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { is.s.Close() })
	t.Cleanup(loop(is.s)) // runs before the Close above
	c, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: interopFactory(sealed), Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	var opts []gnet.ConnectOption
	if tokens != nil {
		opts = append(opts, gnet.WithToken(issueToken(t, tokens.Key, 1)))
	}
	is.goConn, err = c.Dial(ctx, is.s.Addr(), &clientHandler{chats: is.clientChats}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(loop(c))
	select {
	case sc := <-is.opened:
		if sc.Sealed() != (tokens != nil) || is.goConn.Sealed() != (tokens != nil) {
			t.Fatalf("the Go client's connection: Sealed %v on the server, %v on the client; want %v", sc.Sealed(), is.goConn.Sealed(), tokens != nil)
		}
	case <-ctx.Done():
		t.Fatal("the Go client's connection did not open on the server")
	}
	return is
}

// issueToken issues a connect token under key for tokenServer, for client
// id, valid for a minute.
func issueToken(t *testing.T, key token.Key, id uint64) []byte {
	t.Helper()
	now := time.Now()
	tok, err := token.Issue(key, token.Claims{ClientID: id, Servers: []string{tokenServer}, Expires: now.Add(time.Minute)}, now)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// pythonRun is a running interop.py and what it said so far.
type pythonRun struct {
	cmd    *exec.Cmd
	lines  chan string
	stderr *strings.Builder
}

// startPython runs interop.py against addr with args before HOST PORT.
func startPython(t *testing.T, ctx context.Context, addr string, args ...string) *pythonRun {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	cmd := exec.CommandContext(ctx, python, append(append([]string{"testdata/interop.py"}, args...), host, port)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &pythonRun{cmd: cmd, lines: make(chan string, 64), stderr: new(strings.Builder)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
	}()
	return p
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
	needPython(t, "enet, msgpack", "python3-enet, python3-msgpack")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	is := startInterop(t, ctx, nil)
	sc := runConversation(t, ctx, is, startPython(t, ctx, is.s.Addr()), 0)
	if sc.Sealed() {
		t.Error("python's connection without a token is sealed")
	}
}

// TestPythonInteropSealed runs interop.py with a connect token (written
// from docs/PROTOCOL.md's Connect tokens and Sealed connections, with
// python3-nacl) against a server that takes only tokens: the handshake
// keys the connection, and the whole conversation of TestPythonInterop
// runs sealed both ways; the server's connection reports Sealed and the
// token's client id. A ticket altered in its sealed part is refused with
// the documented reason.
func TestPythonInteropSealed(t *testing.T) {
	needPython(t, "enet, msgpack, nacl.bindings", "python3-enet, python3-msgpack, python3-nacl")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	key := token.NewKey()
	is := startInterop(t, ctx, &gnet.Tokens{Key: key, Server: tokenServer})
	tok := issueToken(t, key, 2)
	sc := runConversation(t, ctx, is, startPython(t, ctx, is.s.Addr(), "--token", hex.EncodeToString(tok)), len(tok)-64)
	if !sc.Sealed() {
		t.Error("python's connection with a token is not sealed on the server")
	}
	if g, ok := sc.Identity().(*token.Grant); !ok || g.ClientID != 2 {
		t.Errorf("python's connection has identity %#v, want the token's grant, client id 2", sc.Identity())
	}

	// The same token with one byte of its ticket's sealed part changed
	// (the ticket ends 64 bytes before the token: the two keys follow it).
	bad := append([]byte(nil), tok...)
	bad[len(bad)-64-1] ^= 1
	p := startPython(t, ctx, is.s.Addr(), "--token", hex.EncodeToString(bad))
	var out []string
	for l := range p.lines {
		out = append(out, l)
	}
	err := p.cmd.Wait()
	const want = "FAIL: refused: token: connect token altered or sealed with another key"
	if err == nil || len(out) == 0 || out[len(out)-1] != want {
		t.Fatalf("python with an altered token: %v, said:\n%s\nwant its last line %q", err, strings.Join(out, "\n"), want)
	}
	select {
	case sc := <-is.opened:
		t.Fatalf("a connection with an altered token opened: %v", sc)
	default:
	}
}

// runConversation has python, a running interop.py, and the Go client of
// is talk through the server; ticket is the size of python's token's
// ticket, 0 without a token. It returns python's connection on the
// server, once it ended.
func runConversation(t *testing.T, ctx context.Context, is *interopServer, py *pythonRun, ticket int) *gnet.Conn {
	t.Helper()
	serverChats, clientChats, aims, gone, goConn := is.serverChats, is.clientChats, is.aims, is.gone, is.goConn
	cmd, lines, stderr := py.cmd, py.lines, py.stderr
	var transcript []string
	// next returns Python's next line that has prefix, after logging the
	// lines before it; it fails the test if Python ends or fails first.
	// record keeps a line of python's, and fails the test if it says FAIL.
	record := func(l string) {
		t.Helper()
		transcript = append(transcript, l)
		if strings.HasPrefix(l, "FAIL") {
			t.Fatalf("python: %s\n%s\nstderr:\n%s", l, strings.Join(transcript, "\n"), stderr.String())
		}
	}
	seen := 0        // the lines of transcript next has looked at
	pyLines := lines // nil once python's stdout ended
	// next returns Python's next line that has prefix, after the lines
	// before it; it fails the test if Python ends or fails first.
	next := func(prefix string) string {
		t.Helper()
		for {
			for seen < len(transcript) {
				seen++
				if l := transcript[seen-1]; strings.HasPrefix(l, prefix) {
					return l
				}
			}
			if pyLines == nil {
				t.Fatalf("python ended before %q:\n%s\nstderr:\n%s", prefix, strings.Join(transcript, "\n"), stderr.String())
			}
			select {
			case l, ok := <-pyLines:
				if !ok {
					pyLines = nil
					continue
				}
				record(l)
			case <-ctx.Done():
				t.Fatalf("no %q from python:\n%s", prefix, strings.Join(transcript, "\n"))
			}
		}
	}
	// waitChat returns the next chat on ch; it fails the test if Python
	// fails first.
	waitChat := func(ch <-chan interopChat, who string) interopChat {
		t.Helper()
		for {
			select {
			case m := <-ch:
				return m
			case l, ok := <-pyLines:
				if !ok {
					pyLines = nil
					continue
				}
				record(l)
			case <-ctx.Done():
				t.Fatalf("%s got no chat; python said:\n%s", who, strings.Join(transcript, "\n"))
			}
		}
	}

	// Python computed the hash from the documented text (nested structs,
	// directions and MaxSize included); it is the server's, and the
	// example of docs/PROTOCOL.md.
	sealed := ticket > 0
	hash := interopFactory(sealed).Hash()
	l := next("sent hello")
	if !strings.Contains(l, fmt.Sprintf("hash %x,", hash[:])) || (!sealed && !strings.Contains(l, "hash "+interopHash+",")) {
		t.Errorf("python's hello: %s; the registry's hash is %x, docs/PROTOCOL.md's %s", l, hash[:], interopHash)
	}
	if sealed {
		if !strings.HasSuffix(l, fmt.Sprintf(", a ticket of %d bytes", ticket)) {
			t.Errorf("python's hello: %s; want a ticket of %d bytes", l, ticket)
		}
		next("got session")
	}
	next("got welcome")
	var sc *gnet.Conn
	select {
	case sc = <-is.opened:
	case <-ctx.Done():
		t.Fatalf("python's connection did not open on the server; python said:\n%s", strings.Join(transcript, "\n"))
	}
	if l := next("sent chat_msg"); !strings.HasSuffix(l, "93 01 a2 70 79 b1 68 65 6c 6c 6f 20 66 72 6f 6d 20 70 79 74 68 6f 6e") {
		t.Errorf("python's chat_msg bytes: %s", l)
	}
	if sealed {
		// Channel 0, reliable, the stream's second payload (after
		// python's first pong or not): the chat does not show.
		if l := next("sealed as"); !strings.HasPrefix(l, "sealed as 00 00 ") || strings.Contains(l, "68 65 6c 6c 6f") {
			t.Errorf("python's sealed chat_msg: %s", l)
		}
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
	if !sealed {
		if l := next("sent a bundle of 2 chat_msg"); !strings.HasSuffix(l,
			"01 0f 93 01 a2 70 79 a9 62 75 6e 64 6c 65 64 20 31 0f 93 01 a2 70 79 a9 62 75 6e 64 6c 65 64 20 32") {
			t.Errorf("python's bundle bytes: %s", l)
		}
	} else if l := next("sent 2 chat_msg in one sealed payload"); !strings.Contains(l, ": 00 00 ") ||
		strings.Contains(l, "62 75 6e 64 6c 65 64") || len(l) != len("sent 2 chat_msg in one sealed payload on channel 0: ")+3*(3+2*16+16)-1 {
		// Sealed: channel 0, reliable, a counter of one byte, then two
		// records of 16 bytes (the chats, hidden) and the tag.
		t.Errorf("python's sealed chats: %s", l)
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
	l = next("got the burst")
	var inOrder, bundled, gathered int
	if _, err := fmt.Sscanf(l, "got the burst: %d chat_msg in order, %d of them in bundles, %d in sealed payloads of several",
		&inOrder, &bundled, &gathered); err != nil || inOrder != burst {
		t.Errorf("python: %s (%v)", l, err)
	}
	// The server gathers a burst: in ENet bundles in clear, in sealed
	// payloads of several records when sealed.
	if !sealed && bundled < 2 {
		t.Errorf("python got none of the server's %d chats in a bundle: %s", burst, l)
	}
	if sealed && gathered < 2 {
		t.Errorf("python got none of the server's %d chats with others in a sealed payload: %s", burst, l)
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
	if sealed {
		// pos, sequenced on channel 1, both ways: an unreliable stream,
		// and sealed payloads that start with 01, the bundle mark, so
		// travel as a bundle of one (01, length 0x28, the sealed payload).
		if l := next("sent pos"); !strings.Contains(l, "sealed as 01 28 01 01 00 ") {
			t.Errorf("python's sealed pos: %s", l)
		}
		select {
		case m := <-is.positions:
			if m != (interopPos{1.5, -2}) {
				t.Errorf("the server got pos %+v from python", m)
			}
		case <-ctx.Done():
			t.Fatalf("the server got no pos; python said:\n%s", strings.Join(transcript, "\n"))
		}
		if l := next("got pos"); !strings.Contains(l, "{'x': 1.5, 'y': -2.0} on channel 1") {
			t.Errorf("python got %s", l)
		}
	}
	next("answered")
	if sealed {
		// Two channels: python disconnects after its bye (PROTOCOL.md, ENet).
		next("enet disconnected: data")
	} else {
		next("enet disconnected by the server: data 1")
	}
	if sealed {
		next("sealed: sent")
	}
	next("OK")
	for l := range lines { // closed or not, it ends with python's stdout
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
		// Python answered a ping before its bye: its pong, sealed with
		// a token, reached the server.
		if st := sc.Stats(); st.RTT == 0 || st.Rejected != 0 {
			t.Errorf("python's connection on the server: RTT %v, Rejected %d; want a pong's RTT and none rejected", st.RTT, st.Rejected)
		}
	case <-ctx.Done():
		t.Fatal("the server did not see python leave")
	}
	t.Logf("python's transcript:\n%s", strings.Join(transcript, "\n"))
	return sc
}

// TestPythonSealRules has interop.py check its sealing, written from
// docs/PROTOCOL.md, on the document's worked example (which
// net's TestSealVector checks on the Go code) and on the receiving rules
// of each delivery: what the Go server of TestPythonInteropSealed never
// sends (replays, gaps, forgeries) is covered here.
func TestPythonSealRules(t *testing.T) {
	needPython(t, "enet, msgpack, nacl.bindings", "python3-enet, python3-msgpack, python3-nacl")
	out, err := exec.Command(python, "testdata/interop.py", "--check-seal").CombinedOutput()
	if err != nil || !strings.HasSuffix(string(out), "\nOK\n") {
		t.Fatalf("interop.py --check-seal: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
