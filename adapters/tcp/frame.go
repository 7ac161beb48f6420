package tcp

import (
	"encoding/binary"
	"fmt"

	"github.com/gonetic/gonetic/net/transport"
)

// headerSize is the length prefix in front of every payload.
const headerSize = 4

// readBufferSize is the reader's usual buffer: one read takes up to this much.
const readBufferSize = 64 << 10

// shrinkAfter is how many reads in a row must fit the small buffer before a
// grown one is given back.
const shrinkAfter = 16

// frameReader splits a byte stream into length-prefixed frames. It owns its
// buffer: the caller reads into space, reports how much arrived with fill, and
// takes the complete frames with next. A frame's payload aliases the buffer
// and is valid until the next call to space.
//
// The buffer grows only to hold the frame in progress, never past
// max+headerSize, and only after that frame's length has been checked.
type frameReader struct {
	buf   []byte // buf[r:w] is received and not yet parsed
	small []byte // the usual buffer; buf is either small or a grown one
	r, w  int
	max   int // largest payload accepted
	fits  int // reads in a row that would have fit small while buf was grown
}

func newFrameReader(size, max int) *frameReader {
	b := make([]byte, size)
	return &frameReader{buf: b, small: b, max: max}
}

// next returns the next complete frame's payload, ok false when the buffer
// holds no complete frame, or a *transport.FrameError when the length in the
// next prefix is above the limit.
func (f *frameReader) next() (payload []byte, ok bool, err error) {
	b := f.buf[f.r:f.w]
	if len(b) < headerSize {
		return nil, false, nil
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n) > uint64(f.max) {
		return nil, false, &transport.FrameError{
			Reason: fmt.Sprintf("frame of %d bytes exceeds the %d-byte limit", n, f.max),
		}
	}
	end := headerSize + int(n)
	if len(b) < end {
		return nil, false, nil
	}
	f.r += end
	return b[headerSize:end:end], true, nil
}

// buffered is how many received bytes are not yet part of a returned frame.
func (f *frameReader) buffered() int { return f.w - f.r }

// space returns where the next read should go, after making room for the
// frame in progress. Call it only after next has returned ok false and no
// error, so that a buffered length is known to be within the limit.
func (f *frameReader) space() []byte {
	need := headerSize
	if f.w-f.r >= headerSize {
		need += int(binary.BigEndian.Uint32(f.buf[f.r:]))
		need = min(need, f.max+headerSize) // next has checked it; stay safe anyway
	}
	switch {
	case need > len(f.buf):
		f.fits = 0
		nb := make([]byte, min(max(need, 2*len(f.buf)), f.max+headerSize))
		f.w = copy(nb, f.buf[f.r:f.w])
		f.r, f.buf = 0, nb
	case len(f.buf) > len(f.small) && need <= len(f.small) && f.w-f.r <= len(f.small):
		if f.fits++; f.fits >= shrinkAfter {
			f.fits = 0
			f.w = copy(f.small, f.buf[f.r:f.w])
			f.r, f.buf = 0, f.small
		}
	}
	if f.r == f.w {
		f.r, f.w = 0, 0
	} else if f.r+need > len(f.buf) || f.w == len(f.buf) {
		f.w = copy(f.buf, f.buf[f.r:f.w])
		f.r = 0
	}
	return f.buf[f.w:]
}

// fill records that n bytes were read into the slice space returned.
func (f *frameReader) fill(n int) { f.w += n }
