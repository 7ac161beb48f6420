package message_test

import (
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/json"
	"github.com/gonetic/gonetic/adapters/msgpack"
	"github.com/gonetic/gonetic/message"
)

type Player struct {
	ID   uint16
	X, Y float32
}

type Snapshot struct {
	Tick    uint32
	Players []Player
}

// PlayerZ is Player with another last field: a peer built from other code.
type PlayerZ struct {
	ID   uint16
	X, Z float32
}

type SnapshotZ struct {
	Tick    uint32
	Players []PlayerZ
}

type Vec struct{ X, Y float32 }

type Team struct {
	Name    string
	Members []Player `net:"members"`
	Secret  int      `net:"-"`
}

// World has every nested kind.
type World struct {
	Origin  Vec
	Target  *Vec
	Corners [2]Vec
	Teams   []Team
	Grid    [][]Vec
	Ptrs    []*Vec
	Tags    []string
	When    time.Time // has an encoding of its own: a leaf
	Empty   struct{}
	Renamed Vec `net:"pos"`
}

func snapshotFactory(c message.Codec) *message.Factory {
	f := message.NewFactory(c)
	message.MustRegister[Snapshot](f)
	return f
}

func TestNestedBytes(t *testing.T) {
	f := snapshotFactory(msgpack.New())
	b, err := f.Pack(Snapshot{Tick: 7, Players: []Player{{ID: 1, X: 1.5, Y: -2}, {ID: 300}}})
	if err != nil {
		t.Fatal(err)
	}
	// [1, 7, [[1, 1.5f, -2f], [300, 0f, 0f]]]: each player an array of
	// its fields in order, no field names.
	want := "930107" + "92" + "9301ca3fc00000cac0000000" + "93cd012cca00000000ca00000000"
	if got := hex.EncodeToString(b); got != want {
		t.Fatalf("snapshot packs to\n%s, want\n%s", got, want)
	}
	// docs/PROTOCOL.md's example.
	b, err = f.Pack(Snapshot{Tick: 7, Players: []Player{{ID: 1, X: 1.5, Y: -2}}})
	if got := hex.EncodeToString(b); err != nil || got != "9301079193"+"01ca3fc00000cac0000000" {
		t.Fatalf("snapshot of one player packs to %s, %v", got, err)
	}
	if got := strings.Join(f.Lines(), "\n"); got != "1 snapshot(tick,players[]{id,x,y}) 0 reliable" {
		t.Fatalf("type line %q", got)
	}
	j := snapshotFactory(json.New())
	b, err = j.Pack(&Snapshot{Tick: 7, Players: []Player{{ID: 1, X: 1.5, Y: -2}}})
	if err != nil || string(b) != `[1,7,[[1,1.5,-2]]]` {
		t.Fatalf("JSON: %s %v", b, err)
	}
}

func TestNestedRoundTrip(t *testing.T) {
	in := World{
		Origin:  Vec{1, 2},
		Target:  &Vec{3, 4},
		Corners: [2]Vec{{5, 6}, {7, 8}},
		Teams:   []Team{{Name: "red", Members: []Player{{1, 1, 1}, {2, 2, 2}}, Secret: 9}, {Name: "blue"}},
		Grid:    [][]Vec{{{1, 1}}, nil, {{2, 2}, {3, 3}}},
		Ptrs:    []*Vec{{9, 9}, nil},
		Tags:    []string{"a"},
		When:    time.Date(2026, 12, 7, 1, 2, 3, 0, time.UTC),
		Renamed: Vec{-1, -1},
	}
	for _, c := range []message.Codec{msgpack.New(), json.New()} {
		t.Run(c.Name(), func(t *testing.T) {
			f := message.NewFactory(c)
			wt := message.MustRegister[World](f)
			want := "1 world(origin{x,y},target{x,y},corners[2]{x,y},teams[]{name,members[]{id,x,y}}," +
				"grid[][]{x,y},ptrs[]{x,y},tags,when,empty{},pos{x,y}) 0 reliable"
			if got := f.Lines()[0]; got != want {
				t.Fatalf("type line\n%s, want\n%s", got, want)
			}
			if got := strings.Join(wt.Fields(), ","); got != "origin,target,corners,teams,grid,ptrs,tags,when,empty,pos" {
				t.Fatalf("fields %s", got)
			}
			b, err := f.Pack(&in)
			if err != nil {
				t.Fatal(err)
			}
			out, err := f.Unpack(b)
			if err != nil {
				t.Fatal(err)
			}
			exp := in
			exp.Teams = []Team{{Name: "red", Members: in.Teams[0].Members}, {Name: "blue"}}
			got := out.(World)
			if !got.When.Equal(exp.When) {
				t.Fatalf("time %v, want %v", got.When, exp.When)
			}
			got.When = exp.When
			if !reflect.DeepEqual(got, exp) {
				t.Fatalf("round trip\n%+v, want\n%+v", got, exp)
			}
			// nil pointers and slices, zero structs and arrays.
			var zero World
			b, err = f.Pack(&zero)
			if err != nil {
				t.Fatal(err)
			}
			if out, err = f.Unpack(b); err != nil {
				t.Fatal(err)
			}
			got = out.(World)
			got.When = zero.When
			if !reflect.DeepEqual(got, zero) {
				t.Fatalf("zero round trip %+v", got)
			}
		})
	}
}

// Two registries that differ only in a field of a nested struct have
// different hashes, and the diff names the field.
func TestNestedHashAndDiff(t *testing.T) {
	a := snapshotFactory(msgpack.New())
	b := message.NewFactory(msgpack.New())
	message.MustRegister[SnapshotZ](b, message.Name("snapshot"))
	if a.Hash() == b.Hash() {
		t.Fatal("registries with players{id,x,y} and players{id,x,z} hash the same")
	}
	d := a.Diff(b.Lines(), "server", "client")
	want := "type 1 (field players.y): server has 1 snapshot(tick,players[]{id,x,y}) 0 reliable, client has 1 snapshot(tick,players[]{id,x,z}) 0 reliable"
	if d != want {
		t.Fatalf("Diff:\n%s, want\n%s", d, want)
	}
	for _, c := range []struct{ a, b, field string }{
		{"1 t(a,b{c,d}) 0 reliable", "1 t(a,b{c}) 0 reliable", "b"},
		{"1 t(a,b{c}) 0 reliable", "1 t(a,b{c,d}) 0 reliable", "b"},
		{"1 t(a,b[]{c{e}}) 0 reliable", "1 t(a,b[]{c{f}}) 0 reliable", "b.c.e"},
		{"1 t(a,b[2]{c}) 0 reliable", "1 t(a,b[3]{c}) 0 reliable", "b"},
		{"1 t(a,b) 0 reliable", "1 t(a,b[]{c}) 0 reliable", "b"},
		{"1 t(a,b) 0 reliable", "1 t(a,c) 0 reliable", "b"},
		{"1 t(a) 0 reliable", "1 t(a,b) 0 reliable", ""},
		{"1 t(a) 0 reliable", "1 t(a) 1 reliable", ""},
		{"1 t() 0 reliable", "1 t(a) 0 reliable", "a"},
	} {
		got := message.FieldAt(c.a, c.b)
		if got != c.field {
			t.Errorf("FieldAt(%q, %q) = %q, want %q", c.a, c.b, got, c.field)
		}
	}
	// The other side's lines come from the network: garbage and a deep
	// nesting give a diff, not a panic or a deep recursion.
	for _, line := range []string{
		"1 snapshot(tick,players[]{id,x,y" + strings.Repeat("{a", 1<<20),
		"1 snapshot(tick,players[[[[[",
		"1 snapshot(tick,players[]{id,x,y}}}}}}) 0",
		"(", "", "1 snapshot(tick,players[]{,,,}",
	} {
		if d := a.Diff([]string{line}, "server", "client"); !strings.HasPrefix(d, "type 1") {
			t.Errorf("Diff with %.40q: %q", line, d)
		}
	}
}

type Node struct {
	Name     string
	Children []Node
}

type List struct {
	Next *List
}

type Deep struct{ In []Inner }

type Inner struct{ Back *Deep }

type MapOfStructs struct{ M map[string]Player }

// Types that contain themselves through no struct travel as plain values.
type (
	Lists    []Lists
	Dict     map[string]Dict
	Plainish struct {
		L Lists
		D Dict
	}
)

// ThroughSlice contains a struct that contains ThroughSlice.
type ThroughSlice []struct{ Back ThroughSlice }

type HasThroughSlice struct{ T ThroughSlice }

type BadNested struct{ In struct{ F func() } }

type CommaTag struct {
	A int `net:"a,b"`
}

type TwiceNested struct {
	In struct {
		A int
		B int `net:"a"`
	}
}

func TestNestedRegistrationErrors(t *testing.T) {
	f := message.NewFactory(msgpack.New())
	for name, reg := range map[string]func() (*message.Type, error){
		"slice of itself":      func() (*message.Type, error) { return message.Register[Node](f) },
		"pointer to itself":    func() (*message.Type, error) { return message.Register[List](f) },
		"through another type": func() (*message.Type, error) { return message.Register[Deep](f) },
		"map of structs":       func() (*message.Type, error) { return message.Register[MapOfStructs](f) },
		"slice, struct, slice": func() (*message.Type, error) { return message.Register[HasThroughSlice](f) },
		"func in nested":       func() (*message.Type, error) { return message.Register[BadNested](f) },
		"comma in a tag":       func() (*message.Type, error) { return message.Register[CommaTag](f) },
		"nested name twice":    func() (*message.Type, error) { return message.Register[TwiceNested](f) },
	} {
		if _, err := reg(); !errors.Is(err, message.ErrBadFields) {
			t.Errorf("%s: %v, want ErrBadFields", name, err)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	if f.Len() != 0 {
		t.Fatalf("failed registrations registered %d types", f.Len())
	}
	// A map of scalars still travels through the codec's Value, and so do
	// lists and maps of themselves.
	type Scores struct{ M map[string]int }
	if _, err := message.Register[Scores](f); err != nil {
		t.Fatal(err)
	}
	pt, err := message.Register[Plainish](f)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Lines()[1]; got != "2 plainish(l,d) 0 reliable" {
		t.Fatalf("type line %q", got)
	}
	b, err := f.Pack(Plainish{L: Lists{{}, {{}}}, D: Dict{"a": {}}})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := f.Unpack(b); err != nil || len(out.(Plainish).L) != 2 || len(out.(Plainish).D) != 1 {
		t.Fatalf("%v: %+v %v", pt, out, err)
	}
}

func TestNestedUnpackErrors(t *testing.T) {
	f := snapshotFactory(msgpack.New())
	cases := map[string]struct {
		hex   string
		want  error
		field string
	}{
		"player with 2 fields":  {"930107" + "91" + "920101c0", message.ErrArity, "players[0]"},
		"player with 4 fields":  {"930107" + "91" + "9401010101", message.ErrArity, "players[0]"},
		"player not an array":   {"930107" + "91" + "01c0c0c0", nil, "players[0]"},
		"players not an array":  {"930107" + "01", nil, "players"},
		"wrong kind in player":  {"930107" + "92" + "93010101" + "93a1780101", nil, "players[1].id"},
		"id overflows uint16":   {"930107" + "91" + "93ce0001000000" + "0101", nil, "players[0].id"},
		"huge declared length":  {"930107" + "ddffffffff" + "930101", nil, "players"},
		"length beyond the end": {"930107" + "dc0100" + "930101", nil, "players"},
		// 200 players of 1 byte each cannot be: a player is an array of
		// 3 values, 4 bytes at least, and never nil.
		"length the bytes cannot hold": {"930107" + "dc00c8" + strings.Repeat("c0", 200), message.ErrMalformed, "players"},
		"nil for a player":             {"930107" + "91" + "c0c0c0c0", nil, "players[0]"},
		"truncated player":             {"930107" + "91" + "930101ca00", nil, "players[0].y"},
		"too short for a player":       {"930107" + "91" + "930101", message.ErrMalformed, "players"},
	}
	for name, c := range cases {
		b, _ := hex.DecodeString(c.hex)
		msg, err := f.Unpack(b)
		var fe *message.FieldError
		switch {
		case err == nil || msg != nil:
			t.Errorf("%s: Unpack = %v, %v; want an error", name, msg, err)
		case c.want != nil && !errors.Is(err, c.want):
			t.Errorf("%s: %v, want %v", name, err, c.want)
		case !errors.As(err, &fe) || fe.Field != c.field:
			t.Errorf("%s: %v, want a FieldError for %s", name, err, c.field)
		}
	}
	// A fixed-length array must have its length.
	type Corners struct{ C [2]Vec }
	g := message.NewFactory(msgpack.New())
	message.MustRegister[Corners](g)
	if _, err := g.Unpack([]byte{0x92, 0x01, 0x91, 0x92, 0x01, 0x01}); !errors.Is(err, message.ErrArity) {
		t.Errorf("array of 1 for [2]Vec: %v, want ErrArity", err)
	}
}

// Nested messages encode without allocating, as flat ones do.
func TestNestedEncodeAllocs(t *testing.T) {
	f := snapshotFactory(msgpack.New())
	e := f.NewEncoder()
	msg := &Snapshot{Tick: 1, Players: make([]Player, 16)}
	buf, _, err := e.Encode(nil, msg)
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { buf, _, _ = e.Encode(buf[:0], msg) }); n != 0 {
		t.Fatalf("encoding a snapshot of 16 players: %v allocations, want 0", n)
	}
}

func TestDirectionAndMaxSize(t *testing.T) {
	type Input struct{ Keys uint8 }
	type State struct{ Tick uint32 }
	type Note struct{ Text string }
	f := message.NewFactory(msgpack.New())
	in := message.MustRegister[Input](f, message.SentBy(message.ClientToServer))
	st := message.MustRegister[State](f, message.SentBy(message.ServerToClient), message.MaxSize(8))
	nt := message.MustRegister[Note](f, message.MaxSize(10))
	want := "1 input(keys) 0 reliable from=client\n2 state(tick) 0 reliable from=server max=8\n3 note(text) 0 reliable max=10"
	if got := strings.Join(f.Lines(), "\n"); got != want {
		t.Fatalf("lines\n%s, want\n%s", got, want)
	}
	if in.SentBy() != message.ClientToServer || st.SentBy() != message.ServerToClient || nt.SentBy() != message.BothWays ||
		st.MaxSize() != 8 || in.MaxSize() != 0 {
		t.Fatalf("accessors: %v %v %v %d %d", in.SentBy(), st.SentBy(), nt.SentBy(), st.MaxSize(), in.MaxSize())
	}
	for _, c := range []struct {
		sentBy, way message.Direction
		ok          bool
	}{
		{message.ClientToServer, message.ClientToServer, true},
		{message.ClientToServer, message.ServerToClient, false},
		{message.ServerToClient, message.ClientToServer, false},
		{message.BothWays, message.ServerToClient, true},
		{message.ServerToClient, message.BothWays, true},
	} {
		if c.sentBy.Allows(c.way) != c.ok {
			t.Errorf("%v.Allows(%v) = %v", c.sentBy, c.way, !c.ok)
		}
	}
	plain := message.NewFactory(msgpack.New())
	message.MustRegister[Input](plain)
	message.MustRegister[State](plain)
	message.MustRegister[Note](plain)
	if plain.Hash() == f.Hash() {
		t.Fatal("direction and MaxSize are not in the hash")
	}

	client := f.NewEncoder()
	client.SetDirection(message.ClientToServer)
	if _, _, err := client.Encode(nil, &State{}); !errors.Is(err, message.ErrDirection) {
		t.Fatalf("a client encoding a server's type: %v", err)
	}
	if _, err := client.EncodeArgs(nil, st, 1); !errors.Is(err, message.ErrDirection) {
		t.Fatalf("a client encoding a server's type by args: %v", err)
	}
	ib, _, err := client.Encode(nil, &Input{Keys: 3})
	if err != nil {
		t.Fatal(err)
	}
	anyEnd := f.NewEncoder() // BothWays: encodes everything
	sb, _, err := anyEnd.Encode(nil, &State{Tick: 1})
	if err != nil {
		t.Fatal(err)
	}
	server := f.NewDecoder()
	server.SetDirection(message.ClientToServer)
	if typ, err := server.Begin(sb); !errors.Is(err, message.ErrDirection) || typ != st {
		t.Fatalf("a server receiving a server's type: %v %v", typ, err)
	}
	if typ, err := server.Begin(ib); err != nil || typ != in {
		t.Fatalf("a server receiving a client's type: %v %v", typ, err)
	}
	if _, _, err := anyEnd.Encode(nil, &Note{Text: "0123456789"}); !errors.Is(err, message.ErrTooLarge) {
		t.Fatalf("a note of 13 bytes, MaxSize 10: %v", err)
	}
	nb, _, err := anyEnd.Encode([]byte("kept"), &Note{Text: "0123456"}) // 10 bytes: at the limit
	if err != nil || string(nb[:4]) != "kept" {
		t.Fatalf("a note of 10 bytes: %q %v", nb, err)
	}
	big := append(append([]byte{}, nb[4:]...), 0xc0) // 11 bytes
	if _, err := f.NewDecoder().Begin(big); !errors.Is(err, message.ErrTooLarge) {
		t.Fatalf("Begin of 11 bytes of a type of MaxSize 10: %v", err)
	}
	for _, opt := range []message.Option{message.SentBy(9), message.MaxSize(-1)} {
		if _, err := f.Define("bad", nil, opt); !errors.Is(err, message.ErrBadOption) {
			t.Errorf("bad option: %v", err)
		}
	}
}

// The examples of docs/PROTOCOL.md, "The registry hash".
func TestProtocolExamples(t *testing.T) {
	chat := chatFactory(t, msgpack.New())
	if d, h := chat.Describe(), chat.Hash().String(); d != "gonetic registry 1 codec=msgpack\n1 chat_msg(player,msg) 0 reliable\n" ||
		len(d) != 67 || h != "aaf82e067dba19eb5795738e6507e113" {
		t.Errorf("chat_msg alone: %q (%d bytes), hash %s", d, len(d), h)
	}
	// interop.py's registry, given dynamically with its shapes.
	f := message.NewFactory(msgpack.New())
	for _, def := range []struct {
		name   string
		fields []string
		opts   []message.Option
	}{
		{"chat_msg", []string{"player", "msg"}, nil},
		{"snapshot", []string{"tick", "players[]{id,x,y}"}, []message.Option{message.SentBy(message.ServerToClient)}},
		{"aim", []string{"origin{x,y}", "path[]{x,y}"}, []message.Option{message.SentBy(message.ClientToServer), message.MaxSize(200)}},
	} {
		if _, err := f.Define(def.name, def.fields, def.opts...); err != nil {
			t.Fatal(err)
		}
	}
	want := "gonetic registry 1 codec=msgpack\n" +
		"1 chat_msg(player,msg) 0 reliable\n" +
		"2 snapshot(tick,players[]{id,x,y}) 0 reliable from=server\n" +
		"3 aim(origin{x,y},path[]{x,y}) 0 reliable from=client max=200\n"
	if d := f.Describe(); d != want {
		t.Errorf("interop registry:\n%s, want\n%s", d, want)
	}
	if h := f.Hash().String(); h != "a49b1bed3573e4eddcadc27d89efb28c" {
		t.Errorf("interop registry hash %s", h)
	}
}

// A dynamic type given with shapes is the typed one on the wire and in the
// hash; its nested values arrive as lists.
func TestDefineWithShapes(t *testing.T) {
	typed := snapshotFactory(msgpack.New())
	dyn := message.NewFactory(msgpack.New())
	st, err := dyn.Define("snapshot", []string{"tick", "players[]{id,x,y}"})
	if err != nil {
		t.Fatal(err)
	}
	if typed.Hash() != dyn.Hash() {
		t.Fatalf("typed %v and dynamic %v hash differently", typed.Lines(), dyn.Lines())
	}
	if got := strings.Join(st.Fields(), ","); got != "tick,players" {
		t.Fatalf("fields %s", got)
	}
	b, _ := typed.Pack(Snapshot{Tick: 7, Players: []Player{{ID: 1, X: 1.5, Y: -2}}})
	out, err := dyn.Unpack(b)
	if err != nil {
		t.Fatal(err)
	}
	v := out.(message.Value)
	if !reflect.DeepEqual(v.Get("players"), []any{[]any{int64(1), 1.5, -2.0}}) {
		t.Fatalf("players %#v", v.Get("players"))
	}
	b2, err := dyn.PackArgs("snapshot", 7, []any{[]any{1, float32(1.5), float32(-2)}})
	if err != nil || !reflect.DeepEqual(b, b2) {
		t.Fatalf("dynamic snapshot %x, typed %x (%v)", b2, b, err)
	}
	for _, bad := range []string{"a b", "a,b", "p[]", "p[", "p{x", "p{x,x}", "p[04]{x}", "p[-1]{x}", "p{x}y", "{x}", "p{,}", "p{x,}"} {
		if _, err := dyn.Define("bad", []string{bad}); !errors.Is(err, message.ErrBadFields) {
			t.Errorf("field %q: %v, want ErrBadFields", bad, err)
		}
	}
	for _, good := range []string{"p{}", "p[3]{x}", "p[][2]{x{y},z}"} {
		if _, err := message.NewFactory(msgpack.New()).Define("good", []string{good}); err != nil {
			t.Errorf("field %q: %v", good, err)
		}
	}
}
