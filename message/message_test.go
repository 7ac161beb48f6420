package message_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/gonetic/gonetic/adapters/json"
	"github.com/gonetic/gonetic/adapters/msgpack"
	"github.com/gonetic/gonetic/message"
)

type ChatMsg struct {
	Player string
	Msg    string
}

type Move struct {
	X, Y   float32
	Speed  int8
	Flags  uint16
	hidden int // unexported fields do not travel
	Skip   int `net:"-"`
	Tags   []string
	Data   []byte
	OK     bool `net:"ok"`
}

func chatFactory(t testing.TB, c message.Codec) *message.Factory {
	f := message.NewFactory(c)
	if _, err := message.Register[ChatMsg](f); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestChatBytes(t *testing.T) {
	f := chatFactory(t, msgpack.New())
	b, err := f.Pack(ChatMsg{"Tom", "Test message"})
	if err != nil {
		t.Fatal(err)
	}
	want := "9301a3546f6dac54657374206d657373616765"
	if got := hex.EncodeToString(b); got != want || len(b) != 19 {
		t.Fatalf("chat_msg packs to %s (%d bytes), want %s (19 bytes)", got, len(b), want)
	}
	j := chatFactory(t, json.New())
	b, err = j.Pack(&ChatMsg{"Tom", "Test message"})
	if err != nil || string(b) != `[1,"Tom","Test message"]` {
		t.Fatalf("JSON: %s %v", b, err)
	}
	// The dynamic registration is the same on the wire.
	d := message.NewFactory(msgpack.New())
	if _, err := d.Define("chat_msg", []string{"player", "msg"}); err != nil {
		t.Fatal(err)
	}
	b2, err := d.PackArgs("chat_msg", "Tom", "Test message")
	if err != nil || hex.EncodeToString(b2) != want {
		t.Fatalf("dynamic chat_msg: %x %v", b2, err)
	}
	if d.Hash() != f.Hash() {
		t.Fatal("typed and dynamic registrations of chat_msg(player,msg) hash differently")
	}
}

func TestRoundTrip(t *testing.T) {
	for _, c := range []message.Codec{msgpack.New(), json.New()} {
		t.Run(c.Name(), func(t *testing.T) {
			f := message.NewFactory(c)
			mt := message.MustRegister[Move](f, message.Channel(2), message.Deliver(message.Sequenced))
			if got := strings.Join(mt.Fields(), ","); got != "x,y,speed,flags,tags,data,ok" {
				t.Fatalf("fields %s", got)
			}
			if mt.Channel() != 2 || mt.Delivery() != message.Sequenced || mt.MethodName() != "NetMove" {
				t.Fatalf("type %v ch=%d %v %s", mt, mt.Channel(), mt.Delivery(), mt.MethodName())
			}
			in := Move{X: 1.5, Y: -2, Speed: -7, Flags: 65535, Skip: 9, Tags: []string{"a", "b"}, Data: []byte{0, 1, 2}, OK: true, hidden: 5}
			b, err := f.Pack(in)
			if err != nil {
				t.Fatal(err)
			}
			out, err := f.Unpack(b)
			if err != nil {
				t.Fatal(err)
			}
			m := out.(Move)
			in.Skip = 0
			if m.hidden != 0 {
				t.Fatalf("an unexported field travelled: %d", m.hidden)
			}
			if m.X != in.X || m.Y != in.Y || m.Speed != in.Speed || m.Flags != in.Flags || m.OK != in.OK ||
				strings.Join(m.Tags, ",") != "a,b" || !bytes.Equal(m.Data, in.Data) || m.Skip != 0 {
				t.Fatalf("round trip: %+v, want %+v", m, in)
			}
		})
	}
}

func TestRegistrationErrors(t *testing.T) {
	f := chatFactory(t, msgpack.New())
	if _, err := message.Register[ChatMsg](f, message.Name("other")); !errors.Is(err, message.ErrDuplicateName) {
		t.Errorf("same Go type twice: %v", err)
	}
	if _, err := f.Define("chat_msg", []string{"a"}); !errors.Is(err, message.ErrDuplicateName) {
		t.Errorf("duplicate name: %v", err)
	}
	for _, fields := range [][]string{{"a", "a"}, {""}} {
		if _, err := f.Define("x", fields); !errors.Is(err, message.ErrBadFields) {
			t.Errorf("fields %q: %v", fields, err)
		}
	}
	if _, err := f.Define("9lives", nil); !errors.Is(err, message.ErrBadFields) {
		t.Errorf("bad name: %v", err)
	}
	if _, err := f.Define("y", nil, message.Channel(300)); !errors.Is(err, message.ErrBadOption) {
		t.Errorf("channel 300: %v", err)
	}
	if _, err := message.Register[int](f); !errors.Is(err, message.ErrBadFields) {
		t.Errorf("non-struct: %v", err)
	}
	if _, err := message.Register[struct{ F func() }](f, message.Name("fn")); !errors.Is(err, message.ErrBadFields) {
		t.Errorf("func field: %v", err)
	}
	f.Freeze()
	if _, err := f.Define("late", nil); !errors.Is(err, message.ErrFrozen) {
		t.Errorf("after Freeze: %v", err)
	}
	if f.Len() != 1 || f.ByName("chat_msg").ID() != 1 || f.ByID(1).Name() != "chat_msg" || f.ByID(2) != nil {
		t.Error("failed registrations changed the registry")
	}
}

func TestUnpackErrors(t *testing.T) {
	f := chatFactory(t, msgpack.New())
	good, _ := f.Pack(ChatMsg{"Tom", "Test message"})
	cases := map[string]struct {
		in   []byte
		want error
	}{
		"empty":          {nil, message.ErrMalformed},
		"not an array":   {[]byte{0xa3, 'a', 'b', 'c'}, message.ErrMalformed},
		"empty array":    {[]byte{0x90}, message.ErrMalformed},
		"unknown id":     {[]byte{0x93, 0x07, 0xa1, 'a', 0xa1, 'b'}, message.ErrUnknownType},
		"id zero":        {[]byte{0x93, 0x00, 0xa1, 'a', 0xa1, 'b'}, message.ErrUnknownType},
		"wrong arity":    {[]byte{0x92, 0x01, 0xa1, 'a'}, message.ErrArity},
		"wrong type":     {[]byte{0x93, 0x01, 0x05, 0xa1, 'b'}, nil},
		"truncated":      {good[:10], nil},
		"trailing bytes": {append(append([]byte{}, good...), 0xc0), message.ErrMalformed},
	}
	for name, c := range cases {
		msg, err := f.Unpack(c.in)
		if err == nil || msg != nil {
			t.Errorf("%s: Unpack = %v, %v; want an error and no message", name, msg, err)
			continue
		}
		if c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	var fe *message.FieldError
	if _, err := f.Unpack([]byte{0x93, 0x01, 0x05, 0xa1, 'b'}); !errors.As(err, &fe) || fe.Field != "player" {
		t.Errorf("wrong field type: %v, want a FieldError for player", err)
	}
}

func TestUnpackAll(t *testing.T) {
	f := chatFactory(t, msgpack.New())
	var buf []byte
	for _, s := range []string{"a", "b", "c"} {
		b, _ := f.Pack(ChatMsg{"Tom", s})
		buf = append(buf, b...)
	}
	msgs, err := f.UnpackAll(buf)
	if err != nil || len(msgs) != 3 || msgs[2].(ChatMsg).Msg != "c" {
		t.Fatalf("UnpackAll: %v %v", msgs, err)
	}
	msgs, err = f.UnpackAll(append(buf, 0x93, 0x09))
	if err == nil || len(msgs) != 3 {
		t.Fatalf("UnpackAll with a bad tail: %d messages, %v", len(msgs), err)
	}
}

func TestValue(t *testing.T) {
	f := message.NewFactory(msgpack.New())
	mt, _ := f.Define("chat_msg", []string{"player", "msg"})
	b, err := f.Pack(message.Value{Type: mt, Fields: []any{"Tom", "hi"}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := f.Unpack(b)
	if err != nil {
		t.Fatal(err)
	}
	v := out.(message.Value)
	if v.Get("player") != "Tom" || v.At(1) != "hi" || v.Get("nope") != nil || v.At(5) != nil {
		t.Fatalf("value %v", v)
	}
	if _, err := f.PackArgs("chat_msg", "Tom"); !errors.Is(err, message.ErrArity) {
		t.Fatalf("PackArgs arity: %v", err)
	}
	if _, err := f.Pack(struct{}{}); !errors.Is(err, message.ErrNotRegistered) {
		t.Fatalf("unregistered: %v", err)
	}
}

func TestEncodeArgsTypes(t *testing.T) {
	f := message.NewFactory(msgpack.New())
	message.MustRegister[Move](f)
	if _, err := f.PackArgs("move", 1, 2, 3, 4, []string{"t"}, []byte("d"), true); err != nil {
		t.Fatalf("convertible numbers: %v", err)
	}
	var fe *message.FieldError
	if _, err := f.PackArgs("move", "one", 2, 3, 4, nil, nil, true); !errors.As(err, &fe) || fe.Field != "x" {
		t.Fatalf("string for a float: %v", err)
	}
}

func TestSnakeNames(t *testing.T) {
	f := message.NewFactory(msgpack.New())
	type HTTPReply struct{ A int }
	type PlayerID2 struct{ B int }
	for _, c := range []struct{ got, want string }{
		{message.MustRegister[HTTPReply](f).Name(), "http_reply"},
		{message.MustRegister[PlayerID2](f).Name(), "player_id2"},
		{message.MustRegister[ChatMsg](f).MethodName(), "NetChatMsg"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// hashProbe is the registry whose hash must be the same everywhere.
func hashProbe() *message.Factory {
	f := message.NewFactory(msgpack.New())
	message.MustRegister[ChatMsg](f)
	message.MustRegister[Move](f, message.Channel(1), message.Deliver(message.Unsequenced))
	if _, err := f.Define("ping", []string{"t"}); err != nil {
		panic(err)
	}
	return f
}

// The hash is a pure function of the registry: the same in another process
// and fixed across platforms and releases (a change breaks every deployed
// peer, so it must be deliberate).
func TestHashStable(t *testing.T) {
	if os.Getenv("GONETIC_HASH_PROBE") == "1" {
		os.Stdout.WriteString(hashProbe().Hash().String())
		os.Exit(0)
	}
	h := hashProbe().Hash().String()
	const golden = "06b191a37bc66688ba3b5aa290dcd2c1"
	if h != golden {
		t.Fatalf("registry hash %s, want %s", h, golden)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHashStable$")
	cmd.Env = append(os.Environ(), "GONETIC_HASH_PROBE=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != h {
		t.Fatalf("hash in another process %q, here %q", out, h)
	}
	other := hashProbe()
	if _, err := other.Define("extra", nil); err != nil {
		t.Fatal(err)
	}
	if other.Hash() == hashProbe().Hash() {
		t.Fatal("adding a type did not change the hash")
	}
	j := message.NewFactory(json.New())
	message.MustRegister[ChatMsg](j)
	if j.Hash() == chatFactory(t, msgpack.New()).Hash() {
		t.Fatal("the codec is not part of the hash")
	}
}

func TestDiff(t *testing.T) {
	a, b := hashProbe(), message.NewFactory(msgpack.New())
	message.MustRegister[ChatMsg](b)
	got := a.Diff(b.Lines(), "server", "client")
	if !strings.Contains(got, "type 2: server has 2 move(") || !strings.Contains(got, "client has no type 2") {
		t.Fatalf("Diff: %s", got)
	}
	if d := a.Diff(a.Lines(), "x", "y"); d != "" {
		t.Fatalf("Diff of equal registries: %q", d)
	}
}
