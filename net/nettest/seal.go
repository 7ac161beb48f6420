package nettest

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/token"
)

// TokenServer is the name the suite's token servers have in tokens.
const TokenServer = "game-1"

// Token issues a token under key for TokenServer, for client id, valid
// for a minute from now.
func Token(t testing.TB, key token.Key, id uint64) []byte {
	t.Helper()
	now := time.Now()
	tok, err := token.Issue(key, token.Claims{ClientID: id, Servers: []string{TokenServer}, Expires: now.Add(time.Minute)}, now)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// testTokenChat: clients with connect tokens chat through a server with
// Tokens; every connection is sealed, the Identity is the token's Grant,
// and Approve sees the Grant.
func testTokenChat(t *testing.T, a Adapter) {
	key := token.NewKey()
	var set serverSet
	s := listen(t, a, gnet.ServerConfig{Tokens: &gnet.Tokens{Key: key, Server: TokenServer}, NewHandler: set.newHandler})
	c1, c2 := client(t, a, gnet.ClientConfig{}), client(t, a, gnet.ClientConfig{})
	h1, h2 := &ChatHandler{}, &ChatHandler{}
	conn1 := dial(t, c1, s, h1, gnet.WithToken(Token(t, key, 7)))
	conn2 := dial(t, c2, s, h2, gnet.WithToken(Token(t, key, 8)))
	Pump(t, func() bool { return s.NumConns() == 2 && set.len() == 2 }, s, c1, c2)
	if !conn1.Sealed() || !conn2.Sealed() {
		t.Fatal("a client connection with a token is not sealed")
	}
	ids := map[uint64]bool{}
	for sc := range s.Connections(nil) {
		g, ok := sc.Identity().(*token.Grant)
		if !ok || !sc.Sealed() {
			t.Fatalf("server connection: Identity %#v, Sealed %v; want the *token.Grant, sealed", sc.Identity(), sc.Sealed())
		}
		ids[g.ClientID] = true
	}
	if !ids[7] || !ids[8] {
		t.Fatalf("grants' client ids: %v, want 7 and 8", ids)
	}
	if err := conn1.Send(&Chat{Player: "Tom", Msg: "Test message"}); err != nil {
		t.Fatal(err)
	}
	Pump(t, func() bool { return h2.chats() == 1 }, s, c1, c2)
	if got := h2.Chats[0]; got != (Chat{"Tom", "Test message"}) {
		t.Fatalf("client 2 got %+v", got)
	}
	// Large sealed payloads, both ways, in order.
	big := bytes.Repeat([]byte("x"), 200<<10)
	for i := range 3 {
		if err := conn1.Send(&Seq{N: i, Data: big}); err != nil {
			t.Fatal(err)
		}
	}
	Pump(t, func() bool { return set.get(0).seqs()+set.get(1).seqs() == 3 }, s, c1, c2)

	// Approve sees the Grant; its identity wins.
	var mu sync.Mutex
	var grants []*token.Grant
	s2 := listen(t, a, gnet.ServerConfig{
		Tokens: &gnet.Tokens{Key: key, Server: TokenServer},
		Approve: func(_ context.Context, h gnet.Hello) (any, error) {
			mu.Lock()
			grants = append(grants, h.Grant)
			mu.Unlock()
			return "player " + string(h.Data), nil
		},
	})
	conn3 := dial(t, c1, s2, nil, gnet.WithToken(Token(t, key, 9)), gnet.WithHello([]byte("ann")))
	Pump(t, func() bool { return s2.NumConns() == 1 }, s2, c1)
	mu.Lock()
	defer mu.Unlock()
	if len(grants) != 1 || grants[0] == nil || grants[0].ClientID != 9 {
		t.Fatalf("Approve saw grants %v, want one with client id 9", grants)
	}
	if sc := first(s2); sc.Identity() != "player ann" || !sc.Sealed() || !conn3.Sealed() {
		t.Fatalf("with Approve: Identity %v, sealed %v/%v", sc.Identity(), sc.Sealed(), conn3.Sealed())
	}
}

// testTokenRefusals: each bad token is refused with a reason that says
// what is wrong, and no connection opens.
func testTokenRefusals(t *testing.T, a Adapter) {
	key := token.NewKey()
	s := listen(t, a, gnet.ServerConfig{Tokens: &gnet.Tokens{Key: key, Server: TokenServer}})
	plain := listen(t, a, gnet.ServerConfig{})
	c := client(t, a, gnet.ClientConfig{})
	issue := func(k token.Key, server string, now, expires time.Time) []byte {
		tok, err := token.Issue(k, token.Claims{ClientID: 1, Servers: []string{server}, Expires: expires}, now)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	now := time.Now()
	tampered := Token(t, key, 1)
	p, _ := token.Parse(tampered)
	tampered[len(p.Ticket)-1] ^= 1 // the seal's tag
	dial(t, c, s, nil, gnet.WithToken(Token(t, key, 2)))
	for _, tc := range []struct {
		name   string
		c      *gnet.Client
		s      *gnet.Server
		opts   []gnet.ConnectOption
		reason string
	}{
		{"expired", c, s, []gnet.ConnectOption{gnet.WithToken(issue(key, TokenServer, now.Add(-time.Hour), now.Add(-time.Minute)))}, "connect token expired"},
		{"wrong server", c, s, []gnet.ConnectOption{gnet.WithToken(issue(key, "game-2", now, now.Add(time.Minute)))}, "connect token is for another server"},
		{"other key", c, s, []gnet.ConnectOption{gnet.WithToken(issue(token.NewKey(), TokenServer, now, now.Add(time.Minute)))}, "connect token altered or sealed with another key"},
		{"tampered", c, s, []gnet.ConnectOption{gnet.WithToken(tampered)}, "connect token altered or sealed with another key"},
		{"no token", c, s, nil, "a connect token is required (net.WithToken)"},
		{"tokenless server", c, plain, []gnet.ConnectOption{gnet.WithToken(Token(t, key, 3))}, "this server does not take connect tokens"},
	} {
		_, err := dialErr(tc.c, tc.s, nil, tc.opts...)
		var de *gnet.DisconnectError
		if !errors.As(err, &de) || !errors.Is(err, gnet.ErrRefused) || !SaysOrCut(de.Reason, tc.reason) {
			t.Errorf("%s: %v, want a refusal with %q", tc.name, err, tc.reason)
		}
	}
	if n := s.NumConns(); n != 1 {
		t.Fatalf("%d connections open, want only the first good one", n)
	}
	// Approve's refusal comes after the session: sealed, and read.
	banned := listen(t, a, gnet.ServerConfig{
		Tokens:  &gnet.Tokens{Key: key, Server: TokenServer},
		Approve: func(context.Context, gnet.Hello) (any, error) { return nil, errors.New("banned until Monday") },
	})
	_, err := dialErr(c, banned, nil, gnet.WithToken(Token(t, key, 4)))
	var de *gnet.DisconnectError
	if !errors.As(err, &de) || !errors.Is(err, gnet.ErrRefused) || de.Reason != "banned until Monday" {
		t.Fatalf("Approve's refusal of a token: %v", err)
	}
	if _, err := c.Connect(s.Addr(), nil, gnet.WithToken([]byte("not a token"))); !errors.Is(err, token.ErrMalformed) {
		t.Fatalf("Connect with a malformed token: %v, want token.ErrMalformed at once", err)
	}
}
