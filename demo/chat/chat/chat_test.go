package chat_test

import (
	"context"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/mem"
	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/demo/chat/chat"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/transport"
)

// deadline turns a hang into a failure; tests wait on conditions, never
// on time.
const deadline = 30 * time.Second

// rig is a chat server and its users over an in-memory network, or over
// TCP on 127.0.0.1 (newTCPRig).
type rig struct {
	t      *testing.T
	tr     transport.Transport
	addr   string
	srv    *gnet.Server
	room   *chat.Room
	log    *logBuffer // the room's log
	users  []*user
	probes []*probe // raw clients that send what a Session would not
	// approve is the server's ServerConfig.Approve, set before listen.
	approve func(context.Context, gnet.Hello) (any, error)
	// tokens is the server's ServerConfig.Tokens, set before listen.
	tokens *gnet.Tokens
	// login is every Session's SessionConfig.Login, set before join.
	login func(ctx context.Context, nick string) ([]byte, error)
}

// user is a Session and the lines it printed.
type user struct {
	s     *chat.Session
	lines []chat.Line
}

func newRig(t *testing.T) *rig {
	return startRig(t, new(mem.Network), "chat:7777")
}

// newTCPRig is a rig on real sockets, 127.0.0.1 and a free port.
func newTCPRig(t *testing.T) *rig {
	r := startRig(t, tcp.New(tcp.Options{}), "127.0.0.1:0")
	r.addr = r.srv.Addr()
	return r
}

func startRig(t *testing.T, tr transport.Transport, addr string) *rig {
	return startRigWith(t, tr, addr, nil, nil)
}

// startRigWith starts a rig whose server approves hellos with approve and
// admits tokens with tokens (each may be nil).
func startRigWith(t *testing.T, tr transport.Transport, addr string, approve func(context.Context, gnet.Hello) (any, error), tokens *gnet.Tokens) *rig {
	r := &rig{t: t, tr: tr, addr: addr, log: new(logBuffer), approve: approve, tokens: tokens}
	r.listen()
	t.Cleanup(func() {
		for _, u := range r.users {
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			u.s.Close(ctx)
			cancel()
		}
		for _, p := range r.probes {
			p.client.Close()
		}
		if r.srv != nil {
			r.srv.Close()
		}
	})
	return r
}

func (r *rig) listen() {
	r.t.Helper()
	f, err := chat.NewFactory("msgpack")
	if err != nil {
		r.t.Fatal(err)
	}
	r.room = chat.NewRoom(slog.New(slog.NewTextHandler(r.log, nil)))
	r.srv, err = gnet.Listen(gnet.ServerConfig{
		Config:     gnet.Config{Factory: f, Transport: r.tr},
		Addr:       r.addr,
		NewHandler: r.room.NewHandler,
		Tokens:     r.tokens,
		Approve:    r.approve,
	})
	if err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) join(nick string) *user {
	r.t.Helper()
	return r.joinWith(nick, 0)
}

// joinWith starts a session with gonetic's keepalive interval keepAlive.
func (r *rig) joinWith(nick string, keepAlive time.Duration) *user {
	r.t.Helper()
	u := &user{}
	f, _ := chat.NewFactory("msgpack")
	s, err := chat.NewSession(chat.SessionConfig{
		Addr:       r.addr,
		Nick:       nick,
		Factory:    f,
		Transport:  r.tr,
		Output:     func(l chat.Line) { u.lines = append(u.lines, l) },
		MinBackoff: 5 * time.Millisecond,
		MaxBackoff: 20 * time.Millisecond,
		KeepAlive:  keepAlive,
		Login:      r.login,
	})
	if err != nil {
		r.t.Fatal(err)
	}
	u.s = s
	r.users = append(r.users, u)
	return u
}

// pump runs the server and every session until cond holds.
func (r *rig) pump(what string, cond func() bool) {
	r.t.Helper()
	end := time.Now().Add(deadline)
	for !cond() {
		if time.Now().After(end) {
			for _, u := range r.users {
				r.t.Logf("%s (%v) saw:\n%s", u.s.Nick(), u.s.State(), u.text())
			}
			r.t.Fatalf("waited %v for %s", deadline, what)
		}
		if r.srv != nil {
			_ = r.srv.Update(time.Millisecond)
		}
		for _, u := range r.users {
			_ = u.s.Update(0)
		}
		for _, p := range r.probes {
			_ = p.client.Update(0)
		}
	}
}

func (u *user) text() string {
	var b strings.Builder
	for _, l := range u.lines {
		b.WriteString("  " + l.String() + "\n")
	}
	return b.String()
}

// saw reports whether the user printed a line containing s.
func (u *user) saw(s string) func() bool {
	return func() bool { return u.count(s) > 0 }
}

func (u *user) count(s string) int {
	n := 0
	for _, l := range u.lines {
		if strings.Contains(l.String(), s) {
			n++
		}
	}
	return n
}

func (u *user) online() func() bool {
	return func() bool { return u.s.State() == chat.Online }
}

func TestJoinChatAndLeave(t *testing.T) {
	r := newRig(t)
	ann := r.join("ann")
	r.pump("ann online", ann.online())
	bob := r.join("bob")
	r.pump("bob online", bob.online())
	r.pump("ann sees bob join", ann.saw("*** bob joined"))
	if got := bob.s.Users(); !slices.Equal(got, []string{"ann", "bob"}) {
		t.Fatalf("bob's users = %v, want [ann bob]", got)
	}
	if !bob.saw("joined as bob; online (2): ann, bob")() {
		t.Fatalf("bob's welcome line missing:\n%s", bob.text())
	}
	if got := ann.s.Users(); !slices.Equal(got, []string{"ann", "bob"}) {
		t.Fatalf("ann's users = %v, want [ann bob]", got)
	}

	// The server relays to everyone, sender included, under the sender's
	// real nickname whatever the client claimed.
	if err := ann.s.Say("hello\nworld"); err != nil {
		t.Fatal(err)
	}
	r.pump("bob hears ann", bob.saw("<ann> hello world"))
	r.pump("ann hears herself", ann.saw("<ann> hello world"))
	mallory := r.probe()
	r.probeJoin(mallory, "mallory")
	r.send(mallory, &chat.ChatMsg{Player: "ann", Msg: "i am ann"})
	r.pump("bob hears mallory", bob.saw("<mallory> i am ann"))
	if bob.saw("<ann> i am ann")() {
		t.Fatalf("mallory spoke as ann:\n%s", bob.text())
	}
	mallory.client.Close()
	r.pump("ann sees mallory leave", ann.saw("*** mallory left"))

	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	if err := bob.s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	r.pump("ann sees bob leave", ann.saw("*** bob left (quit)"))
	if got := ann.s.Users(); !slices.Equal(got, []string{"ann"}) {
		t.Fatalf("ann's users after bob left = %v", got)
	}
	if got := r.room.Nicks(); !slices.Equal(got, []string{"ann"}) {
		t.Fatalf("room = %v, want [ann]", got)
	}
}

func TestNickRefused(t *testing.T) {
	r := newRig(t)
	ann := r.join("ann")
	r.pump("ann online", ann.online())
	ann2 := r.join("ANN") // nicknames collide whatever their case
	r.pump("the second ann refused", ann2.saw(`!!! nickname refused: nickname "ann" is already taken; choose another with /nick NAME`))
	if s := ann2.s.State(); s != chat.Refused {
		t.Fatalf("state after refusal = %v, want %v", s, chat.Refused)
	}
	if err := ann2.s.Say("hi"); err == nil {
		t.Fatal("Say before joining succeeded")
	}
	if ann.count("joined") != 1 {
		t.Fatalf("the refused user was announced:\n%s", ann.text())
	}
	ann2.s.Input("/nick anna")
	r.pump("anna online", ann2.online())
	r.pump("ann sees anna", ann.saw("*** anna joined"))
	if got := r.room.Nicks(); !slices.Equal(got, []string{"ann", "anna"}) {
		t.Fatalf("room = %v", got)
	}

	ann2.s.Input("/nick bad nick")
	r.pump("bad nick refused locally", ann2.saw(`nickname "bad nick" has ' '`))
}

func TestWho(t *testing.T) {
	r := newRig(t)
	a, b, c := r.join("ann"), r.join("bob"), r.join("carl")
	r.pump("all online", func() bool { return a.online()() && b.online()() && c.online()() })
	c.s.Input("/who")
	r.pump("carl's who", c.saw("*** online (3): "))
	want := r.room.Nicks()
	if len(want) != 3 || !c.saw("online (3): "+strings.Join(want, ", "))() {
		t.Fatalf("room %v, carl saw:\n%s", want, c.text())
	}
}

func TestRename(t *testing.T) {
	r := newRig(t)
	a, b := r.join("ann"), r.join("bob")
	r.pump("both online", func() bool { return a.online()() && b.online()() })
	b.s.Input("/nick ann")
	r.pump("rename to a taken name refused", b.saw(`nickname refused: nickname "ann" is already taken; you are still bob`))
	if b.s.State() != chat.Online {
		t.Fatalf("a refused rename changed the state to %v", b.s.State())
	}
	b.s.Input("/nick robert")
	r.pump("ann sees the rename", a.saw("*** bob is now known as robert"))
	r.pump("bob sees his rename", b.saw("*** you are now known as robert"))
	if b.s.Nick() != "robert" || !slices.Contains(a.s.Users(), "robert") || slices.Contains(a.s.Users(), "bob") {
		t.Fatalf("after rename: nick %q, ann's users %v", b.s.Nick(), a.s.Users())
	}
	if err := b.s.Say("it is me"); err != nil {
		t.Fatal(err)
	}
	r.pump("ann hears robert", a.saw("<robert> it is me"))
}

// TestLeaveReasonConnectionLost: a user whose connection ends without a
// reason, dropped by its own side or by the server, leaves the room with
// "connection lost".
func TestLeaveReasonConnectionLost(t *testing.T) {
	r := newRig(t)
	a, b := r.join("ann"), r.join("bob")
	r.pump("both online", func() bool { return a.online()() && b.online()() })

	// Carl's client drops its connection without a goodbye.
	carl := r.probe()
	r.probeJoin(carl, "carl")
	r.pump("ann sees carl join", a.saw("*** carl joined"))
	carl.client.Close()
	r.pump("ann sees carl leave", a.saw("*** carl left ("))
	if !a.saw("*** carl left (connection lost)")() {
		t.Fatalf("ann saw:\n%s", a.text())
	}

	// The server drops bob's connection without a reason.
	for c := range r.srv.Connections(nil) {
		if h, ok := c.Handler().(*chat.ServerHandler); ok && h.Nick() == "bob" {
			c.Disconnect("")
		}
	}
	r.pump("ann sees bob leave", a.saw("*** bob left ("))
	if !a.saw("*** bob left (connection lost)")() {
		t.Fatalf("ann saw:\n%s", a.text())
	}
	r.pump("bob is told", b.saw("!!! disconnected: the server closed the connection; reconnecting in "))
}

// TestRTT: the round trip the session shows is the connection's,
// Conn.Stats().RTT, which gonetic's keepalive pings measure (the mem
// adapter measures none, and the protocol has no ping).
func TestRTT(t *testing.T) {
	r := newRig(t)
	// With gonetic's pings off, nothing measures it.
	quiet := r.joinWith("quiet", -1)
	r.pump("quiet online", quiet.online())
	quiet.s.Input("/status")
	r.pump("quiet's status", quiet.saw("*** online as quiet on chat:7777 (mem, msgpack); rtt measuring"))
	// A short keepalive interval measures it within a few Updates.
	ann := r.joinWith("ann", 10*time.Millisecond)
	r.pump("ann online, with her round trip", func() bool { return ann.online()() && ann.s.RTT() > 0 })
	ann.s.Input("/status")
	r.pump("ann's status", ann.saw("*** online as ann on chat:7777 (mem, msgpack); rtt "))
	if l := ann.lines[len(ann.lines)-1].String(); !regexp.MustCompile(`; rtt \d+\.\d\d ms$`).MatchString(l) {
		t.Fatalf("ann's status line = %q, want a round trip in ms", l)
	}
	if d := quiet.s.RTT(); d != 0 {
		t.Fatalf("RTT without keepalive pings = %v, want 0", d)
	}
}

// TestRegistry: the protocol's types in wire order, without a ping of its
// own.
func TestRegistry(t *testing.T) {
	f, _ := chat.NewFactory("")
	var names []string
	for _, ty := range f.Types() {
		names = append(names, ty.Name())
	}
	want := []string{"join", "welcome", "nick_refused", "chat_msg", "user_joined", "user_left", "renamed", "who", "users", "notice", "move_to", "move"}
	if !slices.Equal(names, want) {
		t.Fatalf("registry = %v, want %v", names, want)
	}
}

func TestReconnectAfterServerRestart(t *testing.T) {
	r := newRig(t)
	a, b := r.join("ann"), r.join("bob")
	r.pump("both online", func() bool { return a.online()() && b.online()() })
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	if err := r.srv.Shutdown(ctx, "server shutting down"); err != nil {
		t.Fatal(err)
	}
	r.srv = nil
	r.pump("both offline", func() bool {
		return a.saw("!!! disconnected: the server closed the connection: server shutting down; reconnecting in")() &&
			b.saw("disconnected")()
	})
	r.pump("a failed attempt", a.saw("!!! cannot connect to chat:7777"))
	r.listen()
	r.pump("both back", func() bool { return a.count("joined as ann") == 2 && b.count("joined as bob") == 2 })
	if err := a.s.Say("back"); err != nil {
		t.Fatal(err)
	}
	r.pump("bob hears ann again", b.saw("<ann> back"))
}

func TestCodecs(t *testing.T) {
	for _, c := range chat.Codecs {
		if _, err := chat.NewFactory(c); err != nil {
			t.Errorf("NewFactory(%q): %v", c, err)
		}
	}
	if _, err := chat.NewFactory("xml"); err == nil || !strings.Contains(err.Error(), "msgpack or json") {
		t.Errorf("NewFactory(xml) = %v", err)
	}
}

func TestJSONCodecCarriesLists(t *testing.T) {
	// Welcome and Users hold a []string, which takes the codec's general
	// path: check both codecs round-trip it.
	for _, codec := range chat.Codecs {
		f, _ := chat.NewFactory(codec)
		enc, dec := f.NewEncoder(), f.NewDecoder()
		b, _, err := enc.Encode(nil, &chat.Welcome{Nick: "ann", Users: []string{"ann", "bob"}})
		if err != nil {
			t.Fatal(err)
		}
		m, _, err := dec.Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", codec, err)
		}
		if w := m.(chat.Welcome); w.Nick != "ann" || !slices.Equal(w.Users, []string{"ann", "bob"}) {
			t.Fatalf("%s: decoded %+v", codec, w)
		}
	}
}

func TestCheckNickAndCleanText(t *testing.T) {
	for nick, ok := range map[string]bool{"ann": true, "Jürgen_2": true, "a.b-c": true, "": false, "has space": false, "seventeen-chars-x": false} {
		if got := chat.CheckNick(nick) == ""; got != ok {
			t.Errorf("CheckNick(%q) ok = %v, want %v", nick, got, ok)
		}
	}
	if got := chat.CleanText("  a\x1b[2Jb\r\n "); got != "a [2Jb" {
		t.Errorf("CleanText = %q", got)
	}
	if got := chat.CheckText(strings.Repeat("é", chat.MaxText)); got != "" {
		t.Errorf("CheckText refused %d characters: %s", chat.MaxText, got)
	}
	if got := chat.CheckText(strings.Repeat("é", chat.MaxText+1)); !strings.Contains(got, "at most 400 characters, this one has 401") {
		t.Errorf("CheckText of %d characters = %q", chat.MaxText+1, got)
	}
	for _, c := range []struct {
		s    string
		max  int
		want string
	}{
		{"quit", 4, "quit"},
		{"quits", 4, "q…"},
		{"éééé", 6, "é…"}, // "é" is 2 bytes, "…" 3: no room for half a character
		{"ééé", 5, "é…"},
		{"abc", 3, "abc"},
		{"abcd", 3, "…"},
	} {
		if got := chat.Clip(c.s, c.max); got != c.want || len(got) > c.max {
			t.Errorf("Clip(%q, %d) = %q, want %q", c.s, c.max, got, c.want)
		}
	}
}
