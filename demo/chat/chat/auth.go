package chat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/token"
)

// LoginPath is where an Auth's login endpoint answers: POST a form with
// nick (and password, when the server has one) and get a connect token.
const LoginPath = "/login"

// DefaultTokenLife is how long a token from Auth's login endpoint opens:
// a client fetches a fresh one before each connection, so it need not last.
const DefaultTokenLife = 30 * time.Second

// Auth is the chat server's -auth mode: a login endpoint that issues
// connect tokens (package token) for a nickname, the server's
// gnet.Tokens that admit only their holders and seal all their traffic
// (encrypted and authenticated), and the Approve that lets each in under
// the nickname its token names. It stands for a game's web backend and
// its game server in one process, so they share the key in memory.
type Auth struct {
	key      token.Key
	server   string // the name the tokens give the server (gnet.Tokens.Server)
	password string
	life     time.Duration
	room     *Room
	now      func() time.Time
}

// AuthConfig configures NewAuth.
type AuthConfig struct {
	// Key seals the tokens. Default: a fresh random key (token.NewKey), so
	// tokens die with the server.
	Key token.Key
	// Server is the name the tokens give the chat server and that it
	// checks (gnet.Tokens.Server): one name for all its listeners
	// (ENet or TCP, and the WebSocket of -http), since a server checks
	// one. The chat server uses its -addr as given. Required.
	Server string
	// Password, if set, is a shared demo password the login endpoint
	// asks for; empty: a nickname is enough (the demo has no user store).
	Password string
	// Life is how long a token opens. Default DefaultTokenLife.
	Life time.Duration
	// Room, if set, is the room the server runs: Approve refuses a
	// nickname already online in it. Nil: the room's Join refuses it.
	Room *Room
	// Now is the clock of the login endpoint, for tests. Default time.Now.
	Now func() time.Time
}

// NewAuth returns the -auth mode for the server named cfg.Server.
func NewAuth(cfg AuthConfig) (*Auth, error) {
	if cfg.Server == "" {
		return nil, errors.New("chat: AuthConfig.Server is required: the name the tokens give the server")
	}
	if cfg.Key == (token.Key{}) {
		cfg.Key = token.NewKey()
	}
	if cfg.Life <= 0 {
		cfg.Life = DefaultTokenLife
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Auth{key: cfg.Key, server: cfg.Server, password: cfg.Password, life: cfg.Life,
		room: cfg.Room, now: cfg.Now}, nil
}

// Tokens is the server's gnet.ServerConfig.Tokens: it admits only the
// tokens this Auth issues, unexpired and not in use from another address,
// and seals their connections.
func (a *Auth) Tokens() *gnet.Tokens {
	return &gnet.Tokens{Key: a.key, Server: a.server}
}

// Handler serves the login endpoint on LoginPath: a POST with the form
// field nick (a valid nickname, see CheckNick) and password (when the
// server has one) answers with a token, as bytes; a refusal is a 4xx
// whose body says why.
func (a *Auth) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+LoginPath, func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 4096)
		nick := r.PostFormValue("nick")
		if reason := CheckNick(nick); reason != "" {
			http.Error(w, reason, http.StatusBadRequest)
			return
		}
		if a.password != "" && r.PostFormValue("password") != a.password {
			http.Error(w, "wrong password", http.StatusForbidden)
			return
		}
		now := a.now()
		tok, err := token.Issue(a.key, token.Claims{
			UserData: []byte(nick),
			Servers:  []string{a.server},
			Expires:  now.Add(a.life),
		}, now)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(tok)
	})
	return mux
}

// Approve is the server's gnet.ServerConfig.Approve, beside Tokens,
// which checked the token already: it lets the client in with its token's
// nickname (a string) as the connection's Identity, the only name the
// room lets it use, or refuses it when that nickname is online already.
func (a *Auth) Approve(_ context.Context, h gnet.Hello) (any, error) {
	if h.Grant == nil { // a server without Tokens: a misconfiguration
		return nil, errors.New("this server needs a login: run the client with -login URL")
	}
	nick := string(h.Grant.UserData)
	if a.room != nil && a.room.Online(nick) {
		return nil, fmt.Errorf("nickname %q is already online", nick)
	}
	return nick, nil
}

// FetchToken logs in as nick at the login endpoint loginURL (a server's
// "http://host:port", with or without LoginPath) and returns the connect
// token to connect with (gnet.WithToken). A refusal's error carries the
// server's reason.
func FetchToken(ctx context.Context, loginURL, nick, password string) ([]byte, error) {
	u := strings.TrimSuffix(loginURL, "/")
	if !strings.HasSuffix(u, LoginPath) {
		u += LoginPath
	}
	form := url.Values{"nick": {nick}}
	if password != "" {
		form.Set("password", password)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, token.MaxTokenSize+1))
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("login refused: %s", shown(strings.TrimSpace(string(body)), MaxReason))
	}
	if _, err := token.Parse(body); err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	return body, nil
}
