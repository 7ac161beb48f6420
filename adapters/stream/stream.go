package stream

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/gonetic/gonetic/adapters/flow"
)

// Mux is where a stream's serving side is registered: a *flow.Server (a
// dedicated flow listener) or a *flow.Station (flows beside game messages
// on net/ connections). Both ends reach a stream by its name.
type Mux interface {
	HandleFunc(name string, fn flow.HandlerFunc) error
}

// Sentinel errors. Errors that come from the flow underneath (a lost
// connection, a closed server, a failed source) are *flow.Error values and
// match flow's sentinels (flow.ErrConnLost, flow.ErrHandler, …).
var (
	// ErrClosed is returned by calls on a stream after its Close.
	ErrClosed = errors.New("stream: closed")
	// ErrMode matches an operation that the byte stream's mode forbids:
	// it fails at once, without a round trip, and the stream stays usable.
	ErrMode = errors.New("stream: operation not allowed by the stream's mode")
	// ErrSeekRange matches a seek (or truncate) to a position outside the
	// allowed range: negative, or past the end of a stream that cannot
	// grow. The stream stays usable, at its old position.
	ErrSeekRange = errors.New("stream: position out of range")
	// ErrProtocol matches a malformed stream packet.
	ErrProtocol = errors.New("stream: protocol error")
	// ErrRemote matches an operation that failed at the serving side (its
	// io.ReadWriteSeeker returned an error); the message is the error's
	// text. The stream stays usable.
	ErrRemote = errors.New("stream: remote operation failed")
)

// RemoteError is an operation's failure at the serving side, with its text.
type RemoteError struct {
	// Op is the operation: "read", "write", "seek" or "truncate".
	Op string
	// Message is the serving side's error text.
	Message string
}

// Error says which operation failed and why.
func (e *RemoteError) Error() string { return "stream: remote " + e.Op + ": " + e.Message }

// Is matches ErrRemote, and ErrSeekRange or ErrMode when the serving side
// refused the operation for that reason.
func (e *RemoteError) Is(target error) bool {
	switch target {
	case ErrRemote:
		return true
	case ErrSeekRange, ErrMode:
		return strings.HasPrefix(e.Message, target.Error())
	}
	return false
}

// Header kinds (the second byte of a flow header).
const (
	headerVersion = 1
	kindEntities  = 'e'
	kindFile      = 'f'
)

// openHeader is what a client sends as its flow's header:
//
//	version byte (1), kind byte ('e' or 'f'), uvarint a, uvarint b, path bytes
//
// For an entity stream a is the Policy and b the read-ahead; for a byte
// stream a is the requested Mode and b is 0.
type openHeader struct {
	kind byte
	a, b uint64
	path string
}

func (h openHeader) encode() []byte {
	b := make([]byte, 0, 2+2*binary.MaxVarintLen64+len(h.path))
	b = append(b, headerVersion, h.kind)
	b = binary.AppendUvarint(b, h.a)
	b = binary.AppendUvarint(b, h.b)
	return append(b, h.path...)
}

func decodeHeader(p flow.Packet, kind byte) (openHeader, error) {
	b := p.Bytes()
	if p.IsValue() || len(b) < 2 {
		return openHeader{}, fmt.Errorf("%w: the flow's header is not a stream header", ErrProtocol)
	}
	if b[0] != headerVersion {
		return openHeader{}, fmt.Errorf("%w: stream header version %d, want %d", ErrProtocol, b[0], headerVersion)
	}
	if b[1] != kind {
		return openHeader{}, fmt.Errorf("%w: stream kind %q opened on a %q stream", ErrProtocol, b[1], kind)
	}
	h := openHeader{kind: kind}
	rest := b[2:]
	var n int
	if h.a, n = binary.Uvarint(rest); n <= 0 {
		return openHeader{}, fmt.Errorf("%w: bad stream header", ErrProtocol)
	}
	rest = rest[n:]
	if h.b, n = binary.Uvarint(rest); n <= 0 {
		return openHeader{}, fmt.Errorf("%w: bad stream header", ErrProtocol)
	}
	h.path = string(rest[n:])
	return h, nil
}

// item is one thing the serving side sent: raw bytes (owned) or a decoded
// value.
type item struct {
	data  []byte
	value any
}

// client runs one flow for a stream's client: a goroutine ranges the flow's
// result into in; out feeds the flow's packet iterator.
type client struct {
	cancel context.CancelFunc
	out    chan []byte   // packets to send; the iterator gives them back to pool
	in     chan item     // what the serving side sent, in order; closed at the end
	quit   chan struct{} // closed when the flow ended or the client closes
	finish chan struct{} // closed to end the packets (a graceful close)
	done   chan struct{} // closed when the range goroutine returned
	end    error         // why in was closed: io.EOF after a success; valid once in is closed

	quitOnce, finishOnce sync.Once
	pool                 sync.Pool // of *[]byte: packet buffers
}

// newClient starts the flow. decode converts a value packet on the range
// goroutine (the flow's decoder is for that goroutine only); nil keeps bytes.
func newClient(caller flow.Caller, name string, h openHeader, decode func(flow.Packet) (any, error)) *client {
	ctx, cancel := context.WithCancel(context.Background())
	c := &client{
		cancel: cancel,
		out:    make(chan []byte),
		in:     make(chan item, 1),
		quit:   make(chan struct{}),
		finish: make(chan struct{}),
		done:   make(chan struct{}),
	}
	results := flow.Call(ctx, caller, flow.Request{Name: name, Header: h.encode()}, c.packets)
	go func() {
		defer close(c.done)
		defer close(c.in)
		c.end = ErrClosed
		for p, err := range results {
			if err != nil {
				c.stopPackets()
				c.end = err
				return
			}
			if p.Final() {
				c.stopPackets()
				c.end = errEnded
				return
			}
			var it item
			if p.IsValue() && decode != nil {
				v, err := decode(p)
				if err != nil {
					c.stopPackets()
					c.end = fmt.Errorf("stream %q: decode a value: %w", name, err)
					return
				}
				it.value = v
			} else {
				it.data = append([]byte(nil), p.Bytes()...)
			}
			select {
			case c.in <- it:
			case <-ctx.Done():
				c.stopPackets()
				return
			}
		}
	}()
	return c
}

// errEnded marks a stream whose serving side ended it successfully.
var errEnded = errors.New("stream: ended")

func (c *client) stopPackets() { c.quitOnce.Do(func() { close(c.quit) }) }

// packets is the flow's packet iterator: it sends what send hands it.
func (c *client) packets(yield func([]byte) bool) {
	for {
		select {
		case b := <-c.out:
			ok := yield(b)
			c.putBuf(b)
			if !ok {
				return
			}
		case <-c.finish:
			return
		case <-c.quit:
			return
		}
	}
}

// send hands one packet to the flow; the packet must come from getBuf, and
// is not the caller's any more once sent.
func (c *client) send(b []byte, wait <-chan time.Time) error {
	select {
	case c.out <- b:
		return nil
	case <-c.quit:
		return c.endErr()
	case <-wait:
		return errTimeout
	}
}

// endErr is the error the flow ended with (errEnded after a success), waiting
// for the range goroutine to have decided it.
func (c *client) endErr() error {
	<-c.done
	return c.end
}

// recv waits for the next item. At the end of the flow it returns c.end
// (errEnded after a success).
func (c *client) recv(ctx context.Context, wait <-chan time.Time) (item, error) {
	select {
	case it, ok := <-c.in:
		if !ok {
			return item{}, c.end
		}
		return it, nil
	case <-ctx.Done():
		return item{}, ctx.Err()
	case <-wait:
		return item{}, errTimeout
	}
}

// close ends the flow at once and waits for the range goroutine.
func (c *client) close() {
	c.cancel()
	c.stopPackets()
	<-c.done
}

// closeGraceful ends the packets, so that the serving side sees the end of
// them and returns, then waits for the flow's end until wait fires.
func (c *client) closeGraceful(wait <-chan time.Time) error {
	c.finishOnce.Do(func() { close(c.finish) })
	for {
		select {
		case _, ok := <-c.in:
			if !ok {
				err := c.end
				c.close()
				if err == errEnded {
					return nil
				}
				return err
			}
		case <-wait:
			c.close()
			return errTimeout
		}
	}
}

// errTimeout is the error of a call that passed its deadline (SetDeadline):
// it matches os.ErrDeadlineExceeded, a net.Error whose Timeout is true.
var errTimeout = os.ErrDeadlineExceeded

// getBuf returns a packet buffer: a packet handed to the flow is copied into
// a chunk once yield returns, then comes back to the pool.
func (c *client) getBuf() []byte {
	if b, ok := c.pool.Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return make([]byte, 0, 64)
}

func (c *client) putBuf(b []byte) {
	if cap(b) > 1<<20 {
		return
	}
	b = b[:0]
	c.pool.Put(&b)
}
