package json_test

import (
	"testing"

	"github.com/gonetic/gonetic/adapters/internal/codectest"
	"github.com/gonetic/gonetic/adapters/json"
)

func BenchmarkWriteChat(b *testing.B) {
	w := json.New().NewWriter()
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		w.Reset(buf[:0])
		codectest.WriteChat(w)
		buf = w.Buffer()
	}
}

func BenchmarkReadChat(b *testing.B) {
	w := json.New().NewWriter()
	w.Reset(nil)
	codectest.WriteChat(w)
	msg := w.Buffer()
	r := json.New().NewReader()
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(msg)
		if _, _, _, err := codectest.ReadChat(r); err != nil {
			b.Fatal(err)
		}
	}
}
