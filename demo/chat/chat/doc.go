// Package chat is the gonetic chat demo's shared code: the protocol (the
// message types and the order they are registered in), the server's handler
// struct and room, and the client's Session, which the terminal client, the
// bots and the Ebiten window client all drive.
//
// It is the example to copy. The pieces, top to bottom:
//
//   - protocol.go: message types are plain structs. NewFactory registers
//     them in a fixed order with the chosen codec; both ends must do the
//     same, and gonetic's handshake refuses a peer whose registry differs.
//   - server.go: Room keeps who is online; ServerHandler, one per
//     connection, has one method per message type the server receives
//     (NetJoin, NetChatMsg, NetWho). gonetic calls them inside
//     Server.Update, on the server's goroutine, so the Room needs no lock.
//   - session.go: Session is one user's connection: it joins with a
//     nickname, reconnects with backoff when the server goes away, keeps
//     the connection's round trip (gonetic measures it), and reports
//     everything as Lines for a screen. Its ClientHandler has a method per
//     message type the client receives. Session.Update calls Client.Update,
//     so a game loop calls it every frame with a zero timeout and never
//     blocks.
//   - handoff.go: a player moving to another chat server (MoveTo): what
//     moves with it (PlayerState) and the one-time tickets the other
//     server keeps it under (Tickets, whose Approve redeems them). The
//     servers' link itself (package node) is the server program's, so that
//     the clients never import NATS.
//
// The programs are demo/chat/server, demo/chat/term (terminal client and
// bots), demo/chat/window (Ebiten) and demo/chat (a launcher); see
// demo/chat/README.md.
package chat
