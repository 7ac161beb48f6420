package stream

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"sync"

	"github.com/gonetic/gonetic/adapters/flow"
)

// Policy says what an entity stream does when its reader reaches the end
// of the values the source has.
type Policy uint8

const (
	// EndAtEnd ends the stream when the reader reaches the source's end as
	// it is then: for a Log, the last value appended so far. The default.
	EndAtEnd Policy = 0
	// Follow makes the reader wait at the end for values added later; the
	// stream ends when the source finishes (Log.Finish), fails, or either
	// end closes.
	Follow Policy = 1
)

// String returns "end-at-end" or "follow".
func (p Policy) String() string {
	switch p {
	case EndAtEnd:
		return "end-at-end"
	case Follow:
		return "follow"
	}
	return fmt.Sprintf("Policy(%d)", uint8(p))
}

// Open is what a client asked for when it opened a stream, as the serving
// side's source or opener sees it.
type Open struct {
	// Name is the stream's name (the flow handler's).
	Name string
	// Path is the client's EntityConfig.Path or FileConfig.Path: which of
	// the things served under Name it wants. Empty by default.
	Path string
	// Policy is the client's end-of-stream policy (entity streams).
	Policy Policy
	// ReadAhead is the client's read-ahead window in values (entity
	// streams); informational: the serving side produces only what was
	// asked for.
	ReadAhead int
	// Mode is the mode the client asked for (byte streams); 0 means all
	// the opener allows.
	Mode Mode
	// Flow is the flow that carries the stream.
	Flow *flow.Flow
}

// Source opens the sequence of values that one client reads. It runs on
// the flow's goroutine, once per client. The sequence is pulled one value
// per value the client asked for, never ahead; it ends the stream by
// ending (the client's iteration ends too) or by yielding a non-nil error,
// whose text reaches the client. It must return soon after ctx is done (the
// client left or the server closes), even when it blocks waiting for
// values. An error from Source itself refuses the stream.
type Source[T any] func(ctx context.Context, o Open) (iter.Seq2[T, error], error)

// SeqSource serves seq to every client, from its start, whatever the
// client's policy: seq's end is the stream's end.
func SeqSource[T any](seq iter.Seq[T]) Source[T] {
	return func(ctx context.Context, o Open) (iter.Seq2[T, error], error) {
		return func(yield func(T, error) bool) {
			for v := range seq {
				if !yield(v, nil) {
					return
				}
			}
		}, nil
	}
}

// ServeEntities serves an entity stream under name on m: each client that
// opens it (OpenEntities) reads the sequence src opens for it.
//
// The values travel encoded with the flow's codec (msgpack by default);
// clients decode them into their own type, which must accept the encoding
// (the same struct, or a map[string]any).
func ServeEntities[T any](m Mux, name string, src Source[T]) error {
	if src == nil {
		return errors.New("stream: ServeEntities with a nil Source")
	}
	return m.HandleFunc(name, func(f *flow.Flow, r *flow.Reply) (any, error) {
		h, err := decodeHeader(f.Header(), kindEntities)
		if err != nil {
			return nil, err
		}
		ctx := f.Context()
		seq, err := src(ctx, Open{Name: name, Path: h.path, Policy: Policy(h.a), ReadAhead: int(h.b), Flow: f})
		if err != nil {
			return nil, err
		}
		next, stop := iter.Pull2(seq)
		defer stop()
		if err := r.Send([]byte{entHello}); err != nil {
			return nil, err
		}
		demand := uint64(0)
		for p, err := range f.Packets() {
			if err != nil {
				return nil, err
			}
			n, k := binary.Uvarint(p.Bytes())
			if k <= 0 || k != p.Len() || p.IsValue() {
				return nil, fmt.Errorf("%w: bad demand packet", ErrProtocol)
			}
			demand += n
			for ; demand > 0; demand-- {
				v, err, ok := next()
				if !ok {
					return nil, nil
				}
				if err != nil {
					return nil, err
				}
				if err := r.Send(v); err != nil {
					return nil, err
				}
			}
		}
		return nil, nil // the client closed
	})
}

// entHello is the serving side's first message on an entity stream: the
// source is open.
const entHello = 'h'

// EntityConfig configures OpenEntities. The zero value reads on demand and
// ends at the source's end.
type EntityConfig struct {
	// ReadAhead is how many values the serving side produces ahead of the
	// reader: after the reader took k values, the source has produced at
	// most k+ReadAhead. 0 (the default) fetches each value on demand, one
	// request and one round trip per value.
	ReadAhead int
	// Policy is what happens at the end of the values: EndAtEnd (the
	// default) or Follow.
	Policy Policy
	// Path is passed to the serving side's Source (Open.Path).
	Path string
}

// Entities is the client side of an entity stream: values of type T, read
// in order with Next or All. One goroutine at a time may call Next or All;
// Close may be called from any goroutine, at any time.
type Entities[T any] struct {
	c         *client
	readAhead int
	refillAt  int // send a refill once this many values were taken

	mu      sync.Mutex // guards the fields below; held by Next
	asked   int        // values asked for and not yet received
	taken   int        // values taken since the last refill
	err     error      // sticky: the error (or io.EOF) the stream ended with
	closeMu sync.Mutex // guards closed
	closed  bool
}

// OpenEntities opens the entity stream named name at the other end of to
// (a *flow.Client, or a Station's connection: Station.Over), and waits
// until its source is open, or ctx is done. ctx bounds the opening only.
func OpenEntities[T any](ctx context.Context, to flow.Caller, name string, cfg EntityConfig) (*Entities[T], error) {
	if cfg.ReadAhead < 0 {
		return nil, fmt.Errorf("stream: EntityConfig.ReadAhead %d is negative", cfg.ReadAhead)
	}
	if cfg.Policy > Follow {
		return nil, fmt.Errorf("stream: unknown %v", cfg.Policy)
	}
	h := openHeader{kind: kindEntities, a: uint64(cfg.Policy), b: uint64(cfg.ReadAhead), path: cfg.Path}
	c := newClient(to, name, h, func(p flow.Packet) (any, error) {
		var v T
		err := p.Decode(&v)
		return v, err
	})
	s := &Entities[T]{c: c, readAhead: cfg.ReadAhead, refillAt: max(1, cfg.ReadAhead/4)}
	if cfg.ReadAhead > 0 && s.demand(cfg.ReadAhead) == nil {
		s.asked = cfg.ReadAhead
	}
	it, err := c.recv(ctx, nil)
	if err == nil && (it.value != nil || len(it.data) != 1 || it.data[0] != entHello) {
		err = fmt.Errorf("%w: stream %q: no hello from the serving side", ErrProtocol, name)
	}
	if err != nil {
		c.close()
		if err == errEnded {
			err = fmt.Errorf("%w: stream %q ended before it opened", ErrProtocol, name)
		}
		return nil, err
	}
	return s, nil
}

// demand asks the serving side for n more values.
func (s *Entities[T]) demand(n int) error {
	b := binary.AppendUvarint(s.c.getBuf(), uint64(n))
	if err := s.c.send(b, nil); err != nil {
		s.c.putBuf(b)
		return err
	}
	return nil
}

// Next returns the next value. At the end of the stream it returns io.EOF;
// when the source failed, the connection broke or the serving side closed,
// an error (a *flow.Error: the source's error matches flow.ErrHandler and
// carries its text). Those are final: every later call returns them. When
// ctx ends first, Next returns ctx's error and the stream stays usable.
func (s *Entities[T]) Next(ctx context.Context) (T, error) {
	var zero T
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.isClosed() {
		return zero, ErrClosed
	}
	if s.err != nil {
		return zero, s.err
	}
	// A demand fails only when the flow is over; recv then reports why,
	// after the values that came before the end.
	if s.asked == 0 && s.demand(1) == nil {
		s.asked = 1
	}
	it, err := s.c.recv(ctx, nil)
	if err != nil {
		if errors.Is(err, ctx.Err()) && ctx.Err() != nil {
			return zero, err
		}
		return zero, s.fail(err)
	}
	s.asked--
	if s.readAhead > 0 {
		if s.taken++; s.taken >= s.refillAt && s.demand(s.taken) == nil {
			s.asked += s.taken
			s.taken = 0
		}
	}
	v, ok := it.value.(T)
	if !ok {
		if it.value == nil && it.data != nil {
			// A raw packet: T is a []byte kind.
			if err := decodeRaw(&v, it.data); err != nil {
				return zero, s.fail(err)
			}
			return v, nil
		}
		return zero, s.fail(fmt.Errorf("%w: value of type %T, want %T", ErrProtocol, it.value, zero))
	}
	return v, nil
}

// decodeRaw stores raw bytes into v, which must be a *[]byte.
func decodeRaw(v any, data []byte) error {
	if p, ok := v.(*[]byte); ok {
		*p = data
		return nil
	}
	return fmt.Errorf("%w: raw value for %T", ErrProtocol, v)
}

// fail records the error the stream ended with.
func (s *Entities[T]) fail(err error) error {
	if err == errEnded {
		err = io.EOF
	}
	if s.isClosed() {
		err = ErrClosed
	}
	s.err = err
	return err
}

func (s *Entities[T]) isClosed() bool {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	return s.closed
}

// All returns an iterator over the rest of the stream: it yields each
// value with a nil error, and ends at the end of the stream, or after
// yielding (zero, err) once for an error (ctx's end included). Breaking
// out of the loop leaves the stream open: Close it when done.
func (s *Entities[T]) All(ctx context.Context) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for {
			v, err := s.Next(ctx)
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(v, err)
				return
			}
			if !yield(v, nil) {
				return
			}
		}
	}
}

// Close ends the stream: the serving side's source is stopped (its context
// is done), and a Next blocked meanwhile returns ErrClosed. It waits for the
// stream's goroutines. Idempotent.
func (s *Entities[T]) Close() error {
	s.closeMu.Lock()
	s.closed = true
	s.closeMu.Unlock()
	s.c.close()
	return nil
}

// Log is a growing, append-only source of values: serve it with
// ServeEntities(m, name, log.Source()). Every reader starts at its first
// value. With EndAtEnd a reader's stream ends when it reaches the last
// value appended so far; with Follow it waits for more until Finish. The
// zero value is an empty Log, ready to use; all methods are safe for
// concurrent use.
type Log[T any] struct {
	mu       sync.Mutex // guards the fields below
	vals     []T
	finished bool
	grew     chan struct{} // closed and replaced when vals grow or finished is set
}

// Append adds values at the end; Follow readers waiting at the end wake.
// Appending after Finish is ignored.
func (l *Log[T]) Append(v ...T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.finished {
		return
	}
	l.vals = append(l.vals, v...)
	l.wakeLocked()
}

// Finish marks the end of the Log: Follow readers end after its last value.
func (l *Log[T]) Finish() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.finished = true
	l.wakeLocked()
}

// Len is the number of values appended so far.
func (l *Log[T]) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.vals)
}

func (l *Log[T]) wakeLocked() {
	if l.grew != nil {
		close(l.grew)
		l.grew = nil
	}
}

// at returns the value at i, or a channel to wait on when there is none yet
// (nil when there will be none).
func (l *Log[T]) at(i int) (v T, ok bool, wait <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if i < len(l.vals) {
		return l.vals[i], true, nil
	}
	if l.finished {
		return v, false, nil
	}
	if l.grew == nil {
		l.grew = make(chan struct{})
	}
	return v, false, l.grew
}

// Source returns the Log as a Source: each reader from its first value,
// with its own policy.
func (l *Log[T]) Source() Source[T] {
	return func(ctx context.Context, o Open) (iter.Seq2[T, error], error) {
		return func(yield func(T, error) bool) {
			for i := 0; ; i++ {
				v, ok, wait := l.at(i)
				for !ok {
					if o.Policy != Follow || wait == nil {
						return
					}
					select {
					case <-wait:
					case <-ctx.Done():
						var zero T
						yield(zero, context.Cause(ctx))
						return
					}
					v, ok, wait = l.at(i)
				}
				if !yield(v, nil) {
					return
				}
			}
		}, nil
	}
}
