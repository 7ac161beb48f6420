package message_test

import (
	"testing"

	"github.com/gonetic/gonetic/adapters/json"
	"github.com/gonetic/gonetic/adapters/msgpack"
	"github.com/gonetic/gonetic/message"
)

// The data games send most: a snapshot of players. The same file runs on
// main, where Players travels through the codec's Value (docs/PERF.md).

type benchPlayer struct {
	ID   uint16
	X, Y float32
}

type benchSnapshot struct {
	Tick    uint32
	Players []benchPlayer
}

type benchChat struct {
	Player string
	Msg    string
}

func benchFactory(c message.Codec) *message.Factory {
	f := message.NewFactory(c)
	message.MustRegister[benchSnapshot](f, message.Name("snapshot"))
	message.MustRegister[benchChat](f, message.Name("chat_msg"))
	return f
}

func benchSnap(n int) *benchSnapshot {
	s := &benchSnapshot{Tick: 123456}
	for i := range n {
		s.Players = append(s.Players, benchPlayer{ID: uint16(i + 1), X: float32(i) * 1.25, Y: -float32(i) * 0.5})
	}
	return s
}

func benchEncode(b *testing.B, c message.Codec, msg any) {
	e := benchFactory(c).NewEncoder()
	buf, _, err := e.Encode(nil, msg)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		buf, _, _ = e.Encode(buf[:0], msg)
	}
	b.ReportMetric(float64(len(buf)), "bytes/msg")
}

// benchDecode decodes as package net does: Begin, then a bound handler
// (which checks the end of the message).
func benchDecode[T any](b *testing.B, c message.Codec, msg *T) {
	f := benchFactory(c)
	payload, err := f.Pack(msg)
	if err != nil {
		b.Fatal(err)
	}
	var got T
	call, err := f.TypeOf(msg).Bind(func(m T) { got = m })
	if err != nil {
		b.Fatal(err)
	}
	d := f.NewDecoder()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Begin(payload); err != nil {
			b.Fatal(err)
		}
		if err := call(d.Reader()); err != nil {
			b.Fatal(err)
		}
	}
	_ = got
	b.ReportMetric(float64(len(payload)), "bytes/msg")
}

func BenchmarkEncodeSnapshot16(b *testing.B) { benchEncode(b, msgpack.New(), benchSnap(16)) }
func BenchmarkDecodeSnapshot16(b *testing.B) { benchDecode(b, msgpack.New(), benchSnap(16)) }
func BenchmarkEncodeSnapshot16JSON(b *testing.B) {
	benchEncode(b, json.New(), benchSnap(16))
}
func BenchmarkDecodeSnapshot16JSON(b *testing.B) {
	benchDecode(b, json.New(), benchSnap(16))
}
func BenchmarkEncodeChat(b *testing.B) {
	benchEncode(b, msgpack.New(), &benchChat{"Tom", "Test message"})
}
func BenchmarkDecodeChat(b *testing.B) {
	benchDecode(b, msgpack.New(), &benchChat{"Tom", "Test message"})
}
