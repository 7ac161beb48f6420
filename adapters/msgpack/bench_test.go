package msgpack_test

import (
	"fmt"
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

// BenchmarkReadStringMiss: strings the reader has not seen before (see
// reader.intern), the worst case of its cache: 1024 distinct ones in turn.
func BenchmarkReadStringMiss(b *testing.B) {
	w := msgpack.New().NewWriter()
	var bufs [][]byte
	for i := range 1024 {
		w.Reset(nil)
		w.String(fmt.Sprintf("message number %d", i))
		bufs = append(bufs, append([]byte{}, w.Buffer()...))
	}
	r := msgpack.New().NewReader()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r.Reset(bufs[i%len(bufs)])
		i++
		if _, err := r.String(); err != nil {
			b.Fatal(err)
		}
	}
}
