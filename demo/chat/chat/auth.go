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
// connect tokens (package token) for a nickname, and the Approve that
// lets in only the holders of one, under the nickname it names. It stands
// for a game's web backend and its game server in one process, so they
// share the key in memory.
type Auth struct {
	key      token.Key
	server   string // the game address the tokens name, as Approve opens them
	password string
	life     time.Duration
	guard    *token.Guard
	now      func() time.Time
}

// AuthConfig configures NewAuth.
type AuthConfig struct {
	// Key seals the tokens. Default: a fresh random key (token.NewKey), so
	// tokens die with the server.
	Key token.Key
	// Server is the chat server's address as its clients dial it
	// (Server.Addr): the tokens name it and Approve opens them for it.
	// Required.
	Server string
	// Password, if set, is a shared demo password the login endpoint
	// asks for; empty: a nickname is enough (the demo has no user store).
	Password string
	// Life is how long a token opens. Default DefaultTokenLife.
	Life time.Duration
	// Now is the clock, for tests. Default time.Now.
	Now func() time.Time
}

// NewAuth returns the -auth mode for the server at cfg.Server.
func NewAuth(cfg AuthConfig) (*Auth, error) {
	if cfg.Server == "" {
		return nil, errors.New("chat: AuthConfig.Server is required: the address clients dial")
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
		guard: token.NewGuard(0), now: cfg.Now}, nil
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

// Approve is the server's gnet.ServerConfig.Approve: it opens the hello's
// ticket for this server, refuses one already in use from another
// address, and lets the client in with its token's nickname (a string) as
// the connection's Identity, the only name the room lets it use.
func (a *Auth) Approve(_ context.Context, h gnet.Hello) (any, error) {
	if len(h.Data) == 0 {
		return nil, errors.New("this server needs a login: run the client with -login URL (the server's login endpoint)")
	}
	now := a.now()
	g, err := token.Open(a.key, h.Data, a.server, now)
	if err != nil {
		return nil, err
	}
	if err := a.guard.Admit(g, h.Addr, now); err != nil {
		return nil, err
	}
	return string(g.UserData), nil
}

// FetchTicket logs in as nick at the login endpoint loginURL (a server's
// "http://host:port", with or without LoginPath) and returns the ticket to
// send with the hello (gnet.WithHello). A refusal's error carries the
// server's reason.
func FetchTicket(ctx context.Context, loginURL, nick, password string) ([]byte, error) {
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
	pub, err := token.Parse(body)
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	return pub.Ticket, nil
}
