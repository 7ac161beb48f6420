package stream

import (
	"errors"
	"io"
	"sync"
)

// Buffer is an in-memory file to serve with ServeFiles: an
// io.ReadWriteSeeker with Truncate, ReadAt and WriteAt. Writing past the
// end grows it (a gap reads as zeros). The zero value is an empty Buffer.
// All its methods are safe for concurrent use. Its own Read, Write and Seek
// share one position; to serve one Buffer to several clients at once, give
// each a Cursor of its own.
type Buffer struct {
	mu   sync.Mutex // guards data and pos
	data []byte
	pos  int64
}

// NewBuffer returns a Buffer holding a copy of b, at position 0.
func NewBuffer(b []byte) *Buffer { return &Buffer{data: append([]byte(nil), b...)} }

// Bytes returns a copy of the content.
func (b *Buffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]byte(nil), b.data...)
}

// Len is the size in bytes.
func (b *Buffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.data)
}

// Read reads at the Buffer's position.
func (b *Buffer) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.readLocked(p, &b.pos)
}

// Write writes at the Buffer's position.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.writeLocked(p, &b.pos)
}

// Seek sets the Buffer's position, as io.Seeker says; past the end is
// allowed.
func (b *Buffer) Seek(offset int64, whence int) (int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.seekLocked(offset, whence, &b.pos)
}

// ReadAt reads at off, as io.ReaderAt says.
func (b *Buffer) ReadAt(p []byte, off int64) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.readLocked(p, &off)
	if err == nil && n < len(p) {
		err = io.EOF
	}
	return n, err
}

// WriteAt writes at off, as io.WriterAt says.
func (b *Buffer) WriteAt(p []byte, off int64) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.writeLocked(p, &off)
}

// Truncate changes the size; no position moves.
func (b *Buffer) Truncate(size int64) error {
	if size < 0 {
		return errors.New("stream: Buffer.Truncate to a negative size")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if size > int64(len(b.data)) {
		b.grow(size)
		return nil
	}
	b.data = b.data[:size]
	return nil
}

// Cursor returns a new position on b, at 0: an io.ReadWriteSeeker of its
// own over b's content.
func (b *Buffer) Cursor() *Cursor { return &Cursor{b: b} }

// Cursor is a position on a Buffer (Buffer.Cursor). Its methods are for one
// goroutine at a time.
type Cursor struct {
	b   *Buffer
	pos int64
}

// Read reads at the cursor.
func (c *Cursor) Read(p []byte) (int, error) {
	c.b.mu.Lock()
	defer c.b.mu.Unlock()
	return c.b.readLocked(p, &c.pos)
}

// Write writes at the cursor.
func (c *Cursor) Write(p []byte) (int, error) {
	c.b.mu.Lock()
	defer c.b.mu.Unlock()
	return c.b.writeLocked(p, &c.pos)
}

// Seek moves the cursor, as io.Seeker says; past the end is allowed.
func (c *Cursor) Seek(offset int64, whence int) (int64, error) {
	c.b.mu.Lock()
	defer c.b.mu.Unlock()
	return c.b.seekLocked(offset, whence, &c.pos)
}

// Truncate changes the Buffer's size.
func (c *Cursor) Truncate(size int64) error { return c.b.Truncate(size) }

func (b *Buffer) readLocked(p []byte, pos *int64) (int, error) {
	if *pos < 0 {
		return 0, errors.New("stream: Buffer read at a negative offset")
	}
	if *pos >= int64(len(b.data)) {
		return 0, io.EOF
	}
	n := copy(p, b.data[*pos:])
	*pos += int64(n)
	return n, nil
}

func (b *Buffer) writeLocked(p []byte, pos *int64) (int, error) {
	if *pos < 0 {
		return 0, errors.New("stream: Buffer write at a negative offset")
	}
	if end := *pos + int64(len(p)); end > int64(len(b.data)) {
		b.grow(end)
	}
	n := copy(b.data[*pos:], p)
	*pos += int64(n)
	return n, nil
}

func (b *Buffer) seekLocked(offset int64, whence int, pos *int64) (int64, error) {
	var p int64
	switch whence {
	case io.SeekStart:
		p = offset
	case io.SeekCurrent:
		p = *pos + offset
	case io.SeekEnd:
		p = int64(len(b.data)) + offset
	default:
		return *pos, errors.New("stream: Buffer seek: bad whence")
	}
	if p < 0 {
		return *pos, errors.New("stream: Buffer seek to a negative position")
	}
	*pos = p
	return p, nil
}

func (b *Buffer) grow(size int64) {
	if size <= int64(cap(b.data)) {
		old := len(b.data)
		b.data = b.data[:size]
		clear(b.data[old:])
		return
	}
	nd := make([]byte, size, max(size, 2*int64(cap(b.data))))
	copy(nd, b.data)
	b.data = nd
}
