package stream

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/gonetic/gonetic/adapters/flow"
)

// Defaults of FileConfig.
const (
	// DefaultWriteWindow is the default FileConfig.WriteWindow.
	DefaultWriteWindow = 1 << 20
	// DefaultWriteChunk is the default FileConfig.WriteChunk.
	DefaultWriteChunk = 32 << 10
	// maxDemandRead bounds what one on-demand Read asks for.
	maxDemandRead = 1 << 20
)

// FileConfig configures OpenFile. The zero value asks for every operation
// the serving side allows and reads on demand.
type FileConfig struct {
	// Mode is the operations wanted: the stream is refused if the serving
	// side does not allow them all. 0 (the default) takes what it allows.
	Mode Mode
	// ReadAhead is how many bytes the serving side pushes ahead of the
	// reader, refilled as the reader takes them. 0 (the default) reads on
	// demand: each Read that finds nothing buffered asks for len(p) bytes
	// (at most 1 MiB) and waits a round trip. A few hundred KiB gives
	// throughput on a sequential read.
	ReadAhead int
	// WriteWindow is the most written bytes sent and not yet acknowledged
	// by the serving side; Write waits beyond it. Default 1 MiB.
	WriteWindow int
	// WriteChunk is how many written bytes are gathered before they are
	// sent in one packet (Flush and a change of direction send less).
	// Default 32 KiB.
	WriteChunk int
	// Path is passed to the serving side's Opener (Open.Path).
	Path string
}

// File is the client side of a byte stream: a remote file with Read, Write
// and Seek (io.ReadWriteSeeker, io.Closer), within the operations its mode
// allows. An operation the mode forbids fails at once with an error that
// matches ErrMode, without a round trip.
//
// One direction is active at a time: a Read after Writes sends the
// buffered writes first; a Write after Reads drops the read-ahead (the
// serving side goes back to the reader's position). A Seek drops the
// read-ahead too: data from before a seek is never returned after it.
// Writes are buffered (FileConfig.WriteChunk) and acknowledged
// asynchronously: a failed write is reported by a later Write, Flush or
// Close, and Write keeps failing until the next Seek sets a position.
//
// Methods may be called from several goroutines; they run one at a time.
// Close may be called at any time: during a blocked call it aborts the
// stream.
type File struct {
	c                 *client
	name              string
	mode              Mode
	readAhead, window int
	chunk             int
	closeOnce         sync.Once

	mu       sync.Mutex // serialises the calls; guards the fields below
	pos      int64      // the position as the user sees it
	size     int64      // the size as last known
	epoch    uint64     // the current seek epoch
	rbuf     []byte     // read-ahead data of this epoch, not yet returned
	asked    int64      // bytes asked for in this epoch, not yet received
	eof      bool       // the serving side reached the end in this epoch
	rerr     error      // a read failure to return once
	writing  bool       // the last data operation was a write
	wbuf     []byte     // written bytes not yet sent
	unacked  int64      // written bytes sent, not yet acknowledged
	werr     error      // a write failure; sticky until the next seek
	waitFor  uint64     // epoch of a seek or truncate whose reply is due; 0 none
	asyncFor uint64     // epoch of an internal seek whose reply is ignored
	opErr    error      // the failure of the seek or truncate waited for
	err      error      // the stream is over: every call returns it
	timer    *time.Timer

	dlMu     sync.Mutex // guards deadline
	deadline time.Time

	closedMu sync.Mutex // guards closed
	closed   bool
}

// OpenFile opens the byte stream named name at the other end of to (a
// *flow.Client, or a Station's connection: Station.Over), and waits until
// the serving side has opened it, or ctx is done. ctx bounds the opening
// only; see SetDeadline for the calls.
func OpenFile(ctx context.Context, to flow.Caller, name string, cfg FileConfig) (*File, error) {
	switch {
	case cfg.Mode&^allModes != 0:
		return nil, fmt.Errorf("stream: FileConfig.Mode has unknown bits %v", cfg.Mode)
	case cfg.ReadAhead < 0:
		return nil, fmt.Errorf("stream: FileConfig.ReadAhead %d is negative", cfg.ReadAhead)
	case cfg.WriteWindow < 0:
		return nil, fmt.Errorf("stream: FileConfig.WriteWindow %d is negative", cfg.WriteWindow)
	case cfg.WriteChunk < 0 || cfg.WriteChunk > flow.MaxChunkSize/2:
		return nil, fmt.Errorf("stream: FileConfig.WriteChunk %d is out of range [0, %d]", cfg.WriteChunk, flow.MaxChunkSize/2)
	}
	if cfg.WriteWindow == 0 {
		cfg.WriteWindow = DefaultWriteWindow
	}
	if cfg.WriteChunk == 0 {
		cfg.WriteChunk = DefaultWriteChunk
	}
	c := newClient(to, name, openHeader{kind: kindFile, a: uint64(cfg.Mode), path: cfg.Path}, nil)
	it, err := c.recv(ctx, nil)
	if err == nil {
		kind, _, mode, payload, perr := parsePacket(it.data)
		size, n := binary.Uvarint(payload)
		pos, k := uint64(0), 0
		if n > 0 {
			pos, k = binary.Uvarint(payload[n:])
		}
		switch {
		case perr != nil:
			err = perr
		case kind != rpHello || n <= 0 || k <= 0:
			err = fmt.Errorf("%w: stream %q: no hello from the serving side", ErrProtocol, name)
		default:
			return &File{
				c: c, name: name, mode: Mode(mode),
				readAhead: cfg.ReadAhead, window: cfg.WriteWindow, chunk: cfg.WriteChunk,
				pos: int64(pos), size: int64(size),
			}, nil
		}
	}
	c.close()
	if err == errEnded {
		err = fmt.Errorf("%w: stream %q ended before it opened", ErrProtocol, name)
	}
	return nil, err
}

// Mode is the stream's mode: what the client asked for, or all the serving
// side allows.
func (f *File) Mode() Mode { return f.mode }

// Size is the stream's size as last known: at open, after this client's
// writes, seeks and truncates.
func (f *File) Size() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.size
}

// SetDeadline bounds the blocking calls (Read, Write, Seek, Truncate,
// Flush, Close) from now on: past t they return an error that matches
// os.ErrDeadlineExceeded (a net.Error whose Timeout is true), and the stream
// stays usable. The zero time means no deadline.
func (f *File) SetDeadline(t time.Time) error {
	f.dlMu.Lock()
	f.deadline = t
	f.dlMu.Unlock()
	return nil
}

// waitC returns the channel that fires at the deadline, nil if none. f.mu
// is held.
func (f *File) waitC() <-chan time.Time {
	f.dlMu.Lock()
	dl := f.deadline
	f.dlMu.Unlock()
	if dl.IsZero() {
		return nil
	}
	d := time.Until(dl)
	if f.timer == nil {
		f.timer = time.NewTimer(d)
	} else {
		f.timer.Reset(d)
	}
	return f.timer.C
}

func (f *File) isClosed() bool {
	f.closedMu.Lock()
	defer f.closedMu.Unlock()
	return f.closed
}

// check returns why no call may run now, or nil. f.mu is held.
func (f *File) check() error {
	if f.isClosed() {
		return ErrClosed
	}
	return f.err
}

// recv waits for one packet from the serving side and handles it. A
// deadline leaves the stream usable; any other failure ends it.
func (f *File) recv(wait <-chan time.Time) error {
	it, err := f.c.recv(context.Background(), wait)
	if err == nil {
		err = f.handle(it)
	}
	if err != nil && err != errTimeout {
		return f.fail(err)
	}
	return err
}

// fail ends the stream with err.
func (f *File) fail(err error) error {
	switch {
	case f.isClosed():
		err = ErrClosed
	case err == errEnded:
		err = fmt.Errorf("%w: stream %q ended by the serving side", ErrProtocol, f.name)
	}
	if f.err == nil {
		f.err = err
	}
	return f.err
}

// handle applies one packet from the serving side.
func (f *File) handle(it item) error {
	if it.value != nil {
		return fmt.Errorf("%w: a value packet on a byte stream", ErrProtocol)
	}
	kind, epoch, arg, payload, err := parsePacket(it.data)
	if err != nil {
		return err
	}
	switch kind {
	case rpData:
		if epoch == f.epoch {
			if len(f.rbuf) == 0 {
				f.rbuf = payload
			} else {
				f.rbuf = append(f.rbuf, payload...)
			}
			f.asked = max(0, f.asked-int64(len(payload)))
		}
	case rpEOF:
		if epoch == f.epoch {
			f.eof, f.asked = true, 0
		}
	case rpAck:
		f.unacked = max(0, f.unacked-int64(arg))
	case rpSeeked:
		if epoch == f.waitFor {
			size, n := binary.Uvarint(payload)
			if n <= 0 {
				return fmt.Errorf("%w: bad seek reply", ErrProtocol)
			}
			f.pos, f.size, f.waitFor, f.opErr = int64(arg), int64(size), 0, nil
		}
	case rpTruncated:
		if epoch == f.waitFor {
			f.size, f.waitFor, f.opErr = int64(arg), 0, nil
		}
	case rpFailed:
		e := &RemoteError{Message: string(payload)}
		switch arg {
		case opRead:
			e.Op = "read"
			if epoch == f.epoch {
				f.rerr, f.asked = e, 0
			}
		case opWrite:
			e.Op = "write"
			if epoch == f.epoch && f.werr == nil {
				f.werr = e
			}
		case opSeek, opTruncate:
			e.Op = "seek"
			if arg == opTruncate {
				e.Op = "truncate"
			}
			switch epoch {
			case f.waitFor:
				f.waitFor, f.opErr = 0, e
			case f.asyncFor:
				// An internal seek back to a known position failed: the
				// serving side's stream misbehaves.
				if f.werr == nil {
					f.werr = e
				}
			}
		default:
			return fmt.Errorf("%w: failure of unknown operation %d", ErrProtocol, arg)
		}
	default:
		return fmt.Errorf("%w: unknown packet kind %d", ErrProtocol, kind)
	}
	return nil
}

// settle waits for the reply to a seek or truncate whose wait timed out.
// f.mu is held.
func (f *File) settle(wait <-chan time.Time) error {
	for f.waitFor != 0 {
		if err := f.recv(wait); err != nil {
			return err
		}
	}
	return nil
}

// begin starts a call: it checks the stream and settles a pending seek.
func (f *File) begin(wait <-chan time.Time) error {
	if err := f.check(); err != nil {
		return err
	}
	return f.settle(wait)
}

// sendPacket hands a packet to the flow.
func (f *File) sendPacket(b []byte, wait <-chan time.Time) error {
	if err := f.c.send(b, wait); err != nil {
		f.c.putBuf(b)
		if err == errTimeout {
			return err
		}
		return f.fail(err)
	}
	return nil
}

// ask asks for n more bytes of this epoch.
func (f *File) ask(n int64, wait <-chan time.Time) error {
	b := appendPacket(f.c.getBuf(), opRead, f.epoch, uint64(n))
	if err := f.sendPacket(b, wait); err != nil {
		return err
	}
	f.asked += n
	return nil
}

// Read reads up to len(p) bytes at the position, as io.Reader says. It
// returns io.EOF at the end of the stream; a later Read asks again (the
// stream may have grown meanwhile).
func (f *File) Read(p []byte) (int, error) {
	if f.mode&Readable == 0 {
		return 0, fmt.Errorf("%w: read (mode %v)", ErrMode, f.mode)
	}
	if len(p) == 0 {
		return 0, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	wait := f.waitC()
	if err := f.begin(wait); err != nil {
		return 0, err
	}
	if f.writing {
		if err := f.sendWrites(wait); err != nil {
			return 0, err
		}
		f.writing = false
	}
	for {
		if len(f.rbuf) > 0 {
			n := copy(p, f.rbuf)
			f.rbuf = f.rbuf[n:]
			f.pos += int64(n)
			if f.readAhead > 0 && !f.eof {
				if deficit := int64(f.readAhead) - f.asked - int64(len(f.rbuf)); deficit >= max(1, int64(f.readAhead)/4) {
					if err := f.ask(deficit, wait); err != nil && err != errTimeout {
						return n, err
					}
				}
			}
			return n, nil
		}
		if f.rerr != nil {
			err := f.rerr
			f.rerr = nil
			return 0, err
		}
		if f.eof {
			f.eof = false
			return 0, io.EOF
		}
		if f.asked == 0 {
			n := int64(f.readAhead)
			if n == 0 {
				n = int64(min(len(p), maxDemandRead))
			}
			if err := f.ask(n, wait); err != nil {
				return 0, err
			}
		}
		if err := f.recv(wait); err != nil {
			return 0, err
		}
	}
}

// Write writes p at the position, as io.Writer says. The bytes are
// buffered and sent in chunks, within the write window; a failure of an
// earlier write at the serving side is returned here. On a stream that
// cannot grow, a write past the end writes what fits and fails with an
// error that matches ErrMode.
func (f *File) Write(p []byte) (int, error) {
	if f.mode&Writable == 0 {
		return 0, fmt.Errorf("%w: write (mode %v)", ErrMode, f.mode)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	wait := f.waitC()
	if err := f.begin(wait); err != nil {
		return 0, err
	}
	if f.werr != nil {
		return 0, f.werr
	}
	var short error
	if f.mode&CanGrow == 0 && f.pos+int64(len(p)) > f.size {
		keep := max(0, f.size-f.pos)
		short = fmt.Errorf("%w: a write of %d bytes at %d passes the end (%d) of a stream that cannot grow", ErrMode, len(p), f.pos, f.size)
		p = p[:keep]
	}
	if !f.writing {
		if f.asked > 0 || len(f.rbuf) > 0 {
			// The serving side read ahead of the reader: move it back.
			if err := f.newEpoch(opSeek, io.SeekStart, f.pos, wait); err != nil {
				return 0, err
			}
			f.asyncFor, f.waitFor = f.epoch, 0
		}
		f.writing, f.eof, f.rerr = true, false, nil
	}
	written := 0
	for len(p) > 0 {
		n := min(f.chunk-len(f.wbuf), len(p))
		f.wbuf = append(f.wbuf, p[:n]...)
		p = p[n:]
		written += n
		f.pos += int64(n)
		f.size = max(f.size, f.pos)
		if len(f.wbuf) >= f.chunk {
			if err := f.sendWrites(wait); err != nil {
				return written, err
			}
		}
	}
	if f.werr != nil {
		return written, f.werr
	}
	return written, short
}

// sendWrites sends the buffered writes, within the window.
func (f *File) sendWrites(wait <-chan time.Time) error {
	if len(f.wbuf) == 0 {
		return nil
	}
	for f.unacked > 0 && f.unacked+int64(len(f.wbuf)) > int64(f.window) {
		if err := f.recv(wait); err != nil {
			return err
		}
	}
	b := appendPacket(f.c.getBuf(), opWrite, f.epoch, 0)
	b = append(b, f.wbuf...)
	if err := f.sendPacket(b, wait); err != nil {
		return err
	}
	f.unacked += int64(len(f.wbuf))
	f.wbuf = f.wbuf[:0]
	return nil
}

// newEpoch sends a seek (kind opSeek: whence, offset) or a truncate (kind
// opTruncate: size in off) that starts a new epoch, and drops the read
// state. The reply is due for f.epoch (f.waitFor).
func (f *File) newEpoch(kind byte, whence int, off int64, wait <-chan time.Time) error {
	if err := f.sendWrites(wait); err != nil {
		return err
	}
	epoch := f.epoch + 1
	var b []byte
	if kind == opSeek {
		b = appendPacket(f.c.getBuf(), opSeek, epoch, uint64(whence))
		b = binary.AppendVarint(b, off)
	} else {
		b = appendPacket(f.c.getBuf(), opTruncate, epoch, uint64(off))
	}
	b = binary.AppendUvarint(b, uint64(f.pos))
	if err := f.sendPacket(b, wait); err != nil {
		return err
	}
	f.epoch, f.waitFor = epoch, epoch
	f.rbuf, f.asked, f.eof, f.rerr, f.writing = nil, 0, false, nil, false
	return nil
}

// Seek sets the position for the next Read or Write, as io.Seeker says,
// and returns it. A seek the mode forbids (a direction without its
// SeekForward or SeekBackward, past the end without CanGrow) or to a
// negative position fails at once, with an error that matches ErrMode or
// ErrSeekRange, and the stream stays usable at its old position; so does
// one the serving side refuses (an io.SeekEnd from a size this client did
// not know). Pending writes are sent first; read-ahead is dropped.
func (f *File) Seek(offset int64, whence int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	wait := f.waitC()
	if err := f.begin(wait); err != nil {
		return f.pos, err
	}
	var target int64
	switch whence {
	case io.SeekStart:
		target = offset
	case io.SeekCurrent:
		target, whence, offset = f.pos+offset, io.SeekStart, f.pos+offset
	case io.SeekEnd:
		target = f.size + offset
	default:
		return f.pos, fmt.Errorf("stream: Seek: bad whence %d", whence)
	}
	if err := checkSeek(f.mode, f.pos, target, f.size); err != nil {
		return f.pos, err
	}
	if err := f.newEpoch(opSeek, whence, offset, wait); err != nil {
		return f.pos, err
	}
	f.werr = nil
	if err := f.settle(wait); err != nil {
		return f.pos, err
	}
	return f.pos, f.opErr
}

// Truncate changes the stream's size; the position does not move. It
// needs Writable, and CanShrink or CanGrow for the direction; read-ahead
// is dropped.
func (f *File) Truncate(size int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	wait := f.waitC()
	if err := f.begin(wait); err != nil {
		return err
	}
	if err := checkTruncate(f.mode, size, f.size); err != nil {
		return err
	}
	if err := f.newEpoch(opTruncate, 0, size, wait); err != nil {
		return err
	}
	if err := f.settle(wait); err != nil {
		return err
	}
	return f.opErr
}

// Flush sends the buffered writes and waits until the serving side has
// done them all; it returns a write's failure, if any.
func (f *File) Flush() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	wait := f.waitC()
	if err := f.begin(wait); err != nil {
		return err
	}
	return f.flush(wait)
}

func (f *File) flush(wait <-chan time.Time) error {
	if err := f.sendWrites(wait); err != nil {
		return err
	}
	for f.unacked > 0 {
		if err := f.recv(wait); err != nil {
			return err
		}
	}
	return f.werr
}

// Close flushes the writes, ends the stream and waits for its goroutines.
// It returns a write's failure, if any. Called while another call blocks,
// it aborts the stream at once instead (that call returns ErrClosed; writes
// not yet done may be lost). Idempotent: later calls return nil.
func (f *File) Close() error {
	var err error
	f.closeOnce.Do(func() {
		if !f.mu.TryLock() {
			f.closedMu.Lock()
			f.closed = true
			f.closedMu.Unlock()
			f.c.close()
			return
		}
		defer f.mu.Unlock()
		wait := f.waitC()
		if f.err == nil {
			if err = f.settle(wait); err == nil {
				err = f.flush(wait)
			}
			if f.err == nil {
				if cerr := f.c.closeGraceful(wait); err == nil && !errors.Is(cerr, ErrClosed) {
					err = cerr
				}
			}
		}
		f.closedMu.Lock()
		f.closed = true
		f.closedMu.Unlock()
		f.c.close()
		if f.timer != nil {
			f.timer.Stop()
		}
	})
	return err
}
