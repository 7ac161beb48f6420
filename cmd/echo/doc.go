// Command echo is an echo server in the style of Twisted's reactor: one
// Protocol value per connection, told when the connection is made, when
// data arrives and when the connection is lost.
//
// It speaks the byte-count protocol of Twisted's echo example: a client
// sends frames of the form "<decimal length><space><data>", and the server
// writes back each frame's data, bare:
//
//	$ go run ./cmd/echo -addr 127.0.0.1:8007 &
//	$ printf '5 hello' | nc -q1 127.0.0.1 8007
//	hello
//
// (With netcat-openbsd, -q1 quits one second after the input ends; -N
// instead half-closes the connection at once, and the server's answer and
// end of stream then end nc.) A malformed or oversized frame closes the
// connection, before the oversized data is read, once the echoes of the
// frames before it are sent; nothing after it is echoed.
//
// The server runs under package net/daemon: it logs to stderr, prints
// "listening on ADDR" on stdout once it accepts connections, writes a
// pidfile with -pidfile, and stops gracefully on SIGINT or SIGTERM.
//
// Usage (a built binary shares its name with the shell's echo: call it by
// its path):
//
//	./echo [-addr host:port] [-max bytes] [-pidfile path] [-stop-timeout duration]
//
// The default address is 127.0.0.1:8007, the largest frame 64 KiB, and the
// stop timeout 5s.
package main
