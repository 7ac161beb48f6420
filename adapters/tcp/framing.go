package tcp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/gonetic/gonetic/net/transport"
)

// Framing is how payloads are delimited on the byte stream: Options.Framing
// picks one for every link of a Transport. The package provides Binary (the
// default), ByteCount, Netstring and Lines; a program may supply its own.
//
// A Framing is a value shared by every link, so its methods must be safe
// for concurrent use; those of this package hold no state at all.
type Framing interface {
	// AppendFrame appends payload, framed, to dst and returns the extended
	// slice. It fails, leaving dst as it was, when the framing cannot carry
	// payload (Lines and a payload holding a line break); Send returns that
	// error. Send has already checked len(payload) against the limit, and
	// holds the link's lock: AppendFrame must not call the link.
	AppendFrame(dst, payload []byte) ([]byte, error)

	// Split parses the frame at the start of b, the bytes received and not
	// yet taken. max is the largest payload accepted (Config.MaxPayload).
	//
	// When b holds a whole frame, Split returns the payload as b[start:end]
	// and the length of the whole frame, prefix and trailer included, as
	// size: 0 <= start <= end <= size <= len(b), size > 0, end-start <= max.
	//
	// When b holds only part of a frame, Split returns size 0 if the bytes
	// so far do not tell how long the frame is, or the frame's whole length
	// (more than len(b)) once they do; the reader then reads more.
	//
	// Bytes that break the framing, or announce a payload over max, make
	// Split return an error, a *transport.FrameError (any other error is
	// wrapped in one), as soon as b shows it: before the payload arrives.
	// The answer must depend only on the bytes, never on how they were
	// split into reads: a payload of exactly max bytes is always accepted.
	//
	// scanned is how many bytes of b an earlier call already saw and found
	// no whole frame in, or 0; a framing that searches for a delimiter may
	// resume there rather than search the same bytes again.
	Split(b []byte, scanned, max int) (start, end, size int, err error)

	// Overhead returns the most bytes a frame adds around a payload of at
	// most max bytes, on the way in as well as out, or an error when the
	// framing cannot carry payloads that large. The reader never buffers
	// more than max plus this for one frame.
	Overhead(max int) (int, error)
}

// ErrLineBreak is what Send returns, with Lines framing, for a payload that
// cannot travel as one line: it holds a '\n', or, unless Lines.CRLF, ends
// with a '\r' that the receiver would strip.
var ErrLineBreak = errors.New("tcp: Lines framing: the payload holds a line break ('\\n', or a final '\\r' without Lines.CRLF); send it with a binary-safe framing")

// Binary is the default framing: a 4-byte big-endian unsigned length, then
// the payload. It carries any bytes, up to 4 GiB minus 5 bytes per payload.
type Binary struct{}

// AppendFrame appends the 4-byte length and payload to dst. It never fails.
func (Binary) AppendFrame(dst, payload []byte) ([]byte, error) {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(payload)))
	return append(dst, payload...), nil
}

// Split parses a 4-byte length and the payload after it.
func (Binary) Split(b []byte, _, limit int) (start, end, size int, err error) {
	if len(b) < headerSize {
		return 0, 0, 0, nil
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n) > uint64(limit) {
		return 0, 0, 0, &transport.FrameError{
			Reason:   fmt.Sprintf("frame of %d bytes exceeds the %d-byte limit", n, limit),
			TooLarge: true,
		}
	}
	end = headerSize + int(n)
	return headerSize, end, end, nil
}

// Overhead is 4, the length prefix; it fails for a limit the prefix cannot
// express.
func (Binary) Overhead(limit int) (int, error) {
	if uint64(limit) > math.MaxUint32-headerSize {
		return 0, fmt.Errorf("tcp: Config.MaxPayload %d does not fit the 4-byte length prefix", limit)
	}
	return headerSize, nil
}

// ByteCount is the size-prefixed text framing of Twisted's byte-count echo
// protocol: the payload's length in decimal ASCII, a space, then the
// payload, with nothing after it: "5 hello". The length has no sign, no
// leading zero (but "0 " for an empty payload) and no other padding.
type ByteCount struct{}

// AppendFrame appends "<length> <payload>" to dst. It never fails.
func (ByteCount) AppendFrame(dst, payload []byte) ([]byte, error) {
	dst = strconv.AppendUint(dst, uint64(len(payload)), 10)
	dst = append(dst, ' ')
	return append(dst, payload...), nil
}

// Split parses "<length> <payload>".
func (ByteCount) Split(b []byte, _, limit int) (start, end, size int, err error) {
	n, i, err := decimalLength(b, ' ', limit)
	if err != nil || i < 0 {
		return 0, 0, 0, err
	}
	start = i + 1
	end = start + n
	return start, end, end, nil
}

// Overhead is the length's digits and the space.
func (ByteCount) Overhead(limit int) (int, error) { return decimalDigits(limit) + 1, nil }

// Netstring is D. J. Bernstein's netstring framing: the payload's length
// in decimal ASCII, a colon, the payload, a comma: "5:hello,". As the
// specification requires, a length with a leading zero is refused.
type Netstring struct{}

// AppendFrame appends "<length>:<payload>," to dst. It never fails.
func (Netstring) AppendFrame(dst, payload []byte) ([]byte, error) {
	dst = strconv.AppendUint(dst, uint64(len(payload)), 10)
	dst = append(dst, ':')
	dst = append(dst, payload...)
	return append(dst, ','), nil
}

// Split parses "<length>:<payload>,".
func (Netstring) Split(b []byte, _, limit int) (start, end, size int, err error) {
	n, i, err := decimalLength(b, ':', limit)
	if err != nil || i < 0 {
		return 0, 0, 0, err
	}
	start = i + 1
	end = start + n
	size = end + 1
	if len(b) >= size && b[end] != ',' {
		return 0, 0, 0, &transport.FrameError{
			Reason: fmt.Sprintf("expected ',' after a %d-byte netstring, got %q", n, b[end]),
		}
	}
	return start, end, size, nil
}

// Overhead is the length's digits, the colon and the comma.
func (Netstring) Overhead(limit int) (int, error) { return decimalDigits(limit) + 2, nil }

// Lines frames each payload as one line of text. A received line ends at
// '\n'; one '\r' before it is dropped, so both "\n" and "\r\n" endings
// work. A line longer than Config.MaxPayload, terminator aside, closes the
// link as soon as that many bytes have arrived without a line end; a line
// of exactly Config.MaxPayload bytes is accepted. For a line protocol,
// lower Config.MaxPayload from its 1 MiB default (Twisted's LineReceiver
// allows 16 KiB). Bytes after the last line end when the peer closes are an
// incomplete frame (io.ErrUnexpectedEOF).
//
// A payload to send must not hold a '\n' (Send returns ErrLineBreak). Lines
// are sent with "\n", or "\r\n" if CRLF is set.
type Lines struct {
	// CRLF ends sent lines with "\r\n" rather than "\n". Default false.
	CRLF bool
}

// AppendFrame appends payload and the line end to dst. It fails with
// ErrLineBreak for a payload the receiver would not read back as one line.
func (l Lines) AppendFrame(dst, payload []byte) ([]byte, error) {
	if bytes.IndexByte(payload, '\n') >= 0 ||
		!l.CRLF && len(payload) > 0 && payload[len(payload)-1] == '\r' {
		return dst, ErrLineBreak
	}
	dst = append(dst, payload...)
	if l.CRLF {
		dst = append(dst, '\r')
	}
	return append(dst, '\n'), nil
}

// Split finds the first '\n' in b.
func (Lines) Split(b []byte, scanned, limit int) (start, end, size int, err error) {
	from := min(max(scanned, 0), len(b))
	if i := bytes.IndexByte(b[from:], '\n'); i >= 0 {
		end = from + i
		size = end + 1
		if end > 0 && b[end-1] == '\r' {
			end--
		}
		if end > limit {
			return 0, 0, 0, lineTooLong(limit)
		}
		return 0, end, size, nil
	}
	// No line end yet: the shortest line these bytes can still make drops
	// a final '\r', if the next byte is the '\n'.
	shortest := len(b)
	if shortest > 0 && b[shortest-1] == '\r' {
		shortest--
	}
	if shortest > limit {
		return 0, 0, 0, lineTooLong(limit)
	}
	return 0, 0, 0, nil
}

func lineTooLong(limit int) error {
	return &transport.FrameError{Reason: fmt.Sprintf("line longer than the %d-byte limit", limit), TooLarge: true}
}

// Overhead is 2, for "\r\n".
func (Lines) Overhead(int) (int, error) { return 2, nil }

// decimalLength parses the decimal length at the start of b and the
// separator after it. It returns the length and the separator's index, or
// i < 0 when b ends before the separator, or the first error the bytes
// show: a value over limit is refused at the first digit that makes it so.
func decimalLength(b []byte, sep byte, limit int) (n, i int, err error) {
	for i = 0; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			break
		}
		if i == 1 && b[0] == '0' {
			return 0, -1, &transport.FrameError{Reason: "length with a leading zero"}
		}
		d := int(c - '0')
		if d > limit || n > (limit-d)/10 {
			return 0, -1, &transport.FrameError{
				Reason:   fmt.Sprintf("length of %s or more bytes exceeds the %d-byte limit", b[:i+1], limit),
				TooLarge: true,
			}
		}
		n = n*10 + d
	}
	switch {
	case i == len(b):
		return 0, -1, nil
	case i > 0 && b[i] == sep:
		return n, i, nil
	case i > 0:
		return 0, -1, &transport.FrameError{
			Reason: fmt.Sprintf("expected %q after the length %d, got %q", sep, n, b[i]),
		}
	case b[0] == '-':
		return 0, -1, &transport.FrameError{Reason: "negative length"}
	}
	return 0, -1, &transport.FrameError{
		Reason: fmt.Sprintf("expected a decimal length, got %q", b[0]),
	}
}

// decimalDigits is how many digits n has in decimal.
func decimalDigits(n int) int {
	d := 1
	for ; n >= 10; n /= 10 {
		d++
	}
	return d
}
