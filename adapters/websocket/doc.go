// Package websocket is the WebSocket network adapter: a
// transport.Transport that moves whole payloads over WebSockets (RFC
// 6455), built on github.com/coder/websocket, so that browser clients
// (GOOS=js GOARCH=wasm, or JavaScript) can join a gonetic server.
//
// # Wire format
//
// Each payload travels as one binary WebSocket message: its first byte is
// the channel, the payload follows. Nothing else is added; gonetic's own
// handshake (docs/PROTOCOL.md) is the first payload, so a client needs no
// custom HTTP header, which browsers could not send anyway. A text message,
// an empty message or a channel byte at or beyond Config.Channels ends the
// link with a *transport.FrameError. The receiving Sink gets each payload
// on the channel it was sent on.
//
// A WebSocket is one TCP stream: every Delivery, Sequenced and Unsequenced
// included, is delivered reliably and in order, across channels too.
//
// # Size limit
//
// A message longer than a channel byte and Config.MaxPayload bytes is
// refused as it arrives: the link reads at most one byte past the limit,
// growing its buffer as the bytes come, never to the length the frame
// announces, then ends with a *transport.FrameError whose TooLarge is set.
// A Sink that implements transport.Farewell is told first and may send a
// last payload (package net sends bye with the reason); then the link
// closes gracefully with status 1009 (message too big), so the peer reads
// the farewell before the close. In the browser, which receives whole
// messages before Go sees them, the same check runs once the message is
// there.
//
// # Closing and close codes
//
// Close refuses further Sends, sends what is queued, then a close frame
// with status 1000 (normal closure), and delivers what arrives until the
// peer's close frame; the Sink then gets Closed(nil). Abort closes the TCP
// connection at once and drops the queue. A graceful close waits at most
// 5 s for the peer's close frame once its own is sent (coder/websocket's
// bound), and at most 15 s in all, queue included; past either the
// connection is closed regardless (past the 15 s the Sink gets
// ErrCloseTimeout).
//
// The status the peer closes with is what Sink.Closed reports: io.EOF for
// 1000 (normal closure) or a close frame without a status; a
// *transport.FrameError (TooLarge) for 1009, the peer refusing a message as
// too big; a *CloseError with the code and reason for any other, such as
// 1001 (going away) when a browser tab closes. A connection that ends
// without a close frame gives io.ErrUnexpectedEOF or the network's error.
// The link itself closes with 1009 after a message too large, 1003
// (unsupported data) after a text message and 1002 (protocol error) after
// another bad message. Browsers may send only 1000 and 3000 to 4999: in
// the browser the link sends 4009, 4003 and 4002 instead, and every link
// takes those as 1009, 1003 and 1002.
//
// # Server
//
// A Transport is also an http.Handler. Listen("host:port") runs an
// http.Server of its own that upgrades every path. Listen("") binds
// nothing: the game mounts the Transport in its own server, beside its
// pages, and the listener gets the upgrades that reach it:
//
//	ws := websocket.New(websocket.Options{})
//	mux.Handle("/play", ws)
//	ln, err := ws.Listen("", cfg, accept)
//
// Before that listener exists and after it closed, ServeHTTP answers 503.
// Browsers send an Origin header; by default only pages of the server's own
// host are accepted (and clients without Origin, which browsers are not),
// so that another site cannot open connections with a visitor's browser;
// Options.OriginPatterns widens it.
//
// # TLS (wss)
//
// Dial dials wss:// URLs over TLS (crypto/tls): Options.TLS.RootCAs says
// which authorities to trust (nil: the system's), and with Options.TLS a
// plain "host:port" means wss://host:port/ while a ws:// URL is refused,
// never dialled in the clear. A failed handshake's error says what to
// change (for an unknown authority: RootCAs). In the browser the browser
// does TLS: Dial("wss://...") works there with the certificates the
// browser trusts, and a page served over https may only open wss.
//
// On the server, TLS belongs to the http.Server: a mounted Transport
// (Listen("")) serves wss when the game's server runs ListenAndServeTLS,
// and Listen("host:port") serves wss itself with Options.TLS's
// Certificates. The origin check is the same over wss (the page's origin
// is then https://host). docs/SECURITY.md says when to use TLS and when
// gonetic's connect tokens, which also work over WebSocket.
//
// # Goroutines and memory
//
// A link runs two goroutines: the reader reads each message into a 4 KiB
// buffer (grown for a larger one, then dropped) and hands it to
// Sink.Receive as a slice of it, no allocation per message; the writer
// writes what Send queued. While Receive blocks, the reader stops reading
// and TCP flow control slows the peer. Send never blocks on the network:
// it copies the payload into the queue; past Options.MaxQueued queued
// bytes it returns ErrQueueFull. A peer that does not read is dropped:
// when a write does not finish, or Send finds the queue full, for
// Options.WriteTimeout, the link closes with ErrTooSlow (which matches
// transport.ErrTooSlow).
//
// Listener.Close stops upgrading, closes every live link it accepted
// gracefully and returns when all their goroutines are done.
//
// Every method of a Transport, a Link and a Listener is safe to call from
// any goroutine, Sinks and the Accept included, except Listener.Close,
// which waits for those and so must not be called from them.
//
// # Browser
//
// Dial works in the browser (GOOS=js GOARCH=wasm) through its WebSocket
// API; Listen there fails and ServeHTTP answers 501. A browser cannot drop
// a connection without the close handshake: there Abort drops the queue
// and closes with 1000, without waiting, and the peer sees a normal
// closure.
package websocket
