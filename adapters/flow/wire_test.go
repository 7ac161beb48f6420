package flow

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/gonetic/gonetic/message"
	gnet "github.com/gonetic/gonetic/net"
)

func TestRegisterLines(t *testing.T) {
	f := gnet.NewFactory()
	message.MustRegister[Chat](f, message.Name("chat_msg"))
	if err := Register(f); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(f.Lines(), "\n")
	want := strings.Join([]string{
		"1 chat_msg(player,msg) 0 reliable",
		"2 flow_open(flow,name,flags,header) 1 reliable",
		"3 flow_data(flow,flags,chunk) 1 reliable",
		"4 flow_credit(flow,bytes) 1 reliable",
		"5 flow_end(flow,flags,value) 1 reliable",
		"6 flow_fail(flow,code,message) 1 reliable",
		"7 flow_ack(bytes) 1 reliable",
	}, "\n")
	if got != want {
		t.Fatalf("registry:\n%s\nwant:\n%s", got, want)
	}
	if err := Register(f); err == nil {
		t.Fatal("registering twice succeeded")
	}
	if _, err := Attach(nil, f, Config{}); err == nil {
		t.Fatal("Attach(nil) succeeded")
	}
	want = strings.Join([]string{
		"1 flow_open(flow,name,flags,header) 0 reliable",
		"2 flow_data(flow,flags,chunk) 0 reliable",
		"3 flow_credit(flow,bytes) 0 reliable",
		"4 flow_end(flow,flags,value) 0 reliable",
		"5 flow_fail(flow,code,message) 0 reliable",
		"6 flow_ack(bytes) 0 reliable",
		"7 flow_hello(version,codec) 0 reliable",
		"8 flow_refuse(reason) 0 reliable",
	}, "\n")
	if got := strings.Join(linkRegistry().Lines(), "\n"); got != want {
		t.Fatalf("listener registry:\n%s\nwant:\n%s", got, want)
	}
}

// TestDataHeader checks the hand-written flow_data header against the
// Encoder's, for every size class of integers and of bin.
func TestDataHeader(t *testing.T) {
	reg := linkRegistry()
	enc := reg.NewEncoder()
	w, r := reg.Codec().NewWriter(), reg.Codec().NewReader()
	for _, id := range []uint64{1, 127, 128, 255, 256, 65535, 65536, 1 << 32, 1<<64 - 1} {
		for _, flags := range []uint64{0, 1} {
			for _, n := range []int{0, 1, 255, 256, 65535, 65536, 1 << 20} {
				chunk := bytes.Repeat([]byte{0xab}, n)
				want, _, err := enc.Encode(nil, &dataMsg{Flow: id, Flags: flags, Chunk: chunk})
				if err != nil {
					t.Fatal(err)
				}
				hdr := appendDataHeader(w, nil, id, flags, n)
				if !bytes.Equal(append(hdr, chunk...), want) {
					t.Fatalf("flow %d flags %d size %d: header % x, encoder % x", id, flags, n, hdr, want[:len(want)-n])
				}
				hlen, gid, gflags, gn, ok := parseDataHeader(r, want[:min(len(want), headroom)])
				if !ok || hlen != len(hdr) || gid != id || gflags != flags || gn != n {
					t.Fatalf("parse: %d %d %d %d %v", hlen, gid, gflags, gn, ok)
				}
				if len(hdr)+4 > headroom {
					t.Fatalf("header of %d bytes does not fit the headroom", len(hdr))
				}
			}
		}
	}
}

// TestWireBytes pins a few frames of the listener down to the byte, as
// doc.go describes them.
func TestWireBytes(t *testing.T) {
	enc := linkRegistry().NewEncoder()
	for _, c := range []struct {
		msg  any
		want string
	}{
		{&helloMsg{Version: 1, Codec: "msgpack"}, "93 07 01 a7 6d 73 67 70 61 63 6b"},
		{&openMsg{Flow: 1, Name: "region", Flags: 0x11, Header: []byte{1, 2}}, "95 01 01 a6 72 65 67 69 6f 6e 11 c4 02 01 02"},
		{&dataMsg{Flow: 3, Flags: 0, Chunk: appendRecord(nil, []byte("hi"), false, false)}, "94 02 03 00 c4 03 08 68 69"},
		{&creditMsg{Flow: 2, Bytes: 983040}, "93 03 02 ce 00 0f 00 00"},
		{&endMsg{Flow: 1, Flags: 0, Value: nil}, "94 04 01 00 c4 00"},
		{&failMsg{Flow: 1, Code: 1, Message: "disk full"}, "94 05 01 01 a9 64 69 73 6b 20 66 75 6c 6c"},
		{&ackMsg{Bytes: 16384}, "92 06 cd 40 00"},
	} {
		b, _, err := enc.Encode(nil, c.msg)
		if err != nil {
			t.Fatal(err)
		}
		if got := spaced(b); got != c.want {
			t.Errorf("%T: % x, want %s", c.msg, b, c.want)
		}
	}
	// A split packet: 5 bytes as a 3-byte record with more set, then 2.
	rec := appendRecord(appendRecord(nil, []byte("abc"), true, true), []byte("de"), true, false)
	if got := spaced(rec); got != "0f 61 62 63 09 64 65" {
		t.Errorf("records % x", rec)
	}
}

func spaced(b []byte) string {
	h := hex.EncodeToString(b)
	var out []string
	for i := 0; i < len(h); i += 2 {
		out = append(out, h[i:i+2])
	}
	return strings.Join(out, " ")
}

func TestRecords(t *testing.T) {
	var b []byte
	sizes := []int{0, 1, 63, 64, 8191, 8192, 1<<20 - 1}
	for i, n := range sizes {
		b = appendRecord(b, bytes.Repeat([]byte{byte(i)}, n), i%2 == 0, i%3 == 0)
	}
	pos := 0
	for i, n := range sizes {
		data, value, more, end, err := nextRecord(b, pos)
		if err != nil || len(data) != n || value != (i%2 == 0) || more != (i%3 == 0) {
			t.Fatalf("record %d: %d bytes, %v %v %v", i, len(data), value, more, err)
		}
		pos = end
	}
	if pos != len(b) {
		t.Fatalf("%d bytes left", len(b)-pos)
	}
	if _, _, _, _, err := nextRecord([]byte{0x10, 1}, 0); err == nil {
		t.Fatal("a short record parsed")
	}
	if _, _, _, _, err := nextRecord([]byte{0xff}, 0); err == nil {
		t.Fatal("a cut uvarint parsed")
	}
}

// nullWire swallows frames.
type nullWire struct{}

func (nullWire) send(*frame) error { return nil }
func (nullWire) sendData(_, _ uint64, _ []byte) error {
	return nil
}

// FuzzFrames feeds arbitrary listener frames to a session: errors, never a
// panic, whatever arrives.
func FuzzFrames(f *testing.F) {
	enc := linkRegistry().NewEncoder()
	for _, m := range []any{
		&openMsg{Flow: 1, Name: "h", Flags: 0x11, Header: []byte{0x90}},
		&dataMsg{Flow: 1, Chunk: appendRecord(nil, []byte("x"), false, true)},
		&dataMsg{Flow: 1, Flags: 1, Chunk: []byte{5, 0, 0}},
		&endMsg{Flow: 1},
		&creditMsg{Flow: 1, Bytes: 5},
		&failMsg{Flow: 1, Code: 2, Message: "x"},
		&ackMsg{Bytes: 1},
	} {
		b, _, _ := enc.Encode(nil, m)
		f.Add(b, b)
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		cfg, _ := Config{MaxPacket: 1 << 16}.withDefaults(InitialWindow, 1024, 0)
		ep := newEndpoint(cfg)
		defer func() { ep.shut(); ep.wait() }()
		ep.handlers["h"] = HandlerFunc(func(fl *Flow, r *Reply) (any, error) {
			var v any
			_ = fl.Header().Decode(&v)
			for p, err := range fl.Packets() {
				if err != nil {
					return nil, err
				}
				_, _ = p.Value()
			}
			return nil, nil
		}).constructor()
		s := newSession(ep, nullWire{}, false, "fuzz")
		reg := linkRegistry()
		dec, hr := reg.NewDecoder(), reg.Codec().NewReader()
		for _, p := range [][]byte{a, b} {
			parseDataHeader(hr, p)
			fr, _, err := decodeLinkFrame(dec, p)
			if err == nil && fr != nil {
				s.receive(fr)
			}
		}
		s.lost(nil)
	})
}
