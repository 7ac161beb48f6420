// Package net is gonetic's game loop side: a Server that accepts
// connections, a Client that makes them, and Update, which a game calls
// every frame to have what arrived delivered on its own goroutine.
//
// Its name is the one the layout fixes; a game imports it under an alias,
// as every example here does:
//
//	import gnet "github.com/gonetic/gonetic/net"
//
// # The model
//
// Both ends register the same message types, in the same order, in a
// message.Factory (NewFactory gives one with the default codec, msgpack):
// the order is the type id, and a handshake refuses a peer whose registry
// differs, telling both sides where. A message is a Go struct, sent with
// Conn.Send, or several at once with Server.SendTo and Server.Broadcast,
// which encode it once.
//
// A connection has a handler: a struct whose methods are named after the
// message types (chat_msg → NetChatMsg(m Chat)), plus OnConnect,
// OnDisconnect and OnReceive if it wants them (see package handler). A
// server makes one per accepted connection with ServerConfig.NewHandler.
// Embedding Handler gives it its Conn and Server. Programs that prefer
// functions register them with On, and programs that prefer polling turn
// on Config.EventQueue and drain Poll.
//
// Nothing calls game code behind its back: the adapters' goroutines only
// queue what arrives, and handlers run inside Update(timeout), which waits
// at most timeout for something to arrive (0: it never waits), then
// delivers everything that did. A game loop calls it once a frame, and
// needs no locks. A message is decoded and checked whole before any
// handler sees it: a peer that sends a malformed one is disconnected with
// the reason, and the message reaches no game code. A message handed to a
// handler or an event is the game's to keep: its strings and slices are
// never reused.
//
// The registry can say which side sends a type (message.SentBy): a Server
// and a Client then refuse to send it the wrong way (message.ErrDirection),
// and a peer that does is disconnected before its message is decoded.
//
// A server may also connect to another server (Server.Connect): the
// connection it dials plays the client's part, handshake and message
// directions included, and is otherwise one of its connections, with the
// same handlers, Update, SendTo and Broadcast as those it accepted. Game
// servers linked to each other use it.
//
// A server may choose whom it lets in: a client sends data with its
// handshake (WithHello: a login, a token), ServerConfig.Approve judges it
// off the game loop, and the value it returns is the connection's
// Identity. Until it accepts, no handler, event or broadcast sees the
// connection; its refusal reaches the client as the reason the
// connection ended.
//
// With connect tokens (package token), a game's web backend decides who
// may connect and the traffic is sealed: the backend issues a token
// (token.Issue) to a logged-in player, the client connects WithToken,
// and a server with ServerConfig.Tokens admits only tokens issued for it
// under its key, unexpired and not used from another address. Every
// payload of such a connection, both ways, is then encrypted and
// authenticated (ChaCha20-Poly1305) with keys fresh for the connection,
// on every adapter (Conn.Sealed); a forged, altered or replayed one is
// never delivered. The connection's Identity is the token's
// *token.Grant, or what Approve returns, which sees it (Hello.Grant).
//
// A connection ends with a *DisconnectError, the same on every adapter:
// the reason given to Conn.Disconnect on either side (cut to
// MaxReasonBytes), whether the peer ended it, and the underlying error
// (ErrRefused, ErrTimeout, a network error) where there is one.
//
// The network adapter (Config.Transport: TCP by default, adapters/enet for
// reliable UDP, adapters/websocket for browsers, adapters/mem in tests)
// and the codec (msgpack by default, adapters/json) change no game code.
// A server may listen on several adapters at once (Server.AddListener).
// The wire protocol is in docs/PROTOCOL.md.
//
// # Server time
//
// Conn.ServerTime is the server's clock, on both ends of a connection: a
// server's own, and on a client the server's as estimated from the pings
// gonetic already sends (Config.PingInterval), whose pongs carry the
// answerer's clock. Conn.Clock tells the estimate: the offset from the
// local clock, the round trip it was measured over, and its uncertainty,
// half that round trip, which bounds the error that unequal delays on the
// two ways can cause. The estimate is the sample of the smallest round
// trip among the last 8, NTP's rule. A client sends a ping with its
// handshake, so ServerTime is the server's from OnConnect on; before any
// sample (pings off) it is the local clock. On one connection ServerTime
// never goes backwards: when the estimate moves back, it stands still
// until it catches up. Both may be called from any goroutine.
//
// # Quick start
//
// A chat server relays every line to everyone else:
//
//	type Chat struct{ Player, Msg string } // chat_msg(player, msg)
//
//	type ChatHandler struct{ gnet.Handler } // one per connection
//
//	func (h *ChatHandler) NetChatMsg(m Chat) {
//		h.Server().Broadcast(&m, h.Conn()) // to everyone but the sender
//	}
//
//	f := gnet.NewFactory()
//	message.MustRegister[Chat](f, message.Name("chat_msg")) // type id 1
//	srv, err := gnet.Listen(gnet.ServerConfig{
//		Config:     gnet.Config{Factory: f},
//		Addr:       "127.0.0.1:7777",
//		NewHandler: func() any { return &ChatHandler{} },
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer srv.Close()
//	for { // the game loop
//		if err := srv.Update(16 * time.Millisecond); err != nil {
//			break // ErrClosed: Shutdown or Close ended the server
//		}
//	}
//
// A client registers the same types, calls NewClient and Client.Connect
// (or Client.Dial, which waits for the handshake), sends from OnConnect on,
// and calls Client.Update(0) every frame. The package's examples run both
// ends.
package net
