package request

import (
	"bytes"
	"fmt"

	"github.com/gonetic/gonetic/adapters/msgpack"
	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/message"
)

// The first element of every binary frame.
const (
	kindRequest = "req"
	kindOK      = "ok"
	kindError   = "err"
)

// appendRequest appends the frame ["req", request] to dst.
func appendRequest(dst, request []byte) []byte {
	w := msgpack.New().NewWriter()
	w.Reset(dst)
	w.Array(2)
	w.String(kindRequest)
	w.Bytes(request)
	w.End()
	return w.Buffer()
}

// appendOK appends the frame ["ok", reply] to dst.
func appendOK(dst, reply []byte) []byte {
	w := msgpack.New().NewWriter()
	w.Reset(dst)
	w.Array(2)
	w.String(kindOK)
	w.Bytes(reply)
	w.End()
	return w.Buffer()
}

// appendError appends the frame ["err", message] to dst.
func appendError(dst []byte, message string) []byte {
	w := msgpack.New().NewWriter()
	w.Reset(dst)
	w.Array(2)
	w.String(kindError)
	w.String(message)
	w.End()
	return w.Buffer()
}

// decodeRequest returns the payload of a ["req", payload] frame, never nil.
func decodeRequest(frame []byte) ([]byte, error) {
	r, kind, err := openFrame(frame)
	if err != nil {
		return nil, err
	}
	if kind != kindRequest {
		return nil, fmt.Errorf("frame kind %q, want %q", kind, kindRequest)
	}
	p, err := r.Bytes()
	if err != nil {
		return nil, fmt.Errorf("request payload: %w", err)
	}
	if err := closeFrame(r); err != nil {
		return nil, err
	}
	if p == nil {
		p = []byte{}
	}
	return p, nil
}

// decodeReply returns the payload of an ["ok", payload] frame, never nil,
// or a *RemoteError for an ["err", message] frame, or the error that makes
// the frame unreadable (of another type).
func decodeReply(frame []byte) (reply []byte, remote *RemoteError, err error) {
	r, kind, err := openFrame(frame)
	if err != nil {
		return nil, nil, err
	}
	switch kind {
	case kindOK:
		p, err := r.Bytes()
		if err != nil {
			return nil, nil, fmt.Errorf("reply payload: %w", err)
		}
		if err := closeFrame(r); err != nil {
			return nil, nil, err
		}
		if p == nil {
			p = []byte{}
		}
		return p, nil, nil
	case kindError:
		m, err := r.String()
		if err != nil {
			return nil, nil, fmt.Errorf("error message: %w", err)
		}
		if err := closeFrame(r); err != nil {
			return nil, nil, err
		}
		return nil, &RemoteError{Message: m}, nil
	}
	return nil, nil, fmt.Errorf("frame kind %q, want %q or %q", kind, kindOK, kindError)
}

// openFrame reads the array header and the kind of a frame.
func openFrame(frame []byte) (message.Reader, string, error) {
	r := msgpack.New().NewReader()
	r.Reset(frame)
	n, err := r.Array()
	if err != nil {
		return nil, "", fmt.Errorf("frame: %w", err)
	}
	if n != 2 {
		return nil, "", fmt.Errorf("frame is an array of %d values, want 2", n)
	}
	kind, err := r.String()
	if err != nil {
		return nil, "", fmt.Errorf("frame kind: %w", err)
	}
	return r, kind, nil
}

// closeFrame checks that nothing follows the frame's array.
func closeFrame(r message.Reader) error {
	if err := r.End(); err != nil {
		return err
	}
	if l, ok := r.(interface{ Len() int }); ok && l.Len() != 0 {
		return fmt.Errorf("%d bytes after the frame", l.Len())
	}
	return nil
}

// crlf ends a line-mode request, and the server's error line.
var crlf = []byte("\r\n")

// checkLine checks a line-mode request: no CR or LF but one final CRLF,
// and a line of at most limit bytes.
func checkLine(request []byte, limit int) error {
	line := bytes.TrimSuffix(request, crlf)
	if bytes.ContainsAny(line, "\r\n") {
		return ErrLineBreak
	}
	if len(line) > limit {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrLineTooLong, len(line), limit)
	}
	return nil
}

// errorLine is a line-mode server's answer to a failed request: "error: ",
// message on one line, CRLF.
func errorLine(message string) []byte {
	b := make([]byte, 0, len("error: ")+len(message)+len(crlf))
	b = append(b, "error: "...)
	for i := 0; i < len(message); i++ {
		c := message[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		b = append(b, c)
	}
	return append(b, crlf...)
}

// lineFraming is a line-mode server's framing: it reads lines ending in LF
// or CRLF, up to limit bytes, like tcp.Lines, and sends replies as they
// are, unframed, since the reply ends when the connection does.
type lineFraming struct{ limit int }

var _ tcp.Framing = lineFraming{}

func (lineFraming) AppendFrame(dst, payload []byte) ([]byte, error) {
	return append(dst, payload...), nil
}

func (f lineFraming) Split(b []byte, scanned, _ int) (start, end, size int, err error) {
	return tcp.Lines{}.Split(b, scanned, f.limit)
}

func (lineFraming) Overhead(int) (int, error) { return len(crlf), nil }

// cut shortens an error message to at most n bytes.
func cut(message string, n int) string {
	if len(message) <= n {
		return message
	}
	return message[:n]
}
