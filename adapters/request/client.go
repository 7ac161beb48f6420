package request

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	stdnet "net"
	"time"

	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/net/transport"
)

// DoRequest sends request to the Server at address ("host:port") over a
// fresh connection, in binary mode with the default limits, and returns
// the reply. It is Do(ctx, address, request, nil).
func DoRequest(ctx context.Context, address string, request []byte) ([]byte, error) {
	return Do(ctx, address, request, nil)
}

// DoString is DoRequest for text: it sends request in binary mode and
// returns the reply as a string.
func DoString(ctx context.Context, address, request string) (string, error) {
	reply, err := Do(ctx, address, []byte(request), nil)
	return string(reply), err
}

// DoLineRequest sends request as one line of text (CRLF is added) to the
// line-mode server at address, which may be a Server with Options.Lines or
// any text server that answers a line and closes the connection: telnet
// style protocols, HTTP/1.0. It returns every byte the server sent until it
// closed the connection. A request that ends in CRLF sends an empty line
// after its line, which ends an HTTP/1.0 request head:
//
//	DoLineRequest(ctx, "example.com:80", "GET / HTTP/1.0\r\n")
//
// It is Do(ctx, address, []byte(request), &Options{Lines: true}).
func DoLineRequest(ctx context.Context, address, request string) (string, error) {
	reply, err := Do(ctx, address, []byte(request), &Options{Lines: true})
	return string(reply), err
}

// Do sends request to address over a fresh connection and returns the
// reply, in the mode and within the limits of opts (nil means binary mode
// and the defaults). Safe to call from any goroutine, concurrently.
//
// ctx bounds the whole request, connecting included; without a deadline Do
// waits for the reply as long as the connection lasts. The errors tell the
// outcomes apart:
//
//   - the reply came: the reply, possibly empty (len 0), and nil;
//   - the server's handler failed or panicked: a *RemoteError (binary mode);
//   - ctx's deadline passed: an error matching ErrTimeout and
//     context.DeadlineExceeded, a net.Error whose Timeout is true;
//   - ctx was cancelled: an error matching context.Canceled;
//   - nothing accepts connections at address: a *DialError;
//   - the connection closed without a whole reply: an error matching
//     ErrNoReply;
//   - the peer answered with bytes that are no reply frame (an HTTP
//     server, a line-mode server): an error matching ErrForeignPeer that
//     quotes its first bytes;
//   - a request or reply over opts.MaxSize: an error matching ErrTooLarge;
//   - in line mode, a request that is not one line: ErrLineBreak or an
//     error matching ErrLineTooLong, before connecting.
//
// Do returns once the connection is closed: it leaves no goroutine behind.
func Do(ctx context.Context, address string, request []byte, opts *Options) ([]byte, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	if len(request) > o.MaxSize {
		return nil, fmt.Errorf("%w: request of %d bytes, limit %d", ErrTooLarge, len(request), o.MaxSize)
	}
	if o.Lines {
		if err := checkLine(request, o.MaxLine); err != nil {
			return nil, err
		}
		return doLine(ctx, address, request, o)
	}
	return doBinary(ctx, address, request, o)
}

// call is the Sink of a binary request's link: it keeps the first frame
// that arrives, or the reason the link closed before one did.
type call struct {
	address string
	got     chan struct{} // closed once reply or err is set
	closed  chan struct{} // closed by Closed: the link's goroutines are done
	seen    bool          // Receive and Closed only, which never overlap
	reply   []byte
	err     error
	foreign []byte // the first bytes of a peer that does not speak the protocol: set by Split, before Closed
}

// foreignShown is how many of a foreign peer's first bytes its error quotes.
const foreignShown = 16

// replyFraming is the Binary framing that also recognises a peer that does
// not speak this protocol, from the first bytes it sends: every frame of a
// reply holds a msgpack fixarray of 2 (0x92) and is never empty. Without
// it, an HTTP server's answer "HTTP/1.1 400 …" reads as a frame of
// 1 213 486 160 bytes ("HTTP" as a length) and the error says the reply is
// too large. Split is called on the link's reader goroutine only.
type replyFraming struct{ c *call }

func (f replyFraming) AppendFrame(dst, payload []byte) ([]byte, error) {
	return tcp.Binary{}.AppendFrame(dst, payload)
}

func (replyFraming) Overhead(max int) (int, error) { return tcp.Binary{}.Overhead(max) }

func (f replyFraming) Split(b []byte, scanned, max int) (start, end, size int, err error) {
	if len(b) >= 4 {
		n := binary.BigEndian.Uint32(b)
		if n == 0 || len(b) > 4 && b[4] != 0x92 {
			f.c.foreign = append([]byte(nil), b[:min(len(b), foreignShown+1)]...)
			return 0, 0, 0, &transport.FrameError{Reason: fmt.Sprintf("not a reply frame: %q", f.c.foreign)}
		}
		if uint64(n) > uint64(max) && len(b) == 4 {
			return 0, 0, 0, nil // the next byte tells a long reply from a foreign peer
		}
	}
	return tcp.Binary{}.Split(b, scanned, max)
}

func (c *call) Receive(_ uint8, frame []byte) {
	if c.seen {
		return
	}
	c.seen = true
	reply, remote, err := decodeReply(frame)
	switch {
	case err != nil:
		c.err = fmt.Errorf("malformed reply: %w", err)
	case remote != nil:
		c.err = remote
	default:
		c.reply = reply
	}
	close(c.got)
}

func (c *call) Closed(err error) {
	if !c.seen {
		c.seen = true
		var fe *transport.FrameError
		switch {
		case c.foreign != nil:
			c.err = &foreignPeerError{address: c.address, first: c.foreign}
		case errors.As(err, &fe):
			c.err = fmt.Errorf("reply %w: %w", ErrTooLarge, err)
		case err == nil || err == io.EOF:
			c.err = ErrNoReply
		default:
			c.err = fmt.Errorf("%w: %w", ErrNoReply, err)
		}
		close(c.got)
	}
	close(c.closed)
}

// doBinary makes a binary-mode request over the TCP adapter.
func doBinary(ctx context.Context, address string, request []byte, o Options) ([]byte, error) {
	c := &call{address: address, got: make(chan struct{}), closed: make(chan struct{})}
	cfg := transport.Config{MaxPayload: o.maxPayload()}
	link, err := tcp.New(tcp.Options{Framing: replyFraming{c}}).Dial(ctx, address, cfg, c)
	if err != nil {
		return nil, dialError(ctx, address, err)
	}
	if err := link.Send(0, transport.Reliable, appendRequest(nil, request)); err != nil {
		link.Abort()
		<-c.closed
		if c.foreign != nil { // the peer answered before we asked: it says why
			return nil, c.err
		}
		return nil, fmt.Errorf("request: %s: %w", address, err)
	}
	select {
	case <-c.got:
	case <-ctx.Done():
		select {
		case <-c.got: // the reply won the race
		default:
			link.Abort()
			<-c.closed
			return nil, contextError(ctx, address, "waiting for the reply")
		}
	}
	// The request is out and the reply in: nothing is left to send, so
	// close at once; the server's graceful close sees our end of stream.
	link.Abort()
	<-c.closed
	if c.err != nil {
		var remote *RemoteError
		if errors.As(c.err, &remote) {
			return nil, remote
		}
		if c.foreign != nil {
			return nil, c.err
		}
		return nil, fmt.Errorf("request: %s: %w", address, c.err)
	}
	if len(c.reply) > o.MaxSize {
		return nil, fmt.Errorf("request: %s: reply %w: %d bytes, limit %d", address, ErrTooLarge, len(c.reply), o.MaxSize)
	}
	return c.reply, nil
}

// doLine makes a line-mode request over a plain TCP connection: the reply
// is an unframed byte stream that ends when the server closes, which no
// framing of the TCP adapter delivers whole.
func doLine(ctx context.Context, address string, request []byte, o Options) ([]byte, error) {
	var d stdnet.Dialer
	conn, err := d.DialContext(ctx, "tcp", address)
	if err != nil {
		return nil, dialError(ctx, address, err)
	}
	defer conn.Close()
	// Cancelling ctx unblocks the read or write in progress.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	msg := make([]byte, 0, len(request)+len(crlf))
	msg = append(append(msg, request...), crlf...)
	if _, err := conn.Write(msg); err != nil {
		if ctx.Err() != nil {
			return nil, contextError(ctx, address, "sending the request")
		}
		return nil, fmt.Errorf("request: %s: sending the request: %w", address, err)
	}
	reply, err := io.ReadAll(io.LimitReader(conn, int64(o.MaxSize)+1))
	if ctx.Err() != nil {
		return nil, contextError(ctx, address, "waiting for the reply")
	}
	if err != nil {
		return nil, fmt.Errorf("request: %s: %w after %d bytes: %w", address, ErrNoReply, len(reply), err)
	}
	if len(reply) > o.MaxSize {
		return nil, fmt.Errorf("request: %s: reply %w (limit %d bytes)", address, ErrTooLarge, o.MaxSize)
	}
	return reply, nil
}
