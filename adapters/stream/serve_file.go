package stream

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gonetic/gonetic/adapters/flow"
)

// Mode is the set of operations a byte stream allows. The serving side's
// opener declares it; a client may ask for less (FileConfig.Mode). Both ends
// check it: the client before any round trip.
type Mode uint32

const (
	// Readable allows Read.
	Readable Mode = 1 << iota
	// Writable allows Write.
	Writable
	// SeekForward allows seeking to a position after the current one.
	SeekForward
	// SeekBackward allows seeking to a position before the current one.
	SeekBackward
	// CanGrow allows the end to move out: writing past it, seeking past it,
	// truncating to a larger size.
	CanGrow
	// CanShrink allows Truncate to a smaller size.
	CanShrink

	// Seekable is SeekForward|SeekBackward.
	Seekable = SeekForward | SeekBackward
	// ReadOnly is a readable, seekable stream of fixed size.
	ReadOnly = Readable | Seekable
	// ReadWrite allows everything: a file.
	ReadWrite = Readable | Writable | Seekable | CanGrow | CanShrink
	// allModes is every bit defined.
	allModes = ReadWrite
)

// String lists the mode's bits: "read|write|seek-forward|…".
func (m Mode) String() string {
	names := []string{"read", "write", "seek-forward", "seek-backward", "grow", "shrink"}
	var parts []string
	for i, n := range names {
		if m&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	if rest := m &^ allModes; rest != 0 {
		parts = append(parts, fmt.Sprintf("%#x", uint32(rest)))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "|")
}

// Truncater is an io.ReadWriteSeeker's optional ability to change its size
// (*os.File and *Buffer have it), needed for Truncate.
type Truncater interface {
	Truncate(size int64) error
}

// Opener opens what one client of a byte stream reads and writes, and
// declares the operations it allows. It runs on the flow's goroutine. The
// stream is served by this one goroutine, so rws needs no locking unless
// the opener shares it between clients. If rws is an io.Closer, it is
// closed when the stream ends. An error refuses the stream; its text
// reaches the client.
type Opener func(ctx context.Context, o Open) (rws io.ReadWriteSeeker, mode Mode, err error)

// Packet kinds of a byte stream, both directions (see the package doc).
const (
	opRead     = 1 // client: push n more bytes       server: —
	opWrite    = 2 // client: write the payload      server: —
	opSeek     = 3 // client: seek (new epoch)       server: —
	opTruncate = 4 // client: truncate (new epoch)   server: —

	rpHello     = 1 // mode, size and position
	rpData      = 2 // bytes read
	rpEOF       = 3 // the read push reached the end
	rpAck       = 4 // a write was done
	rpSeeked    = 5 // a seek was done
	rpTruncated = 6 // a truncate was done
	rpFailed    = 7 // an operation failed; the text follows
)

// DefaultPushSize is the most bytes in one packet of read data.
const DefaultPushSize = 32 << 10

// appendPacket appends a byte-stream packet head: kind, uvarint epoch,
// uvarint arg; the payload follows.
func appendPacket(b []byte, kind byte, epoch, arg uint64) []byte {
	b = append(b, kind)
	b = binary.AppendUvarint(b, epoch)
	return binary.AppendUvarint(b, arg)
}

// parsePacket splits a byte-stream packet.
func parsePacket(b []byte) (kind byte, epoch, arg uint64, payload []byte, err error) {
	if len(b) < 3 {
		return 0, 0, 0, nil, fmt.Errorf("%w: short packet", ErrProtocol)
	}
	kind = b[0]
	b = b[1:]
	var n int
	if epoch, n = binary.Uvarint(b); n <= 0 {
		return 0, 0, 0, nil, fmt.Errorf("%w: bad packet epoch", ErrProtocol)
	}
	b = b[n:]
	if arg, n = binary.Uvarint(b); n <= 0 {
		return 0, 0, 0, nil, fmt.Errorf("%w: bad packet argument", ErrProtocol)
	}
	return kind, epoch, arg, b[n:], nil
}

// ServeFiles serves byte streams under name on m: each client that opens
// one (OpenFile) reads, writes and seeks what open returns for it, within
// the mode open declares (narrowed to what the client asked for).
func ServeFiles(m Mux, name string, open Opener) error {
	if open == nil {
		return errors.New("stream: ServeFiles with a nil Opener")
	}
	return m.HandleFunc(name, func(f *flow.Flow, r *flow.Reply) (any, error) {
		h, err := decodeHeader(f.Header(), kindFile)
		if err != nil {
			return nil, err
		}
		want := Mode(h.a)
		rws, mode, err := open(f.Context(), Open{Name: name, Path: h.path, Mode: want, Flow: f})
		if err != nil {
			return nil, err
		}
		if c, ok := rws.(io.Closer); ok {
			defer c.Close()
		}
		if want != 0 {
			if extra := want &^ mode; extra != 0 {
				return nil, fmt.Errorf("%w: the client asked for %v, the stream allows %v", ErrMode, want, mode)
			}
			mode = want
		}
		sv := &fileServer{r: r, rws: rws, mode: mode}
		if err := sv.start(); err != nil {
			return nil, err
		}
		return nil, sv.run(f)
	})
}

// fileServer is the serving side of one byte stream; it runs on the flow's
// goroutine only.
type fileServer struct {
	r      *flow.Reply
	rws    io.ReadWriteSeeker
	mode   Mode
	pos    int64 // rws's position
	size   int64 // rws's size, as this stream knows it
	epoch  uint64
	credit uint64 // bytes the client asked to be pushed in this epoch
	buf    []byte // read buffer, with room for the packet head
	// wfailed: a write of this epoch failed; the next ones are dropped.
	wfailed bool
}

func (sv *fileServer) start() error {
	pos, err := sv.rws.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("stream: the served stream cannot tell its position: %w", err)
	}
	size, err := sv.rws.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("stream: the served stream cannot tell its size: %w", err)
	}
	if _, err := sv.rws.Seek(pos, io.SeekStart); err != nil {
		return err
	}
	sv.pos, sv.size = pos, size
	b := appendPacket(nil, rpHello, 0, uint64(sv.mode))
	b = binary.AppendUvarint(b, uint64(size))
	b = binary.AppendUvarint(b, uint64(pos))
	return sv.r.Send(b)
}

func (sv *fileServer) run(f *flow.Flow) error {
	for p, err := range f.Packets() {
		if err != nil {
			return err
		}
		if p.IsValue() {
			return fmt.Errorf("%w: a value packet on a byte stream", ErrProtocol)
		}
		kind, epoch, arg, payload, err := parsePacket(p.Bytes())
		if err != nil {
			return err
		}
		switch kind {
		case opRead:
			if epoch == sv.epoch && sv.mode&Readable != 0 {
				sv.credit += arg
			}
		case opWrite:
			err = sv.write(epoch, payload)
		case opSeek:
			err = sv.seek(epoch, arg, payload)
		case opTruncate:
			err = sv.truncate(epoch, arg, payload)
		default:
			return fmt.Errorf("%w: unknown packet kind %d", ErrProtocol, kind)
		}
		if err != nil {
			return err
		}
		if err := sv.push(); err != nil {
			return err
		}
	}
	return nil // the client closed
}

// push sends read data while the client's credit lasts.
func (sv *fileServer) push() error {
	for sv.credit > 0 {
		head := appendPacket(sv.buf[:0], rpData, sv.epoch, 0)
		n := int(min(sv.credit, DefaultPushSize))
		if cap(head)-len(head) < n {
			sv.buf = make([]byte, len(head), len(head)+DefaultPushSize)
			copy(sv.buf, head)
			head = sv.buf
		}
		m, err := sv.rws.Read(head[len(head) : len(head)+n])
		sv.pos += int64(m)
		if m > 0 {
			sv.credit -= uint64(m)
			if err := sv.r.Send(head[:len(head)+m]); err != nil {
				return err
			}
		}
		switch {
		case err == io.EOF:
			sv.credit = 0
			return sv.r.Send(appendPacket(nil, rpEOF, sv.epoch, 0))
		case err != nil:
			sv.credit = 0
			return sv.fail(opRead, err.Error())
		case m == 0:
			sv.credit = 0
			return sv.fail(opRead, "the served stream read nothing")
		}
	}
	return nil
}

// fail reports an operation's failure; the stream goes on.
func (sv *fileServer) fail(op uint64, msg string) error {
	b := appendPacket(nil, rpFailed, sv.epoch, op)
	return sv.r.Send(append(b, msg...))
}

// write writes one packet's data and acknowledges the packet. After a
// failed write, the epoch's later writes are dropped (and acknowledged):
// the client's position is then wrong until its next seek.
func (sv *fileServer) write(epoch uint64, data []byte) error {
	if !sv.wfailed {
		var err error
		switch {
		case sv.mode&Writable == 0:
			err = fmt.Errorf("%w: write (mode %v)", ErrMode, sv.mode)
		case sv.mode&CanGrow == 0 && sv.pos+int64(len(data)) > sv.size && sv.refreshSize() == nil && sv.pos+int64(len(data)) > sv.size:
			err = fmt.Errorf("%w: a write of %d bytes at %d passes the end (%d) of a stream that cannot grow", ErrMode, len(data), sv.pos, sv.size)
		default:
			var n int
			n, err = sv.rws.Write(data)
			sv.pos += int64(n)
			sv.size = max(sv.size, sv.pos)
		}
		if err != nil {
			sv.wfailed = true
			if err := sv.fail(opWrite, err.Error()); err != nil {
				return err
			}
		}
	}
	return sv.r.Send(appendPacket(nil, rpAck, epoch, uint64(len(data))))
}

// seek starts a new epoch: the read credit is dropped. On failure the
// position goes back to the client's (the fallback in the payload).
func (sv *fileServer) seek(epoch, whence uint64, payload []byte) error {
	off, n := binary.Varint(payload)
	if n <= 0 {
		return fmt.Errorf("%w: bad seek offset", ErrProtocol)
	}
	fallback, k := binary.Uvarint(payload[n:])
	if k <= 0 {
		return fmt.Errorf("%w: bad seek fallback", ErrProtocol)
	}
	sv.epoch, sv.credit, sv.wfailed = epoch, 0, false
	if err := sv.refreshSize(); err != nil {
		return sv.fail(opSeek, err.Error())
	}
	var target int64
	switch whence {
	case io.SeekStart:
		target = off
	case io.SeekCurrent:
		target = int64(fallback) + off
	case io.SeekEnd:
		target = sv.size + off
	default:
		return fmt.Errorf("%w: bad whence %d", ErrProtocol, whence)
	}
	if err := checkSeek(sv.mode, int64(fallback), target, sv.size); err != nil {
		if merr := sv.moveTo(int64(fallback)); merr != nil {
			return sv.fail(opSeek, merr.Error())
		}
		return sv.fail(opSeek, err.Error())
	}
	if err := sv.moveTo(target); err != nil {
		_ = sv.moveTo(int64(fallback))
		return sv.fail(opSeek, err.Error())
	}
	b := appendPacket(nil, rpSeeked, epoch, uint64(sv.pos))
	return sv.r.Send(binary.AppendUvarint(b, uint64(sv.size)))
}

// refreshSize reads the served stream's size again: another client of a
// shared stream may have changed it.
func (sv *fileServer) refreshSize() error {
	size, err := sv.rws.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	sv.size = size
	_, err = sv.rws.Seek(sv.pos, io.SeekStart)
	return err
}

func (sv *fileServer) moveTo(pos int64) error {
	p, err := sv.rws.Seek(pos, io.SeekStart)
	if err != nil {
		return err
	}
	sv.pos = p
	return nil
}

// checkSeek says why a seek from pos to target is not allowed (nil if it
// is), for a stream of that size.
func checkSeek(mode Mode, pos, target, size int64) error {
	switch {
	case mode&Seekable == 0:
		return fmt.Errorf("%w: seek (mode %v)", ErrMode, mode)
	case target < 0:
		return fmt.Errorf("%w: seek to %d, before the start", ErrSeekRange, target)
	case target > pos && mode&SeekForward == 0:
		return fmt.Errorf("%w: seek forward from %d to %d (mode %v)", ErrMode, pos, target, mode)
	case target < pos && mode&SeekBackward == 0:
		return fmt.Errorf("%w: seek backward from %d to %d (mode %v)", ErrMode, pos, target, mode)
	case target > size && mode&CanGrow == 0:
		return fmt.Errorf("%w: seek to %d, past the end (%d) of a stream that cannot grow", ErrSeekRange, target, size)
	}
	return nil
}

// truncate changes the size and starts a new epoch; the position goes to
// the client's (the payload).
func (sv *fileServer) truncate(epoch, size uint64, payload []byte) error {
	pos, k := binary.Uvarint(payload)
	if k <= 0 {
		return fmt.Errorf("%w: bad truncate position", ErrProtocol)
	}
	sv.epoch, sv.credit, sv.wfailed = epoch, 0, false
	if err := sv.refreshSize(); err != nil {
		return sv.fail(opTruncate, err.Error())
	}
	var msg string
	if err := checkTruncate(sv.mode, int64(size), sv.size); err != nil {
		msg = err.Error()
	} else if t, ok := sv.rws.(Truncater); !ok {
		msg = fmt.Sprintf("%v: truncate: the served %T cannot truncate", ErrMode, sv.rws)
	} else if err := t.Truncate(int64(size)); err != nil {
		msg = err.Error()
	} else {
		sv.size = int64(size)
	}
	if err := sv.moveTo(int64(pos)); err != nil && msg == "" {
		msg = err.Error()
	}
	if msg != "" {
		return sv.fail(opTruncate, msg)
	}
	b := appendPacket(nil, rpTruncated, epoch, uint64(sv.size))
	return sv.r.Send(b)
}

// checkTruncate says why truncating to size is not allowed (nil if it is).
func checkTruncate(mode Mode, size, cur int64) error {
	switch {
	case mode&Writable == 0:
		return fmt.Errorf("%w: truncate needs write (mode %v)", ErrMode, mode)
	case size < 0:
		return fmt.Errorf("%w: truncate to %d", ErrSeekRange, size)
	case size < cur && mode&CanShrink == 0:
		return fmt.Errorf("%w: truncate from %d to %d shrinks (mode %v)", ErrMode, cur, size, mode)
	case size > cur && mode&CanGrow == 0:
		return fmt.Errorf("%w: truncate from %d to %d grows (mode %v)", ErrMode, cur, size, mode)
	}
	return nil
}
