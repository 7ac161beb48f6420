package chat

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gonetic/gonetic/adapters/json"
	"github.com/gonetic/gonetic/adapters/msgpack"
	"github.com/gonetic/gonetic/message"
)

// The chat protocol's messages. NewFactory registers them in the order
// they are declared here; that order is their type id on the wire.

// Join asks to join the room with a nickname (client → server). Sent again
// once joined, it asks for a new nickname. The server answers Welcome (or
// Renamed) or NickRefused.
type Join struct {
	Nick string
}

// Welcome tells a client it joined as Nick; Users are the nicknames online,
// its own included, in the order they joined (server → client).
type Welcome struct {
	Nick  string
	Users []string
}

// NickRefused tells a client why the nickname it asked for was refused
// (server → client). A client that had not joined yet stays connected and
// may ask again with another Join.
type NickRefused struct {
	Nick   string
	Reason string
}

// ChatMsg is one line of chat: chat_msg(player, msg), as in pygnetic. A
// client sends it with its text; the server sets Player to the sender's
// nickname (whatever the client put there) and relays it to everyone in
// the room, the sender included, so that every client sees the same order.
type ChatMsg struct {
	Player string
	Msg    string
}

// UserJoined announces a nickname that joined the room (server → client).
// From is the chat server the user moved from (MoveTo), or "" for a plain
// join.
type UserJoined struct {
	Nick string
	From string
}

// UserLeft announces a nickname that left the room, and why (server →
// client). To is the chat server the user moved to (MoveTo), or "".
type UserLeft struct {
	Nick   string
	Reason string
	To     string
}

// Renamed announces that Old is now called New (server → client), the
// renamed client included.
type Renamed struct {
	Old string
	New string
}

// Who asks for the list of users online (client → server); the answer is
// Users.
type Who struct{}

// Users lists the nicknames online, in the order they joined (server →
// client).
type Users struct {
	Nicks []string
}

// Notice is a line of text from the server (server → client), such as why
// a message was not relayed.
type Notice struct {
	Text string
}

// MoveTo asks the server to move this user to the linked chat server
// named Server (client → server; "/move B"). The server answers Move, or
// a Notice saying why not, with the servers it knows when Server is not
// one of them.
type MoveTo struct {
	Server string
}

// Move tells a client that the chat server named Server expects it at
// Addr, where it presents Ticket (gnet.WithHello) to arrive with its
// nickname and state (server → client). The server then disconnects it
// with the reason "moved to Server". The ticket opens once, for
// DefaultTicketLife.
type Move struct {
	Server string
	Addr   string
	Ticket string
}

// Codecs are the serialization adapters the chat programs offer, by name.
var Codecs = []string{"msgpack", "json"}

// NewFactory returns the chat protocol's message registry, encoded with the
// codec called codec: "msgpack" (the default when empty) or "json". Both
// ends must use the same codec.
func NewFactory(codec string) (*message.Factory, error) {
	var c message.Codec
	switch codec {
	case "", "msgpack":
		c = msgpack.New()
	case "json":
		c = json.New()
	default:
		return nil, fmt.Errorf("unknown codec %q: use msgpack or json", codec)
	}
	f := message.NewFactory(c)
	Register(f)
	return f, nil
}

// Register registers the chat protocol's message types with f, in protocol
// order. It panics if f is frozen or already has one of the names, which
// only a programming mistake can cause.
func Register(f *message.Factory) {
	message.MustRegister[Join](f)        // join → NetJoin
	message.MustRegister[Welcome](f)     // welcome → NetWelcome
	message.MustRegister[NickRefused](f) // nick_refused → NetNickRefused
	message.MustRegister[ChatMsg](f)     // chat_msg → NetChatMsg
	message.MustRegister[UserJoined](f)  // user_joined → NetUserJoined
	message.MustRegister[UserLeft](f)    // user_left → NetUserLeft
	message.MustRegister[Renamed](f)     // renamed → NetRenamed
	message.MustRegister[Who](f)         // who → NetWho
	message.MustRegister[Users](f)       // users → NetUsers
	message.MustRegister[Notice](f)      // notice → NetNotice
	message.MustRegister[MoveTo](f)      // move_to → NetMoveTo
	message.MustRegister[Move](f)        // move → NetMove
}

// Limits of the chat protocol: the server enforces them on what peers send
// (and never relays or logs more), and the clients check them before
// sending so that their user hears at once why a line or a nickname does
// not go. They bound what one peer can make the server relay to every
// member and write to its log.
const (
	// MaxNick is the longest nickname, in characters (runes); see
	// CheckNick. The server answers a longer one with a NickRefused.
	MaxNick = 16
	// MaxText is the longest chat line, in characters (runes), counted
	// after CleanText; see CheckText. The server answers a longer line
	// with a Notice and relays none of it.
	MaxText = 400
	// MaxReason is the longest leave reason, in bytes, that the server
	// relays in UserLeft and logs: a longer one is cut at a character
	// boundary and ends in "…".
	MaxReason = 200
)

// maxLogged bounds, in bytes, what the server logs of a field a peer sent
// that it refused (a nickname): enough to recognise it.
const maxLogged = 64

// CheckNick returns why nick cannot be a nickname, or "" when it can: 1 to
// MaxNick letters, digits, '-', '_' or '.'. The reason quotes nick only
// when it is short enough to be a nickname.
func CheckNick(nick string) string {
	n := utf8.RuneCountInString(nick)
	if n == 0 {
		return "a nickname cannot be empty"
	}
	if n > MaxNick {
		return fmt.Sprintf("a nickname has at most %d characters, this one has %d", MaxNick, n)
	}
	for _, r := range nick {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '_' && r != '.' {
			return fmt.Sprintf("nickname %q has %q: use letters, digits, '-', '_' or '.'", nick, r)
		}
	}
	return ""
}

// CheckText returns why text, cleaned by CleanText, cannot be said to the
// room, or "" when it can: it has at most MaxText characters.
func CheckText(text string) string {
	if n := utf8.RuneCountInString(text); n > MaxText {
		return fmt.Sprintf("a line has at most %d characters, this one has %d", MaxText, n)
	}
	return ""
}

// foldNick is the key two nicknames collide under: "Ann" and "ann" are the
// same user.
func foldNick(nick string) string { return strings.ToLower(nick) }

// CleanText makes a line safe to print: control characters (newlines,
// escape sequences) become spaces and surrounding space goes. It does not
// shorten it: see CheckText and Clip.
func CleanText(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// Clip returns s if it has at most max bytes, else its longest prefix that
// ends on a character boundary and leaves room for a trailing "…" within
// max bytes, followed by "…". max must be at least len("…"), 3.
func Clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const ellipsis = "…"
	end := max - len(ellipsis)
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	return s[:end] + ellipsis
}
