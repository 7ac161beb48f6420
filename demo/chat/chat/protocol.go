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
type UserJoined struct {
	Nick string
}

// UserLeft announces a nickname that left the room, and why (server →
// client).
type UserLeft struct {
	Nick   string
	Reason string
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
}

// MaxNick is the longest nickname, in characters.
const MaxNick = 16

// MaxText is the longest chat line, in characters; the server cuts longer
// ones.
const MaxText = 400

// CheckNick returns why nick cannot be a nickname, or "" when it can: 1 to
// MaxNick letters, digits, '-', '_' or '.'.
func CheckNick(nick string) string {
	n := utf8.RuneCountInString(nick)
	if n == 0 {
		return "a nickname cannot be empty"
	}
	if n > MaxNick {
		return fmt.Sprintf("nickname %q is too long: at most %d characters", nick, MaxNick)
	}
	for _, r := range nick {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '_' && r != '.' {
			return fmt.Sprintf("nickname %q has %q: use letters, digits, '-', '_' or '.'", nick, r)
		}
	}
	return ""
}

// foldNick is the key two nicknames collide under: "Ann" and "ann" are the
// same user.
func foldNick(nick string) string { return strings.ToLower(nick) }

// CleanText makes a chat line safe to print: control characters (newlines,
// escape sequences) become spaces, surrounding space goes, and a line
// longer than MaxText characters is cut.
func CleanText(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > MaxText {
		s = string([]rune(s)[:MaxText])
	}
	return s
}
