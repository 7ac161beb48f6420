package msgpack_test

import (
	"testing"

	"github.com/gonetic/gonetic/adapters/internal/codectest"
	"github.com/gonetic/gonetic/adapters/msgpack"
)

func BenchmarkWriteChat(b *testing.B) {
	w := msgpack.New().NewWriter()
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		w.Reset(buf[:0])
		codectest.WriteChat(w)
		buf = w.Buffer()
	}
}

func BenchmarkReadChat(b *testing.B) {
	w := msgpack.New().NewWriter()
	w.Reset(nil)
	codectest.WriteChat(w)
	msg := w.Buffer()
	r := msgpack.New().NewReader()
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(msg)
		if _, _, _, err := codectest.ReadChat(r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSkipChat(b *testing.B) {
	w := msgpack.New().NewWriter()
	w.Reset(nil)
	codectest.WriteChat(w)
	msg := w.Buffer()
	r := msgpack.New().NewReader()
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(msg)
		if err := r.Skip(); err != nil {
			b.Fatal(err)
		}
	}
}
