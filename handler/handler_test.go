package handler_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gonetic/gonetic/adapters/msgpack"
	"github.com/gonetic/gonetic/handler"
	"github.com/gonetic/gonetic/message"
)

type Chat struct{ Player, Msg string }

func factory() *message.Factory {
	f := message.NewFactory(msgpack.New())
	message.MustRegister[Chat](f, message.Name("chat_msg"))
	if _, err := f.Define("ping", []string{"t"}); err != nil {
		panic(err)
	}
	return f
}

type good struct {
	connected bool
	reason    error
	chats     []Chat
	pings     []message.Value
	other     []any
}

func (g *good) OnConnect()                   { g.connected = true }
func (g *good) OnDisconnect(r error)         { g.reason = r }
func (g *good) OnReceive(m any)              { g.other = append(g.other, m) }
func (g *good) NetChatMsg(m Chat)            { g.chats = append(g.chats, m) }
func (g *good) NetPing(v message.Value)      { g.pings = append(g.pings, v) }
func (g *good) Network() string              { return "not a message method" }
func (g *good) Netflix(s string)             {} // "Net" + lower case: not a message method
func (g *good) Helper(a, b int) (int, error) { return a + b, nil }
func (g *good) NetFailure(err error)         {} // takes an error: not a message method
func (g *good) NetAnything(v any)            {} // takes any: not a message method

func TestBind(t *testing.T) {
	f := factory()
	g := &good{}
	tab, err := handler.Bind(g, f)
	if err != nil {
		t.Fatal(err)
	}
	if tab.Handler != g {
		t.Fatalf("the table's Handler is %v, want the bound handler", tab.Handler)
	}
	reason := errors.New("x")
	tab.OnConnect()
	tab.OnDisconnect(reason)
	tab.OnReceive(1)
	if !g.connected || g.reason != reason || len(g.other) != 1 || g.other[0] != 1 {
		t.Fatalf("OnConnect/OnDisconnect/OnReceive not bound to the handler's: connected %v, reason %v, received %v",
			g.connected, g.reason, g.other)
	}
	d := f.NewDecoder()
	for _, pack := range [][]any{{"chat_msg", "Tom", "hi"}, {"ping", 5}} {
		b, err := f.PackArgs(pack[0].(string), pack[1:]...)
		if err != nil {
			t.Fatal(err)
		}
		mt, err := d.Begin(b)
		if err != nil {
			t.Fatal(err)
		}
		call := tab.Call(mt.ID())
		if call == nil {
			t.Fatalf("no call bound for %s", mt.Name())
		}
		if err := call(d.Reader()); err != nil {
			t.Fatal(err)
		}
	}
	if len(g.chats) != 1 || g.chats[0] != (Chat{"Tom", "hi"}) || len(g.pings) != 1 || g.pings[0].Get("t") != int64(5) {
		t.Fatalf("chats %v pings %v", g.chats, g.pings)
	}
	if tab.Call(0) != nil || tab.Call(3) != nil {
		t.Fatal("Call of an id out of range returned a call")
	}
}

type wrongChat struct{}

func (wrongChat) NetChatMsg(s string) {}

type wrongConnect struct{}

func (wrongConnect) OnConnect(x int) {}

type wrongDisconnect struct{}

func (wrongDisconnect) OnDisconnect() {}

type wrongReceive struct{}

func (wrongReceive) OnReceive(c Chat) {}

type pointerMethods struct{}

func (*pointerMethods) NetChatMsg(c Chat) {}

type typo struct{}

func (typo) NetChatMgs(c Chat) {}

type wrongDynamic struct{}

func (wrongDynamic) NetPing(c Chat) {}

func TestBindErrors(t *testing.T) {
	f := factory()
	for _, c := range []struct {
		h    any
		want string
	}{
		{wrongChat{}, "NetChatMsg is func(string), want func(handler_test.Chat)"},
		{wrongConnect{}, "OnConnect is func(int), want func()"},
		{wrongDisconnect{}, "OnDisconnect is func(), want func(reason error)"},
		{wrongReceive{}, "OnReceive is func(handler_test.Chat), want func(msg any)"},
		{pointerMethods{}, "use a pointer"},
		{typo{}, "NetChatMgs matches no registered message type (registered: chat_msg → NetChatMsg, ping → NetPing)"},
		{wrongDynamic{}, "NetPing is func(handler_test.Chat), want func(message.Value)"},
	} {
		_, err := handler.Bind(c.h, f)
		if !errors.Is(err, handler.ErrSignature) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%T: %v; want %q", c.h, err, c.want)
		}
	}
	if tab, err := handler.Bind(nil, f); err != nil || tab.Call(1) != nil {
		t.Errorf("nil handler: %v", err)
	}
}
