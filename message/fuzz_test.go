package message_test

import (
	"testing"

	"github.com/gonetic/gonetic/adapters/json"
	"github.com/gonetic/gonetic/adapters/msgpack"
	"github.com/gonetic/gonetic/message"
)

// FuzzUnpack feeds arbitrary bytes to Unpack and UnpackAll on both codecs:
// never a panic, and never a nil message without an error.
func FuzzUnpack(f *testing.F) {
	mp := hashProbe()
	js := message.NewFactory(json.New())
	message.MustRegister[ChatMsg](js)
	message.MustRegister[Move](js)
	// Nested structs: a snapshot and a world with every nested kind.
	nmp, njs := message.NewFactory(msgpack.New()), message.NewFactory(json.New())
	for _, fac := range []*message.Factory{nmp, njs} {
		message.MustRegister[Snapshot](fac)
		message.MustRegister[World](fac)
	}
	for _, seed := range [][]byte{
		mustPack(f, nmp, &Snapshot{Tick: 7, Players: []Player{{1, 1.5, -2}, {300, 0, 0}}}),
		mustPack(f, njs, &Snapshot{Tick: 7, Players: []Player{{1, 1.5, -2}, {300, 0, 0}}}),
		mustPack(f, nmp, &World{Target: &Vec{1, 2}, Teams: []Team{{Name: "a", Members: []Player{{}}}}, Grid: [][]Vec{{{}}, nil}, Ptrs: []*Vec{nil, {}}}),
		mustPack(f, njs, &World{Target: &Vec{1, 2}, Teams: []Team{{Name: "a", Members: []Player{{}}}}, Grid: [][]Vec{{{}}, nil}, Ptrs: []*Vec{nil, {}}}),
	} {
		f.Add(seed)
	}
	for _, seed := range [][]byte{
		{0x93, 0x01, 0xa3, 'T', 'o', 'm', 0xac, 'T', 'e', 's', 't', ' ', 'm', 'e', 's', 's', 'a', 'g', 'e'},
		{0x98, 0x02, 0xca, 0, 0, 0, 0, 0x01, 0xd0, 0x80, 0xcd, 0xff, 0xff, 0x91, 0xa1, 'a', 0xc4, 0x01, 0x00, 0xc3},
		{0x92, 0x03, 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		{0xdd, 0xff, 0xff, 0xff, 0xff, 0x01},
		{0x93, 0x01, 0xdb, 0xff, 0xff, 0xff, 0xff},
		[]byte(`[1,"Tom","Test message"]`),
		[]byte(`[2,1.5,-2,-7,65535,["a"],"AAE=",true]`),
		[]byte(`[1,"\ud83d\ude00",""]`),
		{},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, fac := range []*message.Factory{mp, js, nmp, njs} {
			msg, err := fac.Unpack(b)
			if err == nil && msg == nil {
				t.Fatalf("%s: nil message without an error for %x", fac.Codec().Name(), b)
			}
			msgs, err := fac.UnpackAll(b)
			for _, m := range msgs {
				if m == nil {
					t.Fatalf("%s: UnpackAll returned a nil message (err %v)", fac.Codec().Name(), err)
				}
			}
		}
	})
}

func mustPack(t testing.TB, f *message.Factory, msg any) []byte {
	b, err := f.Pack(msg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzRoundTrip packs arbitrary field values and unpacks them back.
func FuzzRoundTrip(f *testing.F) {
	f.Add("Tom", "Test message")
	f.Add("", "\x00\xff")
	f.Add("\u2028", "\"\\")
	mp := chatFactory(f, msgpack.New())
	js := chatFactory(f, json.New())
	f.Fuzz(func(t *testing.T, player, msg string) {
		for _, fac := range []*message.Factory{mp, js} {
			b, err := fac.Pack(ChatMsg{player, msg})
			if err != nil {
				t.Fatal(err)
			}
			out, err := fac.Unpack(b)
			if err != nil {
				t.Fatalf("%s: %v", fac.Codec().Name(), err)
			}
			got := out.(ChatMsg)
			if fac == mp && (got.Player != player || got.Msg != msg) {
				t.Fatalf("msgpack round trip %q %q → %q %q", player, msg, got.Player, got.Msg)
			}
		}
	})
}

// FuzzFieldAt compares type lines, as Diff does with a peer's: never a
// panic, whatever the lines.
func FuzzFieldAt(f *testing.F) {
	f.Add("1 snapshot(tick,players[]{id,x,y}) 0 reliable", "1 snapshot(tick,players[]{id,x,z}) 0 reliable")
	f.Add("1 t(a,b[2]{c{e}}) 0 reliable", "1 t(a,b[3]{c}) 0 reliable")
	f.Add("1 t() 0 reliable", "1 t(a{}) 0 reliable")
	f.Fuzz(func(t *testing.T, a, b string) {
		message.FieldAt(a, b)
		message.FieldAt(b, a)
	})
}
