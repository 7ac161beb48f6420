package message

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"unicode"

	"github.com/gonetic/gonetic/net/transport"
)

// Delivery is how messages of a type travel; see the constants.
type Delivery = transport.Delivery

// Delivery modes. Reliable (ordered) is the default.
const (
	Reliable    = transport.Reliable    // arrives exactly once, in order on its channel
	Sequenced   = transport.Sequenced   // may be lost, never out of order (unreliable sequenced)
	Unsequenced = transport.Unsequenced // may be lost, duplicated or reordered
)

// MaxChannels is the number of channels a registry may use (ENet's limit).
const MaxChannels = 255

// Direction says which side of a connection sends a type; see SentBy.
type Direction uint8

// Directions. BothWays is the default.
const (
	BothWays       Direction = iota // clients and servers send it
	ClientToServer                  // only clients send it; servers receive it
	ServerToClient                  // only servers send it; clients receive it
)

// Allows reports whether a message of a type registered with SentBy(d) may
// travel in direction way (ClientToServer or ServerToClient). Every type
// may travel BothWays, which is how an end that does not know its side
// checks nothing.
func (d Direction) Allows(way Direction) bool {
	return d == BothWays || way == BothWays || d == way
}

func (d Direction) String() string {
	switch d {
	case BothWays:
		return "both ways"
	case ClientToServer:
		return "client to server"
	case ServerToClient:
		return "server to client"
	}
	return fmt.Sprintf("Direction(%d)", uint8(d))
}

// Type is one registered message type. It is immutable once registered.
type Type struct {
	id       int
	name     string
	fields   []string
	text     []string // fields with the shapes of nested structs, for the type line
	channel  uint8
	delivery Delivery
	sentBy   Direction
	maxSize  int
	goType   reflect.Type // nil for dynamic types
	plan     []fieldPlan  // typed types: how to walk the struct
	ops      typeOps      // typed types: the generic half
	method   string
}

// ID is the type id: its position in registration order, from 1.
func (t *Type) ID() int { return t.id }

// Name is the type's wire name, such as "chat_msg".
func (t *Type) Name() string { return t.name }

// Fields returns the field names in wire order. The slice must not be
// modified.
func (t *Type) Fields() []string { return t.fields }

// Channel is the channel messages of this type travel on.
func (t *Type) Channel() uint8 { return t.channel }

// Delivery is how messages of this type travel.
func (t *Type) Delivery() Delivery { return t.delivery }

// SentBy is the side that sends messages of this type (SentBy option);
// BothWays unless registered otherwise. A receiver can check it right
// after reading the id, before decoding the rest (see Decoder.SetDirection).
func (t *Type) SentBy() Direction { return t.sentBy }

// MaxSize is the largest encoded size in bytes of a message of this type
// (MaxSize option), or 0 for no limit of its own.
func (t *Type) MaxSize() int { return t.maxSize }

// GoType is the registered struct type, or nil for a dynamic type.
func (t *Type) GoType() reflect.Type { return t.goType }

// MethodName is the handler method that receives this type: "chat_msg"
// gives "NetChatMsg".
func (t *Type) MethodName() string { return t.method }

func (t *Type) String() string {
	return fmt.Sprintf("%s(%s)#%d", t.name, strings.Join(t.fields, ","), t.id)
}

// Option changes how a type is registered.
type Option func(*options)

type options struct {
	name     string
	channel  int
	delivery Delivery
	sentBy   Direction
	maxSize  int
}

// Name sets the wire name of a typed registration. The default is the Go
// type name in snake case: ChatMsg gives "chat_msg".
func Name(name string) Option { return func(o *options) { o.name = name } }

// Channel sets the channel (0 to MaxChannels-1) the type travels on.
// The default is 0.
func Channel(ch int) Option { return func(o *options) { o.channel = ch } }

// Deliver sets the delivery mode. The default is Reliable.
func Deliver(d Delivery) Option { return func(o *options) { o.delivery = d } }

// SentBy says which side sends the type: ClientToServer, ServerToClient
// or BothWays (the default). It is part of the registry hash. A Decoder set
// for the receiving side refuses a message that travels the other way
// before decoding its fields, and an Encoder set for the sending side
// refuses to encode it (Decoder.SetDirection, Encoder.SetDirection).
func SentBy(d Direction) Option { return func(o *options) { o.sentBy = d } }

// MaxSize sets the largest encoded size in bytes of a message of the type;
// 0, the default, is no limit but the network adapter's. It is part of the
// registry hash. Encoding a larger message is an error (ErrTooLarge), and
// Decoder.Begin refuses a larger one before decoding its fields.
func MaxSize(n int) Option { return func(o *options) { o.maxSize = n } }

func applyOptions(opts []Option) (options, error) {
	var o options
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.channel < 0 || o.channel >= MaxChannels {
		return o, fmt.Errorf("%w: channel %d outside 0..%d", ErrBadOption, o.channel, MaxChannels-1)
	}
	if !o.delivery.Valid() {
		return o, fmt.Errorf("%w: unknown delivery mode %d", ErrBadOption, o.delivery)
	}
	if o.sentBy > ServerToClient {
		return o, fmt.Errorf("%w: unknown direction %d: use message.ClientToServer, ServerToClient or BothWays", ErrBadOption, o.sentBy)
	}
	if o.maxSize < 0 || o.maxSize > math.MaxInt32 {
		return o, fmt.Errorf("%w: MaxSize(%d) outside 1..%d (0 for no limit)", ErrBadOption, o.maxSize, math.MaxInt32)
	}
	return o, nil
}

// checkName accepts names that can become a Go method name: letters, digits
// and underscores, starting with a letter.
func checkName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty name", ErrBadFields)
	}
	for i, r := range name {
		if !(unicode.IsLetter(r) || r == '_' || (i > 0 && unicode.IsDigit(r))) {
			return fmt.Errorf("%w: name %q: use letters, digits and underscores, starting with a letter", ErrBadFields, name)
		}
	}
	return nil
}

func checkFields(typeName string, fields []string) error {
	seen := make(map[string]bool, len(fields))
	for _, f := range fields {
		if f == "" {
			return fmt.Errorf("%w: %s has an empty field name", ErrBadFields, typeName)
		}
		if seen[f] {
			return fmt.Errorf("%w: %s has field %q twice", ErrBadFields, typeName, f)
		}
		seen[f] = true
	}
	return nil
}

// snake turns "ChatMsg" into "chat_msg" and "HTTPReply" into "http_reply".
func snake(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if unicode.IsUpper(r) {
			if i > 0 && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]) ||
				(i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1]))) {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// methodName turns "chat_msg" into "NetChatMsg".
func methodName(name string) string {
	var b strings.Builder
	b.WriteString("Net")
	up := true
	for _, r := range name {
		if r == '_' {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	return b.String()
}
