// Package request is request/reply over TCP: a client sends one request
// over a fresh connection and gets one reply; a Server answers each with a
// Handler. It is yoton's clientserver, with the failures told apart: a
// timeout is an error (ErrTimeout), never an empty reply; a handler's
// error or panic reaches the client as a *RemoteError and the server keeps
// serving; nothing listening is a *DialError; a request that cannot travel
// as one line is an error, never a truncated message.
//
//	srv, err := request.NewServer("127.0.0.1:0", request.StringHandler(
//		func(ctx context.Context, req string) (string, error) {
//			return strings.ToUpper(req), nil
//		}), nil)
//	...
//	srv.Start()       // or srv.Serve(ctx) on the game loop's goroutine
//	defer srv.Close() // or srv.Shutdown(ctx)
//
//	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
//	defer cancel()
//	reply, err := request.DoString(ctx, srv.Addr(), "hello") // "HELLO"
//
// # Serving
//
// A Server listens from NewServer on and answers requests when asked to:
// Serve answers them on the caller's goroutine until its context is done,
// ServeOne answers exactly one, Start answers them on a goroutine of the
// Server's own until Close. Options.MaxConcurrent chooses between one
// request at a time (the default) and many at once. A Server holds no
// package-level state: a program may run several, on different ports.
//
// # Binary mode (the default)
//
// The connection carries frames of the TCP adapter (package
// adapters/tcp, Binary framing): each frame is a 4-byte big-endian
// unsigned length, then that many bytes of payload. Each payload is one
// MessagePack array of two values:
//
//	client → server   ["req", request]   request: bin (str and nil accepted)
//	server → client   ["ok",  reply]     reply: bin (str and nil accepted)
//	              or  ["err", message]   message: str (bin accepted)
//
// The first element is a str. The client opens a connection, sends one
// "req" frame and keeps its side open until the reply; the server sends
// one "ok" or "err" frame and closes (half-closes, then waits for the
// client's end of stream); the client then closes. Frames after the first
// are ignored on both sides. A client that closes before the reply has
// given up: the server cancels the handler's context. A nil payload reads
// as an empty one. For example the request "hi" is the 13 bytes
//
//	00 00 00 09  92  a3 72 65 71  c4 02 68 69
//
// that is, length 9, then fixarray(2), fixstr "req", bin8 of 2 bytes "hi".
//
// A request over the server's Options.MaxSize, a malformed request frame
// and a handler's reply over Options.MaxSize are answered with an "err"
// frame; a handler's error with "err" and its Error() text; a handler's
// panic with "err" and "panic: " followed by the panic value. A frame on
// the wire is at most Options.MaxSize plus 16 bytes; an error message is
// cut to Options.MaxSize bytes.
//
// # Line mode (Options.Lines, DoLineRequest)
//
// The telnet-like text convention: the client sends the request and CRLF,
// then reads the reply until the server closes the connection. Nothing
// else is on the wire, so a line-mode client also talks to ordinary text
// servers, HTTP/1.0 among them, and a line-mode Server to nc and telnet
// users:
//
//	$ echo hello | nc -N 127.0.0.1 7000
//
// A line-mode request is one line: a CR or LF in it is ErrLineBreak at the
// client, except one final CRLF, which makes the client send its line then
// an empty line (the end of an HTTP/1.0 request head). The server reads
// the first line, ending in LF or CRLF (the line end is not part of the
// request), ignores anything after it, sends the handler's reply as it is
// (no line end is added) and closes. A line over Options.MaxLine is refused
// by the client (ErrLineTooLong) and answered by the server, as soon as
// that many bytes came without a line end. A line-mode answer to a failure
// (a handler's error or panic, a line too long) is the text "error: ", the
// message on one line, and CRLF; the protocol has nothing else to mark it,
// so a line-mode client returns it as the reply. In line mode the server
// does not watch the connection while the handler runs (a client may
// half-close once its line is sent), so the handler's context is not
// cancelled when the client gives up.
//
// # Timeouts and errors
//
// Every request takes a context, which bounds it all, connecting
// included. When its deadline passes first, the error matches ErrTimeout
// and context.DeadlineExceeded and is a net.Error whose Timeout reports
// true; an empty reply is a nil error. A binary-mode client tells a peer
// that does not speak this protocol (an HTTP server, a line-mode server
// that answered) from the first bytes it sends: every reply frame holds a
// fixarray of 2 (0x92) after its length; anything else is an error
// matching ErrForeignPeer that quotes those bytes, never a reply "too
// large". See Do for every outcome.
//
// # Goroutines
//
// Do and its shorthands return once their connection is closed and leave
// no goroutine behind. A Server runs the TCP adapter's goroutines (an
// accept loop, two per connection), the goroutine of Start, and one per
// running handler when Options.MaxConcurrent allows several; Close and
// Shutdown wait for all of them.
package request
