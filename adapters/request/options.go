package request

import (
	"fmt"
	"math"
)

// Defaults for Options.
const (
	// DefaultMaxSize is the default Options.MaxSize: 1 MiB.
	DefaultMaxSize = 1 << 20
	// DefaultMaxLine is the default Options.MaxLine: 64 KiB.
	DefaultMaxLine = 64 << 10
)

// frameOverhead is the most bytes the binary frame adds around a payload:
// a fixarray header, "req", "ok" or "err" as a fixstr, and a 5-byte bin or
// str header; rounded up.
const frameOverhead = 16

// Options configure a Server, or one request made with Do. A nil *Options
// and the zero value give the defaults. Options are copied on entry:
// changing them afterwards has no effect.
type Options struct {
	// Lines selects line mode: the request is one line of text sent with
	// CRLF, and the reply is every byte the server sends until it closes
	// the connection. Both ends must use the same mode. Default false:
	// binary mode, msgpack frames over the TCP adapter's length prefix.
	Lines bool

	// MaxConcurrent is how many handlers a Server runs at once. Zero or 1:
	// one at a time, in the order requests are taken, on the goroutine
	// that called Serve or ServeOne (or the one Start started). n > 1: up
	// to n at once, each on a goroutine of its own. Negative: no limit.
	// Requests beyond the limit wait, one per connection, until a handler
	// is free. Do ignores it.
	MaxConcurrent int

	// MaxSize is the largest request or reply, in bytes. A client refuses
	// a bigger request before connecting and a bigger reply as it arrives
	// (ErrTooLarge); a server answers a bigger request, or a handler's
	// bigger reply, with an error. Default DefaultMaxSize.
	MaxSize int

	// MaxLine is, in line mode, the longest request line in bytes, its
	// line end aside. A client refuses a longer request (ErrLineTooLong);
	// a server answers one with an error line as soon as that many bytes
	// arrived without a line end. Binary mode ignores it. Default
	// DefaultMaxLine.
	MaxLine int
}

// resolve returns a copy of o with defaults applied, or an error for a
// value that cannot work.
func (o *Options) resolve() (Options, error) {
	var r Options
	if o != nil {
		r = *o
	}
	if r.MaxSize < 0 {
		return r, fmt.Errorf("request: Options.MaxSize is %d; use 0 for the default or a positive size", r.MaxSize)
	}
	if r.MaxLine < 0 {
		return r, fmt.Errorf("request: Options.MaxLine is %d; use 0 for the default or a positive length", r.MaxLine)
	}
	if r.MaxSize == 0 {
		r.MaxSize = DefaultMaxSize
	}
	if r.MaxLine == 0 {
		r.MaxLine = DefaultMaxLine
	}
	if uint64(r.MaxSize) > math.MaxUint32-2*frameOverhead {
		return r, fmt.Errorf("request: Options.MaxSize %d is more than the 4-byte frame length can carry", r.MaxSize)
	}
	return r, nil
}

// maxPayload is the transport's Config.MaxPayload for these options: room
// for a payload of MaxSize bytes in its frame, or for an error message cut
// to MaxSize bytes with its prefix.
func (o Options) maxPayload() int { return o.MaxSize + frameOverhead }
