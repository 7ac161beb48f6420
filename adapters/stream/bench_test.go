package stream

import (
	"context"
	"io"
	"testing"

	"github.com/gonetic/gonetic/adapters/flow"
)

// benchFile opens a byte stream over a dedicated flow listener on TCP
// loopback, served from a Buffer of size bytes.
func benchFile(b *testing.B, size int, cfg FileConfig) *File {
	srv, err := flow.Listen(flow.ServerConfig{Addr: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	buf := NewBuffer(make([]byte, size))
	if err := ServeFiles(srv, "file", func(ctx context.Context, o Open) (io.ReadWriteSeeker, Mode, error) {
		return buf.Cursor(), ReadWrite, nil
	}); err != nil {
		b.Fatal(err)
	}
	cl, err := flow.Dial(context.Background(), srv.Addr(), flow.ClientConfig{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cl.Close() })
	f, err := OpenFile(context.Background(), cl, "file", cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	return f
}

// BenchmarkFileRead reads a 64 MiB remote Buffer sequentially with 1 MiB
// of read-ahead, over TCP loopback.
func BenchmarkFileRead(b *testing.B) {
	const size = 64 << 20
	f := benchFile(b, size, FileConfig{ReadAhead: 1 << 20})
	p := make([]byte, 64<<10)
	b.SetBytes(int64(len(p)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := io.ReadFull(f, p); err == io.ErrUnexpectedEOF || err == io.EOF {
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				b.Fatal(err)
			}
		} else if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFileWrite writes to a remote Buffer sequentially, over TCP
// loopback, wrapping around at 64 MiB.
func BenchmarkFileWrite(b *testing.B) {
	const size = 64 << 20
	f := benchFile(b, size, FileConfig{})
	p := make([]byte, 64<<10)
	b.SetBytes(int64(len(p)))
	pos := 0
	b.ResetTimer()
	for b.Loop() {
		if pos += len(p); pos > size {
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				b.Fatal(err)
			}
			pos = len(p)
		}
		if _, err := f.Write(p); err != nil {
			b.Fatal(err)
		}
	}
	if err := f.Flush(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkEntities reads small values with a read-ahead of 256.
func BenchmarkEntities(b *testing.B) {
	srv, err := flow.Listen(flow.ServerConfig{Addr: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	ServeEntities(srv, "ints", SeqSource(func(yield func(int) bool) {
		for i := 0; yield(i); i++ {
		}
	}))
	cl, err := flow.Dial(context.Background(), srv.Addr(), flow.ClientConfig{})
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	s, err := OpenEntities[int](context.Background(), cl, "ints", EntityConfig{ReadAhead: 256})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for b.Loop() {
		if _, err := s.Next(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
