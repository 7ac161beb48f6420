package chat_test

import (
	"context"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/demo/chat/chat"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/transport"
	"github.com/gonetic/gonetic/token"
)

// authRig is a rig on TCP (or another transport) whose server runs chat.Auth, with its login
// endpoint on a real HTTP server; its sessions log in there.
type authRig struct {
	*rig
	auth     *chat.Auth
	loginURL string
	clock    *atomic.Int64 // nanoseconds added to time.Now for the server
}

func newAuthRig(t *testing.T) *authRig {
	return newAuthRigOn(t, tcp.New(tcp.Options{}))
}

// newAuthRigOn is newAuthRig on the transport tr, listening on 127.0.0.1.
func newAuthRigOn(t *testing.T, tr transport.Transport) *authRig {
	var a atomic.Pointer[chat.Auth]
	ar := &authRig{clock: new(atomic.Int64)}
	// The Auth refuses nicknames online in the room, which listen makes,
	// so it is made after listen, with the key the server's Tokens has;
	// no client connects before.
	const name = "127.0.0.1:0" // as the chat server does: its -addr
	key := token.NewKey()
	r := startRigWith(t, tr, name, func(ctx context.Context, h gnet.Hello) (any, error) {
		return a.Load().Approve(ctx, h)
	}, &gnet.Tokens{Key: key, Server: name})
	r.addr = r.srv.Addr()
	auth, err := chat.NewAuth(chat.AuthConfig{
		Key:    key,
		Server: name,
		Room:   r.room,
		Now:    func() time.Time { return time.Now().Add(time.Duration(ar.clock.Load())) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := *auth.Tokens(); got != (gnet.Tokens{Key: key, Server: name}) {
		t.Fatalf("Auth.Tokens is %+v, want the key and name it was given", got)
	}
	a.Store(auth)
	hs := httptest.NewServer(auth.Handler())
	t.Cleanup(hs.Close)
	ar.rig, ar.auth, ar.loginURL = r, auth, hs.URL
	r.login = func(ctx context.Context, nick string) ([]byte, error) {
		return chat.FetchToken(ctx, hs.URL, nick, "")
	}
	return ar
}

// token logs in as nick.
func (ar *authRig) token(nick string) []byte {
	ar.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	tk, err := chat.FetchToken(ctx, ar.loginURL, nick, "")
	if err != nil {
		ar.t.Fatal(err)
	}
	return tk
}

// joinWithToken starts a session that connects with tok, whatever its nick.
func (ar *authRig) joinWithToken(nick string, tok []byte) *user {
	ar.t.Helper()
	saved := ar.login
	ar.login = func(context.Context, string) ([]byte, error) { return tok, nil }
	defer func() { ar.login = saved }()
	return ar.join(nick)
}

func TestAuthLoginAndChat(t *testing.T) {
	r := newAuthRig(t)
	ann, bob := r.join("ann"), r.join("bob")
	r.pump("both online", func() bool { return ann.online()() && bob.online()() })
	if err := ann.s.Say("hello, bob"); err != nil {
		t.Fatal(err)
	}
	r.pump("bob hears ann", bob.saw("<ann> hello, bob"))
	// Both ends of every connection are sealed.
	for _, u := range []*user{ann, bob} {
		if !u.saw("connected to " + r.addr + ", sealed: encrypted and authenticated")() {
			t.Fatalf("%s's connection is not sealed:\n%s", u.s.Nick(), u.text())
		}
	}
	if n := r.srv.NumConns(); n != 2 {
		t.Fatalf("%d connections on the server, want 2", n)
	}
	for c := range r.srv.Connections(nil) {
		if !c.Sealed() {
			t.Fatalf("the server's connection from %s is not sealed", c.Addr())
		}
	}
}

// A nickname online already is refused at the door, saying so.
func TestAuthRefusesNicknameOnline(t *testing.T) {
	r := newAuthRig(t)
	ann := r.join("ann")
	r.pump("ann online", ann.online())
	again := r.join("ann")
	r.pump("the refusal", again.saw(`the server refused the connection: nickname "ann" is already online`))
}

func TestAuthRefusesClientWithoutToken(t *testing.T) {
	r := newAuthRig(t)
	r.login = nil
	u := r.join("ann")
	r.pump("the refusal", u.saw("the server refused the connection: a connect token is required (net.WithToken)"))
	if u.s.State() == chat.Online {
		t.Fatal("a client without a token got in")
	}
}

func TestAuthRefusesExpiredToken(t *testing.T) {
	r := newAuthRig(t)
	// Issued long enough ago to have expired: the server's clock is the
	// real one.
	r.clock.Store(-int64(chat.DefaultTokenLife + time.Second))
	tk := r.token("ann")
	u := r.joinWithToken("ann", tk)
	r.pump("the refusal", u.saw("the server refused the connection: token: connect token expired"))
}

func TestAuthRefusesForgedToken(t *testing.T) {
	r := newAuthRig(t)
	// Sealed under another key, for this server's name.
	other, err := chat.NewAuth(chat.AuthConfig{Server: r.auth.Tokens().Server})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(other.Handler())
	defer hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	forged, err := chat.FetchToken(ctx, hs.URL, "ann", "")
	if err != nil {
		t.Fatal(err)
	}
	u := r.joinWithToken("ann", forged)
	r.pump("the refusal of another key's token", u.saw("the server refused the connection: token: connect token altered or sealed with another key"))

	// A genuine ticket with its nickname changed in the sealed part.
	altered := r.token("ann")
	altered[len(altered)-2*token.KeySize-20] ^= 1 // in the ticket, before the client's keys
	v := r.joinWithToken("bob", altered)
	r.pump("the refusal of an altered token", v.saw("the server refused the connection: token: connect token altered or sealed with another key"))
}

// A client speaks under its token's nickname, whatever it asks for.
func TestAuthNameComesFromToken(t *testing.T) {
	r := newAuthRig(t)
	bob := r.join("bob")
	r.pump("bob online", bob.online())
	p := r.probe(gnet.WithToken(r.token("ann")))
	if !p.conn.Sealed() {
		t.Fatal("a connection with a token is not sealed")
	}
	r.send(p, &chat.Join{Nick: "bob"})
	r.pump("the probe joined", func() bool { return p.welcomed })
	if p.nick != "ann" {
		t.Fatalf("the token says ann; joined as %q", p.nick)
	}
	r.send(p, &chat.ChatMsg{Player: "bob", Msg: "I am bob"})
	r.pump("bob hears it, under ann's name", bob.saw("<ann> I am bob"))
	r.send(p, &chat.Join{Nick: "carl"})
	r.pump("the rename refused", func() bool { return len(p.refused) > 0 })
	if want := "your nickname is the one you logged in with, ann"; p.refused[0].Reason != want {
		t.Fatalf("rename refused with %q, want %q", p.refused[0].Reason, want)
	}
	if bob.count("carl") != 0 {
		t.Fatalf("the rename went through:\n%s", bob.text())
	}
}

// A ticket captured on the wire is refused from another address while its
// owner's lasts.
func TestAuthRefusesSecondUseOfToken(t *testing.T) {
	r := newAuthRig(t)
	tk := r.token("ann")
	ann := r.joinWithToken("ann", tk)
	r.pump("ann online", ann.online())
	// Its own socket, from the same host: the token's guard lets a client
	// reconnect from there, and the room refuses a second "ann".
	thief := r.joinWithToken("mallory", tk)
	r.pump("the replay refused", thief.saw(`the server refused the connection: nickname "ann" is already online`))
	if thief.s.State() == chat.Online {
		t.Fatal("the replayed ticket got in")
	}
}

func TestAuthLoginRefusals(t *testing.T) {
	r := newAuthRig(t)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	if _, err := chat.FetchToken(ctx, r.loginURL, "", ""); err == nil {
		t.Fatal("an empty nickname got a token")
	}
	a, err := chat.NewAuth(chat.AuthConfig{Server: r.addr, Password: "sesame"})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(a.Handler())
	defer hs.Close()
	if _, err := chat.FetchToken(ctx, hs.URL, "ann", "guess"); err == nil || err.Error() != "login refused: wrong password" {
		t.Fatalf("wrong password: %v", err)
	}
	tk, err := chat.FetchToken(ctx, hs.URL+chat.LoginPath, "ann", "sesame")
	if err != nil {
		t.Fatal(err)
	}
	if len(tk) == 0 || len(tk) > token.MaxTicketSize {
		t.Fatalf("ticket of %d bytes", len(tk))
	}
}

// A Login that hangs neither holds up the session's loop nor its Close,
// which stops it and waits for it.
func TestAuthLoginRunsOffTheLoop(t *testing.T) {
	r := newAuthRig(t)
	started, returned := make(chan struct{}), make(chan struct{})
	f, _ := chat.NewFactory("msgpack")
	s, err := chat.NewSession(chat.SessionConfig{
		Addr:             r.addr,
		Nick:             "ann",
		Factory:          f,
		Transport:        r.tr,
		HandshakeTimeout: time.Hour,
		Login: func(ctx context.Context, nick string) ([]byte, error) {
			close(started)
			<-ctx.Done()
			close(returned)
			return nil, ctx.Err()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	<-started
	if err := s.Update(0); err != nil {
		t.Fatal(err)
	}
	if s.State() != chat.Connecting {
		t.Fatalf("state %v while logging in, want connecting", s.State())
	}
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-returned:
	default:
		t.Fatal("Close returned before the Login it stopped")
	}
}
