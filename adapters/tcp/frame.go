package tcp

import (
	"encoding/binary"
	"fmt"

	"github.com/gonetic/gonetic/net/transport"
)

// headerSize is the Binary framing's length prefix.
const headerSize = 4

// readBufferSize is the reader's usual buffer: one read takes up to this much.
const readBufferSize = 64 << 10

// shrinkAfter is how many reads in a row must fit the small buffer before a
// grown one is given back.
const shrinkAfter = 16

// frameReader splits a byte stream into frames with a Framing. It owns its
// buffer: the caller reads into space, reports how much arrived with fill,
// and takes the complete frames with next. A frame's payload aliases the
// buffer and is valid until the next call to space.
//
// The buffer grows only to hold the frame in progress, as its bytes arrive,
// never past max+overhead, and only after the framing has accepted what it
// has seen of that frame.
type frameReader struct {
	framing Framing
	binary  bool   // framing is Binary: next parses it inline
	buf     []byte // buf[r:w] is received and not yet parsed
	small   []byte // the usual buffer; buf is either small or a grown one
	r, w    int
	max     int     // largest payload accepted
	limit   int     // largest frame: max plus the framing's overhead
	need    int     // length of the frame in progress, if the framing told; else 0
	scanned int     // bytes of buf[r:w] the framing has seen without a whole frame
	fits    int     // reads in a row that would have fit small while buf was grown
	budget  *budget // shared by a listener's links; nil: no bound but limit
}

// newFrameReader returns a reader with a buffer of size bytes, for payloads
// of at most max bytes that framing wraps in at most overhead bytes, whose
// buffer grows past size only as far as b allows (nil: no bound).
func newFrameReader(framing Framing, size, max, overhead int, b *budget) *frameReader {
	buf := make([]byte, size)
	return &frameReader{framing: framing, binary: isBinary(framing), buf: buf, small: buf, max: max, limit: max + overhead, budget: b}
}

// next returns the next complete frame's payload and the frame's length on
// the wire, size 0 when the buffer holds no complete frame, or a
// *transport.FrameError when the bytes break the framing.
func (f *frameReader) next() (payload []byte, size int, err error) {
	if f.binary { // Binary.Split, inline
		b := f.buf[f.r:f.w]
		if len(b) >= headerSize {
			if n := binary.BigEndian.Uint32(b); uint64(n) <= uint64(f.max) {
				end := headerSize + int(n)
				if len(b) < end {
					f.need = end
					return nil, 0, nil
				}
				f.r += end
				f.need = 0
				return b[headerSize:end:end], end, nil
			}
		}
	}
	return f.split()
}

// split is next through the Framing interface, checking what it reports.
func (f *frameReader) split() (payload []byte, size int, err error) {
	b := f.buf[f.r:f.w]
	if len(b) == 0 {
		return nil, 0, nil
	}
	start, end, size, err := f.framing.Split(b, f.scanned, f.max)
	if err != nil {
		if fe, ok := err.(*transport.FrameError); ok {
			return nil, 0, fe
		}
		return nil, 0, &transport.FrameError{Reason: err.Error()}
	}
	if size > 0 && size <= len(b) {
		if start < 0 || start > end || end > size || end-start > f.max {
			return nil, 0, f.broken(fmt.Sprintf("payload [%d:%d] of a %d-byte frame", start, end, size))
		}
		f.r += size
		f.need, f.scanned = 0, 0
		return b[start:end:end], size, nil
	}
	if size < 0 || size > f.limit {
		return nil, 0, f.broken(fmt.Sprintf("a frame of %d bytes", size))
	}
	if len(b) >= f.limit {
		return nil, 0, f.broken(fmt.Sprintf("no whole frame in %d bytes", len(b)))
	}
	f.need, f.scanned = size, len(b)
	return nil, 0, nil
}

// isBinary reports whether f is the Binary framing, which the reader and
// Send handle inline: through the interface, the default framing's
// per-frame cost would double.
func isBinary(f Framing) bool {
	_, ok := f.(Binary)
	return ok
}

// broken reports a Framing that breaks its own contract.
func (f *frameReader) broken(what string) *transport.FrameError {
	return &transport.FrameError{Reason: fmt.Sprintf(
		"framing %T reported %s, beyond its %d-byte limit for %d-byte payloads", f.framing, what, f.limit, f.max)}
}

// buffered is how many received bytes are not yet part of a returned frame.
func (f *frameReader) buffered() int { return f.w - f.r }

// space returns where the next read should go, after making room for the
// frame in progress. Call it only after next has returned no frame and no
// error, so that the frame in progress is known to fit the limit.
//
// A frame longer than the usual buffer grows the buffer as its bytes
// arrive, doubling it each time they fill it, never to the length the
// frame announced at once: a header alone costs nothing. What a buffer
// holds beyond the usual size is taken from the budget; space fails with
// ErrBusy when the budget has not enough left.
func (f *frameReader) space() ([]byte, error) {
	need := f.need
	if need == 0 { // the framing cannot tell yet: make room for one more byte
		need = f.w - f.r + 1
	}
	need = min(need, f.limit) // next has checked it; stay safe anyway
	grown := len(f.buf) > len(f.small)
	switch {
	case need > len(f.buf) && f.w-f.r == len(f.buf):
		// The frame in progress fills the buffer: grow it.
		f.fits = 0
		size := min(need, max(2*len(f.buf), len(f.small)))
		if !f.budget.take(size - len(f.buf)) {
			return nil, ErrBusy
		}
		nb := make([]byte, size)
		f.w = copy(nb, f.buf[f.r:f.w])
		f.r, f.buf = 0, nb
	case grown && f.r == f.w:
		// Nothing is held: give the big buffer back rather than keep it for
		// a link that may stay idle.
		f.release()
		f.buf = f.small
	case grown && need <= len(f.small) && f.w-f.r <= len(f.small):
		if f.fits++; f.fits >= shrinkAfter {
			f.fits = 0
			f.w = copy(f.small, f.buf[f.r:f.w])
			f.r = 0
			f.release()
			f.buf = f.small
		}
	}
	if f.r == f.w {
		f.r, f.w = 0, 0
	} else if f.r+need > len(f.buf) || f.w == len(f.buf) {
		f.w = copy(f.buf, f.buf[f.r:f.w])
		f.r = 0
	}
	return f.buf[f.w:], nil
}

// release gives what the buffer holds beyond the usual size back to the
// budget. The caller then replaces the buffer.
func (f *frameReader) release() {
	if len(f.buf) > len(f.small) {
		f.budget.give(len(f.buf) - len(f.small))
	}
}

// close gives the buffer's share of the budget back; the reader is done.
func (f *frameReader) close() {
	f.release()
	f.buf = f.small
}

// fill records that n bytes were read into the slice space returned.
func (f *frameReader) fill(n int) { f.w += n }
