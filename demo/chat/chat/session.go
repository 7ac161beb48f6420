package chat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	stdnet "net"
	"slices"
	"strings"
	"time"

	"github.com/gonetic/gonetic/demo/internal/transports"
	"github.com/gonetic/gonetic/message"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/transport"
)

// DefaultAddr is the address the chat programs use when given none.
const DefaultAddr = "127.0.0.1:7777"

// Defaults of SessionConfig.
const (
	DefaultMinBackoff       = 250 * time.Millisecond
	DefaultMaxBackoff       = 5 * time.Second
	DefaultHandshakeTimeout = 5 * time.Second
)

// HelpText lists the commands Session.Input understands.
const HelpText = "commands: /who (users online), /nick NAME (change nickname), /move SERVER (move to a linked chat server; /move alone lists them), /status (connection and round trip), /quit; anything else is said to the room"

// State is where a Session is.
type State int

// Session states.
const (
	Offline    State = iota // not connected; the next attempt is scheduled
	Connecting              // dialling the server and shaking hands
	Joining                 // connected; the server is checking the nickname
	Refused                 // connected, but the nickname was refused: waiting for another one
	Online                  // in the room
	Closed                  // Close was called
)

// String is the state in a word or two: "online", "nickname refused".
func (s State) String() string {
	switch s {
	case Offline:
		return "offline"
	case Connecting:
		return "connecting"
	case Joining:
		return "joining"
	case Refused:
		return "nickname refused"
	case Online:
		return "online"
	case Closed:
		return "closed"
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// SessionConfig configures NewSession. The zero value of every field but
// Nick means its documented default.
type SessionConfig struct {
	// Addr is the server's "host:port". Default DefaultAddr.
	Addr string
	// Nick is the nickname to join with; see CheckNick. Required.
	Nick string
	// Factory is the protocol registry, from NewFactory; the server must
	// use the same codec. Default NewFactory("msgpack"). It may be shared
	// by several sessions.
	Factory *message.Factory
	// Transport is the network adapter (see demo/internal/transports). Default TCP.
	Transport transport.Transport
	// Output receives every line of history (chat, joins, leaves,
	// connection state), on the goroutine that drives the session. It must
	// not block. Default: lines are dropped.
	Output func(Line)
	// MinBackoff and MaxBackoff bound the wait before a reconnect: it
	// starts at MinBackoff, doubles on each failed attempt up to
	// MaxBackoff, with ±20% jitter so that many clients do not come back
	// at the same instant. Defaults DefaultMinBackoff, DefaultMaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// KeepAlive is gonetic's keepalive ping interval
	// (gnet.Config.PingInterval), which measures the connection's RTT on
	// every adapter. Default 0: gonetic's default, 1 s; negative turns the
	// pings off, and with them the RTT.
	KeepAlive time.Duration
	// HandshakeTimeout bounds one connection attempt. Default
	// DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
	// Login, if set, is called before each connection attempt, with the
	// nickname, to fetch the connect token the connection uses
	// (gnet.WithToken; for a server with -auth: see FetchToken), which
	// seals it; its error is shown and the attempt retried
	// with backoff. It runs on a goroutine of its own, so that Update
	// never waits for it, with a ctx done after HandshakeTimeout or at
	// Close, which waits for it to return. Nil: no token, and a plain
	// connection.
	Login func(ctx context.Context, nick string) ([]byte, error)
	// Ticket, if set, is a handoff ticket (Move) presented on the first
	// connection (gnet.WithHello): the server lets the session in with
	// the state it keeps under it, or refuses it saying why. Later
	// connections present none; that first one skips Login. The session
	// sets it by itself when its server moves it; the terminal client's
	// -ticket sets it for tests.
	Ticket string
}

// Session is one user's chat connection. It connects at once, joins the
// room, reconnects with backoff whenever the server goes away (and joins
// again), and keeps what a screen shows: the state, the nickname, the users
// online and the round trip. What happens is reported to
// SessionConfig.Output as Lines.
//
// A Session belongs to the goroutine that calls Update (a game's loop):
// every method must be called from it.
type Session struct {
	cfg    SessionConfig
	client *gnet.Client
	conn   *gnet.Conn // the current connection; nil while Offline
	state  State
	nick   string   // the nickname we have, or will ask for
	users  []string // online, in the order they joined; reused

	retryAt  time.Time
	backoff  time.Duration // the next reconnect delay
	quitting bool

	sent, received int

	move *Move // where the server is moving us; nil when it is not

	// A Login in flight, on a goroutine of its own so that Update never
	// waits for HTTP (nil when none): its outcome, and how to stop it.
	login     chan loginResult
	stopLogin context.CancelFunc
}

type loginResult struct {
	token []byte
	err   error
}

// NewSession checks cfg, starts connecting and returns at once; the
// outcome arrives through Update.
func NewSession(cfg SessionConfig) (*Session, error) {
	if reason := CheckNick(cfg.Nick); reason != "" {
		return nil, errors.New(reason)
	}
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.Factory == nil {
		f, err := NewFactory("")
		if err != nil {
			return nil, err
		}
		cfg.Factory = f
	}
	if cfg.Transport == nil {
		t, err := transports.New("")
		if err != nil {
			return nil, err
		}
		cfg.Transport = t
	}
	if cfg.Output == nil {
		cfg.Output = func(Line) {}
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(DefaultMaxBackoff, cfg.MinBackoff)
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = DefaultHandshakeTimeout
	}
	client, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{
		Factory:          cfg.Factory,
		Transport:        cfg.Transport,
		HandshakeTimeout: cfg.HandshakeTimeout,
		PingInterval:     cfg.KeepAlive,
	}})
	if err != nil {
		return nil, err
	}
	s := &Session{cfg: cfg, client: client, nick: cfg.Nick, backoff: cfg.MinBackoff}
	s.info("connecting to %s (%s, %s)", cfg.Addr, cfg.Transport.Name(), cfg.Factory.Codec().Name())
	if cfg.Ticket != "" {
		s.dial(gnet.WithHello([]byte(cfg.Ticket)))
		return s, nil
	}
	s.connect()
	return s, nil
}

// Update runs the network: it waits at most timeout for activity (0: never
// waits), runs the handlers for what arrived (gonetic sends its keepalive
// pings there too) and reconnects when it is time. Call it every frame. It
// fails only after Close.
func (s *Session) Update(timeout time.Duration) error {
	if s.state == Closed {
		return gnet.ErrClosed
	}
	if err := s.client.Update(timeout); err != nil {
		return err
	}
	if s.login != nil {
		select {
		case r := <-s.login:
			s.endLogin()
			if r.err != nil {
				s.retry(r.err, false)
			} else {
				s.dial(gnet.WithToken(r.token))
			}
		default:
		}
	}
	if s.state == Offline && !time.Now().Before(s.retryAt) {
		s.connect()
	}
	return nil
}

// Input handles a line the user typed: /who, /nick NAME, /help, /quit, or
// text to say to the room. It returns true for /quit; the caller then
// calls Close.
func (s *Session) Input(line string) (quit bool) {
	line = strings.TrimSpace(line)
	if line == "" {
		return false
	}
	if !strings.HasPrefix(line, "/") {
		if err := s.Say(line); err != nil {
			s.problem("not sent: %v", err)
		}
		return false
	}
	cmd, arg, _ := strings.Cut(line[1:], " ")
	switch strings.ToLower(cmd) {
	case "quit", "exit", "q":
		return true
	case "who":
		s.Who()
	case "nick":
		s.SetNick(strings.TrimSpace(arg))
	case "move":
		s.MoveTo(strings.TrimSpace(arg))
	case "status":
		s.info("%s", s.StatusLine())
	case "help", "?":
		s.info("%s", HelpText)
	default:
		s.problem("unknown command /%s; %s", cmd, HelpText)
	}
	return false
}

// Say sends text to the room. The room relays it to everyone, this
// session included. A line longer than MaxText is not sent: the error
// says why.
func (s *Session) Say(text string) error {
	text = CleanText(text)
	if text == "" {
		return nil
	}
	if reason := CheckText(text); reason != "" {
		return errors.New(reason)
	}
	if s.state != Online {
		return fmt.Errorf("you are %s", s.Status())
	}
	if err := s.conn.Send(&ChatMsg{Player: s.nick, Msg: text}); err != nil {
		return err
	}
	s.sent++
	return nil
}

// Who asks the server for the users online; the answer arrives as a Line.
func (s *Session) Who() {
	if s.conn == nil || s.state == Connecting {
		s.problem("you are %s", s.Status())
		return
	}
	_ = s.conn.Send(&Who{})
}

// MoveTo asks the server to move this session to the linked chat server
// named server; "" asks which servers there are. The answer arrives as a
// Line; a Move reconnects the session by itself.
func (s *Session) MoveTo(server string) {
	if s.cfg.Transport.Name() == "websocket" {
		// The other server answers the address of its TCP or ENet
		// listener, which a browser cannot reach.
		s.problem("/move works over tcp and enet, not yet over websocket (the browser)")
		return
	}
	if s.state != Online {
		s.problem("you are %s", s.Status())
		return
	}
	_ = s.conn.Send(&MoveTo{Server: server})
}

// SetNick asks for another nickname: at once when connected, else at the
// next connection.
func (s *Session) SetNick(nick string) {
	if reason := CheckNick(nick); reason != "" {
		s.problem("%s", reason)
		return
	}
	switch s.state {
	case Joining, Refused, Online:
		if s.state != Online {
			s.nick = nick
			s.state = Joining
		}
		_ = s.conn.Send(&Join{Nick: nick})
	default:
		s.nick = nick
		s.info("you will join as %s", nick)
	}
}

// Close leaves the room with the reason "quit" (what is queued is sent
// first) and waits for the end, or for ctx. The Session is dead after it.
func (s *Session) Close(ctx context.Context) error {
	if s.state == Closed {
		return nil
	}
	s.quitting = true
	if s.login != nil {
		s.stopLogin()
		<-s.login
		s.endLogin()
	}
	err := s.client.Shutdown(ctx, "quit")
	s.state = Closed
	return err
}

// State is where the session is.
func (s *Session) State() State { return s.state }

// Nick is the nickname the session has, or asks for.
func (s *Session) Nick() string { return s.nick }

// Addr is the server's address.
func (s *Session) Addr() string { return s.cfg.Addr }

// Users returns the nicknames online, in the order they joined, while the
// session is in the room. The slice is the session's own: read it before
// the next Update and do not modify it.
func (s *Session) Users() []string { return s.users }

// RTT is the connection's round-trip time, Conn.Stats().RTT: gonetic's
// keepalive pings (see KeepAlive), answered on the adapters' goroutines, so
// it does not include the wait for the next frame. It is 0 while not connected and until the
// first keepalive pong.
func (s *Session) RTT() time.Duration {
	if s.conn == nil {
		return 0
	}
	return s.conn.Stats().RTT
}

// RTTText is the round trip for a status bar: "rtt 0.21 ms", "rtt
// measuring" until the first measure, or "" while not connected.
func (s *Session) RTTText() string {
	switch s.state {
	case Joining, Refused, Online:
	default:
		return ""
	}
	if rtt := s.RTT(); rtt > 0 {
		return fmt.Sprintf("rtt %.2f ms", float64(rtt.Microseconds())/1000)
	}
	return "rtt measuring"
}

// Sent and Received count the chat lines this session said and heard.
func (s *Session) Sent() int { return s.sent }

// Received counts the chat lines this session heard, its own included.
func (s *Session) Received() int { return s.received }

// Status is the state in a few words for a status bar, such as "online as
// ann" or "offline: reconnecting in 1.2s".
func (s *Session) Status() string {
	switch s.state {
	case Offline:
		return "offline: reconnecting in " + roundDuration(time.Until(s.retryAt))
	case Connecting:
		return "connecting to " + s.cfg.Addr
	case Joining:
		return "joining as " + s.nick
	case Refused:
		return "connected, nickname refused: choose another with /nick NAME"
	case Online:
		return "online as " + s.nick
	}
	return s.state.String()
}

// StatusLine is Status with the server, the adapters and the round trip:
// "online as ann on 127.0.0.1:7777 (tcp, msgpack); rtt 0.21 ms".
func (s *Session) StatusLine() string {
	line := fmt.Sprintf("%s on %s (%s, %s)", s.Status(), s.cfg.Addr, s.cfg.Transport.Name(), s.cfg.Factory.Codec().Name())
	if rtt := s.RTTText(); rtt != "" {
		line += "; " + rtt
	}
	return line
}

// connect starts a connection attempt: it logs in first when the
// session has a Login (Update dials once it answered).
func (s *Session) connect() {
	if s.cfg.Login == nil {
		s.dial()
		return
	}
	s.state = Connecting
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.HandshakeTimeout)
	s.login, s.stopLogin = make(chan loginResult, 1), cancel
	login, nick, done := s.cfg.Login, s.nick, s.login
	go func() {
		tok, err := login(ctx, nick)
		done <- loginResult{tok, err}
	}()
}

func (s *Session) endLogin() {
	s.stopLogin()
	s.login, s.stopLogin = nil, nil
}

func (s *Session) dial(opts ...gnet.ConnectOption) {
	conn, err := s.client.Connect(s.cfg.Addr, &ClientHandler{s: s}, opts...)
	if err != nil {
		s.retry(err, false)
		return
	}
	s.conn = conn
	s.state = Connecting
}

// retry schedules the next connection attempt after a failure or a
// disconnect.
func (s *Session) retry(reason error, wasOpen bool) {
	s.conn = nil
	s.users = s.users[:0]
	if s.quitting {
		s.state = Closed
		s.info("disconnected")
		return
	}
	s.state = Offline
	d := time.Duration(float64(s.backoff) * (0.8 + 0.4*rand.Float64()))
	s.retryAt = time.Now().Add(d)
	s.backoff = min(2*s.backoff, s.cfg.MaxBackoff)
	if wasOpen {
		s.problem("disconnected: %s; reconnecting in %s", describe(reason), roundDuration(d))
	} else {
		s.problem("cannot connect to %s: %s; retrying in %s", s.cfg.Addr, describe(reason), roundDuration(d))
	}
}

func (s *Session) info(format string, args ...any) {
	s.cfg.Output(Line{Time: time.Now(), Kind: InfoLine, Text: fmt.Sprintf(format, args...)})
}

func (s *Session) problem(format string, args ...any) {
	s.cfg.Output(Line{Time: time.Now(), Kind: ErrorLine, Text: fmt.Sprintf(format, args...)})
}

func (s *Session) setUsers(nicks []string) {
	s.users = append(s.users[:0], nicks...)
}

// ClientHandler is a Session's handler for one connection: gonetic calls
// its Net… method for each message the server sends (welcome →
// NetWelcome, chat_msg → NetChatMsg, …) inside Client.Update.
type ClientHandler struct {
	gnet.Handler // Conn()

	s      *Session
	opened bool
}

// current reports whether the handler's connection is the session's: a
// late call about an old connection changes nothing.
func (h *ClientHandler) current() bool { return h.Conn() == h.s.conn }

// OnConnect asks to join the room: the connection is open.
func (h *ClientHandler) OnConnect() {
	if !h.current() {
		return
	}
	s := h.s
	h.opened = true
	s.state = Joining
	if s.conn.Sealed() {
		s.info("connected to %s, sealed: encrypted and authenticated", s.cfg.Addr)
	} else {
		s.info("connected to %s", s.cfg.Addr)
	}
	_ = s.conn.Send(&Join{Nick: s.nick})
}

// OnDisconnect schedules a reconnect, unless the session is closing; or
// connects at once where the server moved the session (NetMove).
func (h *ClientHandler) OnDisconnect(reason error) {
	if !h.current() {
		return
	}
	s := h.s
	if m := s.move; m != nil && !s.quitting {
		s.move = nil
		s.conn = nil
		s.users = s.users[:0]
		s.cfg.Addr = m.Addr
		s.info("left for %s: connecting to %s", m.Server, m.Addr)
		s.dial(gnet.WithHello([]byte(m.Ticket)))
		return
	}
	s.retry(reason, h.opened)
}

// NetMove: the server moves the session to another; it disconnects us
// next, and OnDisconnect connects to the other with the ticket. The
// ticket is shown: it is the user's, and opens once.
func (h *ClientHandler) NetMove(m Move) {
	if !h.current() || m.Addr == "" || len(m.Ticket) > gnet.MaxHelloBytes {
		return
	}
	m.Server, m.Addr = shown(m.Server, 64), shown(m.Addr, 256)
	h.s.move = &m
	h.s.info("moving to %s at %s (ticket %s)", m.Server, m.Addr, shown(m.Ticket, 64))
}

// NetWelcome: the session is in the room.
func (h *ClientHandler) NetWelcome(m Welcome) {
	s := h.s
	s.state = Online
	s.nick = m.Nick
	s.setUsers(m.Users)
	s.backoff = s.cfg.MinBackoff
	s.info("joined as %s; online (%d): %s", m.Nick, len(m.Users), strings.Join(m.Users, ", "))
}

// NetNickRefused: the nickname asked for was refused.
func (h *ClientHandler) NetNickRefused(m NickRefused) {
	s := h.s
	if s.state == Online {
		s.problem("nickname refused: %s; you are still %s", shown(m.Reason, MaxReason), s.nick)
		return
	}
	s.state = Refused
	s.problem("nickname refused: %s; choose another with /nick NAME", shown(m.Reason, MaxReason))
}

// NetChatMsg: someone (maybe this session) said something.
func (h *ClientHandler) NetChatMsg(m ChatMsg) {
	h.s.received++
	h.s.cfg.Output(Line{Time: time.Now(), Kind: ChatLine, From: m.Player, Text: shown(m.Msg, 4*MaxText)})
}

// NetUserJoined: someone joined.
func (h *ClientHandler) NetUserJoined(m UserJoined) {
	s := h.s
	s.users = append(s.users, m.Nick)
	if m.From != "" {
		s.info("%s arrived from %s", m.Nick, shown(m.From, 64))
		return
	}
	s.info("%s joined", m.Nick)
}

// NetUserLeft: someone left.
func (h *ClientHandler) NetUserLeft(m UserLeft) {
	s := h.s
	s.users = slices.DeleteFunc(s.users, func(n string) bool { return n == m.Nick })
	if m.To != "" {
		s.info("%s moved to %s", m.Nick, shown(m.To, 64))
		return
	}
	s.info("%s left (%s)", m.Nick, shown(m.Reason, MaxReason))
}

// NetRenamed: someone, maybe this session, changed nickname.
func (h *ClientHandler) NetRenamed(m Renamed) {
	s := h.s
	if i := slices.Index(s.users, m.Old); i >= 0 {
		s.users[i] = m.New
	}
	if foldNick(m.Old) == foldNick(s.nick) {
		s.nick = m.New
		s.info("you are now known as %s", m.New)
		return
	}
	s.info("%s is now known as %s", m.Old, m.New)
}

// NetUsers: the answer to Who.
func (h *ClientHandler) NetUsers(m Users) {
	h.s.setUsers(m.Nicks)
	h.s.info("online (%d): %s", len(m.Nicks), strings.Join(m.Nicks, ", "))
}

// NetNotice: the server has something to say.
func (h *ClientHandler) NetNotice(m Notice) {
	h.s.info("server: %s", shown(m.Text, 4*MaxText))
}

// shown makes text from the server safe to print and at most max bytes:
// this demo's server sends nothing longer, another might.
func shown(text string, max int) string { return CleanText(Clip(text, max)) }

// describe puts the reason a connection ended in a few words.
func describe(reason error) string {
	var de *gnet.DisconnectError
	if !errors.As(reason, &de) {
		return reason.Error()
	}
	switch {
	case de.Reason != "" && errors.Is(de.Err, gnet.ErrRefused):
		return "the server refused the connection: " + de.Reason
	case de.Reason != "" && de.Remote:
		return "the server closed the connection: " + de.Reason
	case de.Reason != "":
		return de.Reason
	case de.Err == nil || errors.Is(de.Err, io.EOF):
		return "the server closed the connection"
	}
	if op := (*stdnet.OpError)(nil); errors.As(de.Err, &op) && op.Err != nil {
		return op.Err.Error() // "connect: connection refused"
	}
	return strings.TrimPrefix(de.Err.Error(), "gonetic: ")
}

// roundDuration prints d to a tenth of a second.
func roundDuration(d time.Duration) string {
	return max(d, 0).Round(100 * time.Millisecond).String()
}
