package stream

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"testing"
	"time"
)

// serveBuffer serves one shared Buffer under "file" with mode, a Cursor
// per client.
func serveBuffer(t *testing.T, e *env, b *Buffer, mode Mode) {
	t.Helper()
	err := ServeFiles(e.mux, "file", func(ctx context.Context, o Open) (io.ReadWriteSeeker, Mode, error) {
		return b.Cursor(), mode, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func openFile(t *testing.T, e *env, cfg FileConfig) *File {
	t.Helper()
	f, err := OpenFile(ctx(t), e.caller, "file", cfg)
	if err != nil {
		t.Fatalf("OpenFile: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	f.SetDeadline(time.Now().Add(deadline))
	return f
}

// pattern is the byte at offset i of the test content.
func pattern(i int) byte { return byte(i*7 + i/251) }

func patterned(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = pattern(i)
	}
	return b
}

func TestFileRecipe(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		serveBuffer(t, e, &Buffer{}, ReadWrite)
		f := openFile(t, e, FileConfig{})
		const msg = "This is an important message"
		if _, err := f.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		if pos, err := f.Seek(0, io.SeekStart); err != nil || pos != 0 {
			t.Fatalf("Seek = %d, %v", pos, err)
		}
		got, err := io.ReadAll(f)
		if err != nil || string(got) != msg {
			t.Fatalf("read back %q, %v", got, err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestFileBulk(t *testing.T) {
	for _, ra := range []int{0, 256 << 10} {
		forEach(t, func(t *testing.T, e *env) {
			b := &Buffer{}
			serveBuffer(t, e, b, ReadWrite)
			f := openFile(t, e, FileConfig{ReadAhead: ra})
			data := make([]byte, 3<<20+17)
			r := rand.New(rand.NewPCG(1, uint64(ra)))
			for i := range data {
				data[i] = byte(r.Uint32())
			}
			if n, err := f.Write(data); err != nil || n != len(data) {
				t.Fatalf("Write = %d, %v", n, err)
			}
			if err := f.Flush(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b.Bytes(), data) {
				t.Fatal("the served buffer differs from what was written")
			}
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(f)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("read back %d bytes (%v), want %d equal", len(got), err, len(data))
			}
		})
	}
}

// TestFileSeekDropsReadAhead: data of the old position never comes after a
// seek, with much read-ahead in flight.
func TestFileSeekDropsReadAhead(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		const size = 2 << 20
		serveBuffer(t, e, NewBuffer(patterned(size)), ReadOnly)
		f := openFile(t, e, FileConfig{ReadAhead: 512 << 10})
		r := rand.New(rand.NewPCG(3, 4))
		buf := make([]byte, 5000)
		for range 50 {
			off := r.IntN(size - len(buf))
			var whence int
			var arg int64
			switch r.IntN(3) {
			case 0:
				whence, arg = io.SeekStart, int64(off)
			case 1:
				cur, _ := f.Seek(0, io.SeekCurrent)
				whence, arg = io.SeekCurrent, int64(off)-cur
			case 2:
				whence, arg = io.SeekEnd, int64(off-size)
			}
			if pos, err := f.Seek(arg, whence); err != nil || pos != int64(off) {
				t.Fatalf("Seek(%d, %d) = %d, %v; want %d", arg, whence, pos, err, off)
			}
			n := 1 + r.IntN(len(buf))
			if _, err := io.ReadFull(f, buf[:n]); err != nil {
				t.Fatal(err)
			}
			for i := range n {
				if buf[i] != pattern(off+i) {
					t.Fatalf("after a seek to %d, byte %d is %d, want %d: stale data", off, i, buf[i], pattern(off+i))
				}
			}
		}
	})
}

func TestFileModesLocal(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		serveBuffer(t, e, NewBuffer([]byte("0123456789")), Readable|SeekForward)
		f := openFile(t, e, FileConfig{})
		// Refusals happen locally: they work even with the connection gone.
		e.drop()
		if _, err := f.Write([]byte("x")); !errors.Is(err, ErrMode) {
			t.Fatalf("Write = %v, want ErrMode", err)
		}
		if _, err := f.Seek(-1, io.SeekStart); !errors.Is(err, ErrSeekRange) {
			t.Fatalf("Seek(-1) = %v, want ErrSeekRange", err)
		}
		if _, err := f.Seek(11, io.SeekStart); !errors.Is(err, ErrSeekRange) {
			t.Fatalf("Seek past the end = %v, want ErrSeekRange", err)
		}
		if err := f.Truncate(3); !errors.Is(err, ErrMode) {
			t.Fatalf("Truncate = %v, want ErrMode", err)
		}
	})
}

func TestFileBadSeekKeepsStream(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		b := NewBuffer([]byte("0123456789"))
		serveBuffer(t, e, b, Readable|Writable|SeekForward)
		f := openFile(t, e, FileConfig{ReadAhead: 4})
		two := make([]byte, 2)
		if _, err := io.ReadFull(f, two); err != nil || string(two) != "01" {
			t.Fatalf("Read = %q, %v", two, err)
		}
		bad := []struct {
			off    int64
			whence int
			want   error
		}{
			{-5, io.SeekCurrent, ErrSeekRange},
			{1, io.SeekEnd, ErrSeekRange},
			{0, io.SeekStart, ErrMode}, // backward
			{-1, io.SeekCurrent, ErrMode},
		}
		for _, s := range bad {
			if _, err := f.Seek(s.off, s.whence); !errors.Is(err, s.want) {
				t.Fatalf("Seek(%d, %d) = %v, want %v", s.off, s.whence, err, s.want)
			}
		}
		// Still usable, at the old position.
		if _, err := io.ReadFull(f, two); err != nil || string(two) != "23" {
			t.Fatalf("Read after bad seeks = %q, %v", two, err)
		}
		if pos, err := f.Seek(2, io.SeekCurrent); err != nil || pos != 6 {
			t.Fatalf("Seek forward = %d, %v", pos, err)
		}
		if _, err := f.Write([]byte("ab")); err != nil {
			t.Fatal(err)
		}
		// Cannot grow: a write past the end writes what fits.
		n, err := f.Write([]byte("cdef"))
		if n != 2 || !errors.Is(err, ErrMode) {
			t.Fatalf("Write past the end = %d, %v; want 2, ErrMode", n, err)
		}
		if err := f.Flush(); err != nil {
			t.Fatal(err)
		}
		if got := string(b.Bytes()); got != "012345abcd" {
			t.Fatalf("buffer = %q", got)
		}
	})
}

func TestFileRemoteRefusalKeepsStream(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		// Two clients share a buffer that cannot grow: one shrinks it,
		// the other's seek to its old end is refused by the serving side.
		b := NewBuffer([]byte("0123456789"))
		serveBuffer(t, e, b, Readable|Writable|Seekable|CanShrink)
		f := openFile(t, e, FileConfig{})
		g, err := OpenFile(ctx(t), e.caller, "file", FileConfig{})
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		if err := g.Truncate(4); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Seek(8, io.SeekStart); !errors.Is(err, ErrSeekRange) || !errors.Is(err, ErrRemote) {
			t.Fatalf("Seek = %v, want a remote ErrSeekRange", err)
		}
		if pos, err := f.Seek(1, io.SeekStart); err != nil || pos != 1 {
			t.Fatalf("Seek = %d, %v", pos, err)
		}
		got, err := io.ReadAll(f)
		if err != nil || string(got) != "123" {
			t.Fatalf("ReadAll = %q, %v", got, err)
		}
	})
}

func TestFileDirections(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		b := NewBuffer(patterned(100 << 10))
		serveBuffer(t, e, b, ReadWrite)
		f := openFile(t, e, FileConfig{ReadAhead: 64 << 10})
		p := make([]byte, 10)
		if _, err := io.ReadFull(f, p); err != nil {
			t.Fatal(err)
		}
		// The write lands at the reader's position, not the read-ahead's.
		if _, err := f.Write([]byte("HELLO")); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(f, p[:5]); err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			if p[i] != pattern(15+i) {
				t.Fatalf("read after write: byte %d = %d, want %d", i, p[i], pattern(15+i))
			}
		}
		if _, err := f.Seek(10, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(f, p[:5]); err != nil || string(p[:5]) != "HELLO" {
			t.Fatalf("read back %q, %v", p[:5], err)
		}
		if err := f.Truncate(12); err != nil {
			t.Fatal(err)
		}
		if f.Size() != 12 {
			t.Fatalf("Size = %d", f.Size())
		}
		rest, err := io.ReadAll(f)
		if err != nil || len(rest) != 0 {
			t.Fatalf("ReadAll after truncate at position 15 = %q, %v", rest, err)
		}
		if b.Len() != 12 {
			t.Fatalf("buffer length %d", b.Len())
		}
	})
}

// gatedReader blocks every Read until its gate opens or the stream ends.
type gatedReader struct {
	*Cursor
	ctx  context.Context
	gate chan struct{}
}

func (g *gatedReader) Read(p []byte) (int, error) {
	select {
	case <-g.gate:
	case <-g.ctx.Done():
		return 0, g.ctx.Err()
	}
	return g.Cursor.Read(p)
}

func serveGated(t *testing.T, e *env, gate chan struct{}) {
	t.Helper()
	err := ServeFiles(e.mux, "file", func(ctx context.Context, o Open) (io.ReadWriteSeeker, Mode, error) {
		return &gatedReader{NewBuffer([]byte("some data")).Cursor(), ctx, gate}, ReadOnly, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestFileNeverHangs(t *testing.T) {
	kills := map[string]func(*env, *File){
		"drop":          func(e *env, f *File) { e.drop() },
		"server closed": func(e *env, f *File) { e.closeServer() },
		"client closed": func(e *env, f *File) { f.Close() },
	}
	for name, kill := range kills {
		t.Run(name, func(t *testing.T) {
			forEach(t, func(t *testing.T, e *env) {
				serveGated(t, e, make(chan struct{}))
				f := openFile(t, e, FileConfig{ReadAhead: 16})
				res := make(chan error)
				go func() {
					_, err := f.Read(make([]byte, 4))
					res <- err
				}()
				kill(e, f)
				if err := recvT(t, res); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatalf("Read = %v, want an error", err)
				} else {
					t.Logf("Read: %v", err)
				}
			})
		})
	}
}

func TestFileDeadline(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		gate := make(chan struct{})
		serveGated(t, e, gate)
		f := openFile(t, e, FileConfig{})
		f.SetDeadline(time.Now().Add(20 * time.Millisecond))
		p := make([]byte, 4)
		if _, err := f.Read(p); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Read = %v, want os.ErrDeadlineExceeded", err)
		}
		// Still usable once the data comes.
		close(gate)
		f.SetDeadline(time.Now().Add(deadline))
		if _, err := io.ReadFull(f, p); err != nil || string(p) != "some" {
			t.Fatalf("Read = %q, %v", p, err)
		}
	})
}

func TestFileOpenErrors(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		serveBuffer(t, e, &Buffer{}, ReadOnly)
		if _, err := OpenFile(ctx(t), e.caller, "file", FileConfig{Mode: Writable}); err == nil || !bytes.Contains([]byte(err.Error()), []byte("asked for")) {
			t.Fatalf("OpenFile asking too much = %v", err)
		}
		if err := ServeFiles(e.mux, "broken", func(ctx context.Context, o Open) (io.ReadWriteSeeker, Mode, error) {
			return nil, 0, errors.New("no such file: " + o.Path)
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := OpenFile(ctx(t), e.caller, "broken", FileConfig{Path: "x.dat"}); err == nil || !bytes.Contains([]byte(err.Error()), []byte("no such file: x.dat")) {
			t.Fatalf("OpenFile = %v", err)
		}
	})
}

func TestFileOS(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		dir := t.TempDir()
		err := ServeFiles(e.mux, "file", func(ctx context.Context, o Open) (io.ReadWriteSeeker, Mode, error) {
			f, err := os.OpenFile(dir+"/data", os.O_RDWR|os.O_CREATE, 0o600)
			return f, ReadWrite, err
		})
		if err != nil {
			t.Fatal(err)
		}
		f := openFile(t, e, FileConfig{ReadAhead: 1 << 16})
		if _, err := f.Write(patterned(100000)); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(dir + "/data")
		if err != nil || !bytes.Equal(got, patterned(100000)) {
			t.Fatalf("file has %d bytes, %v", len(got), err)
		}
	})
}
