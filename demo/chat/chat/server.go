package chat

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	gnet "github.com/gonetic/gonetic/net"
)

// Room is the chat server's state: who is online, in the order they
// joined. Its methods and its handlers' methods run inside Server.Update,
// on the one goroutine that calls it, so it needs no lock.
type Room struct {
	log     *slog.Logger
	members []*ServerHandler          // joined users, in the order they joined
	byNick  map[string]*ServerHandler // joined users by folded nickname
	mover   Mover                     // nil: /move is refused

	// online mirrors byNick's keys for Online, which runs off the loop
	// (in Approve).
	mu     sync.Mutex
	online map[string]bool
}

// NewRoom returns an empty room. log receives one short line per join,
// refused nickname, rename and leave (never one per message), holding at
// most a short prefix of anything a peer sent; nil discards them.
func NewRoom(log *slog.Logger) *Room {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Room{log: log, byNick: make(map[string]*ServerHandler), online: make(map[string]bool)}
}

// Online reports whether nick (folded, as the room compares nicknames) is
// in the room. Any goroutine may call it.
func (r *Room) Online(nick string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.online[foldNick(nick)]
}

// setOnline records that the folded nickname nick joined (on) or left.
func (r *Room) setOnline(nick string, on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if on {
		r.online[foldNick(nick)] = true
	} else {
		delete(r.online, foldNick(nick))
	}
}

// Mover carries players to other chat servers: the chat server's -node
// mode, which links servers over NATS.
type Mover interface {
	// Move starts moving h's player to the server named to, or returns
	// why it cannot (an unknown server: the error lists the known ones).
	// It runs inside Server.Update and must not block: the outcome comes
	// back later, on the same goroutine, as h.MoveOut or h.MoveFailed.
	Move(h *ServerHandler, to string) error
}

// SetMover lets the room's players move to other servers (MoveTo) through
// m. Call it before the server's first Update.
func (r *Room) SetMover(m Mover) { r.mover = m }

// NewHandler returns the handler for one accepted connection: pass it as
// gnet.ServerConfig.NewHandler.
func (r *Room) NewHandler() any { return &ServerHandler{room: r} }

// Nicks returns the nicknames online, in the order they joined.
func (r *Room) Nicks() []string {
	out := make([]string, len(r.members))
	for i, m := range r.members {
		out[i] = m.nick
	}
	return out
}

// send sends msg to every member except skip (which may be nil). A member
// whose connection is closing misses it, which is what we want.
func (r *Room) send(msg any, skip *ServerHandler) {
	for _, m := range r.members {
		if m != skip {
			_ = m.Conn().Send(msg)
		}
	}
}

// ServerHandler is the server's handler for one connection: gonetic calls
// its Net… method for each message the client sends (join → NetJoin,
// chat_msg → NetChatMsg, …) and OnDisconnect when the connection ends, all
// inside Server.Update.
type ServerHandler struct {
	gnet.Handler // Conn() and Server()

	room     *Room
	nick     string    // "" until the client joined
	joined   time.Time // when the player first joined, here or on the server it came from
	said     []string  // the player's last lines, at most MaxCarried, oldest first
	arrived  bool      // the Join that takes a handoff's identity was seen
	moving   string    // the server a move is in flight to; "" when none
	movedOut string    // the server the player moved to, once told (Move)
}

// Nick is the connection's nickname, or "" before it joined.
func (h *ServerHandler) Nick() string { return h.nick }

// State is what a handoff carries of the player (PlayerState.From is left
// to the Mover).
func (h *ServerHandler) State() PlayerState {
	return PlayerState{Nick: h.nick, Joined: h.joined, Lines: slices.Clone(h.said)}
}

// NetJoin joins the room, or renames a user already in it. A nickname that
// is invalid or taken is refused with a NickRefused saying why; the
// connection stays open so that the client can ask for another one.
//
// On a server with Auth the nickname is the login's (Conn.Identity):
// the Join's is ignored and a rename is refused, so that nobody speaks
// under another's name.
func (h *ServerHandler) NetJoin(m Join) {
	nick := m.Nick
	var from *PlayerState // a handoff's state, on its first Join
	if st, ok := h.Conn().Identity().(*PlayerState); ok && !h.arrived {
		h.arrived = true
		from, nick = st, st.Nick
	}
	if id, ok := h.Conn().Identity().(string); ok {
		if h.nick != "" {
			h.refuse(nick, "your nickname is the one you logged in with, "+h.nick)
			return
		}
		nick = id
	}
	if reason := CheckNick(nick); reason != "" {
		h.refuse(nick, reason)
		return
	}
	if other := h.room.byNick[foldNick(nick)]; other != nil && other != h {
		h.refuse(nick, fmt.Sprintf("nickname %q is already taken", other.nick))
		return
	}
	r := h.room
	if h.nick == "" {
		h.nick = nick
		h.joined = time.Now()
		r.members = append(r.members, h)
		r.byNick[foldNick(nick)] = h
		r.setOnline(nick, true)
		_ = h.Conn().Send(&Welcome{Nick: nick, Users: r.Nicks()})
		if from == nil {
			r.log.Info("join", "nick", nick, "addr", h.Conn().Addr(), "online", len(r.members))
			r.send(&UserJoined{Nick: nick}, h)
			return
		}
		h.joined, h.said = from.Joined, from.Lines
		r.log.Info("arrival", "nick", nick, "from", from.From, "addr", h.Conn().Addr(), "online", len(r.members))
		plural := "s"
		if len(from.Lines) == 1 {
			plural = ""
		}
		_ = h.Conn().Send(&Notice{Text: fmt.Sprintf("arrived from %s with your state: in the chat since %s, %d recent line%s",
			from.From, from.Joined.Format(time.TimeOnly), len(from.Lines), plural)})
		r.send(&UserJoined{Nick: nick, From: from.From}, h)
		return
	}
	old := h.nick
	delete(r.byNick, foldNick(old))
	r.setOnline(old, false)
	h.nick = nick
	r.byNick[foldNick(nick)] = h
	r.setOnline(nick, true)
	r.log.Info("rename", "old", old, "new", nick)
	r.send(&Renamed{Old: old, New: nick}, nil)
}

// refuse answers a Join with why its nickname was refused. Neither the
// answer nor the log line carries more than a prefix of what the peer
// sent, so a huge nickname costs the server a small line each time.
func (h *ServerHandler) refuse(nick, reason string) {
	h.room.log.Info("nickname refused", "nick", Clip(nick, maxLogged), "nick_bytes", len(nick),
		"addr", h.Conn().Addr(), "reason", reason)
	_ = h.Conn().Send(&NickRefused{Nick: Clip(nick, 4*MaxNick), Reason: reason})
}

// NetChatMsg relays a line of chat to the whole room, sender included,
// under the sender's nickname. A line longer than MaxText is not relayed:
// the sender gets a Notice saying why.
func (h *ServerHandler) NetChatMsg(m ChatMsg) {
	if h.nick == "" {
		_ = h.Conn().Send(&Notice{Text: "join the room before you chat"})
		return
	}
	text := CleanText(m.Msg)
	if text == "" {
		return
	}
	if reason := CheckText(text); reason != "" {
		_ = h.Conn().Send(&Notice{Text: "line not relayed: " + reason})
		return
	}
	if len(h.said) == MaxCarried {
		h.said = slices.Delete(h.said, 0, 1)
	}
	h.said = append(h.said, text)
	h.room.send(&ChatMsg{Player: h.nick, Msg: text}, nil)
}

// NetWho answers with the list of users online.
func (h *ServerHandler) NetWho(Who) {
	_ = h.Conn().Send(&Users{Nicks: h.room.Nicks()})
}

// NetMoveTo starts moving the player to another chat server, through the
// room's Mover; a Notice says why not (no Mover, an unknown server, a
// move already on its way).
func (h *ServerHandler) NetMoveTo(m MoveTo) {
	switch {
	case h.nick == "":
		_ = h.Conn().Send(&Notice{Text: "join the room before you move"})
		return
	case h.room.mover == nil:
		_ = h.Conn().Send(&Notice{Text: "this server is not linked to others (its -node flag), so /move goes nowhere"})
		return
	case h.moving != "":
		_ = h.Conn().Send(&Notice{Text: "already moving to " + h.moving})
		return
	}
	to := CleanText(Clip(m.Server, 64))
	if err := h.room.mover.Move(h, to); err != nil {
		_ = h.Conn().Send(&Notice{Text: "cannot move: " + err.Error()})
		return
	}
	h.moving = to
	_ = h.Conn().Send(&Notice{Text: "moving to " + to + "…"})
}

// MoveOut ends a move the Mover started: it tells the client where
// server takes it (Move) and disconnects it gracefully; the room hears
// that it moved. A player gone meanwhile is not told: its ticket expires.
// It runs inside Server.Update.
func (h *ServerHandler) MoveOut(server, addr, ticket string) {
	h.moving = ""
	if !h.Conn().Connected() || h.nick == "" {
		return
	}
	h.movedOut = server
	_ = h.Conn().Send(&Move{Server: server, Addr: addr, Ticket: ticket})
	h.Conn().Disconnect("moved to " + server)
}

// MoveFailed ends a move the Mover started, which failed: the player
// stays, and hears why. It runs inside Server.Update.
func (h *ServerHandler) MoveFailed(server string, err error) {
	h.moving = ""
	h.room.log.Info("move failed", "nick", h.nick, "to", server, "err", err)
	_ = h.Conn().Send(&Notice{Text: fmt.Sprintf("cannot move to %s: %v", server, err)})
}

// OnDisconnect removes the user from the room and tells the others why it
// left.
func (h *ServerHandler) OnDisconnect(reason error) {
	if h.nick == "" {
		return
	}
	r := h.room
	r.members = slices.DeleteFunc(r.members, func(m *ServerHandler) bool { return m == h })
	delete(r.byNick, foldNick(h.nick))
	r.setOnline(h.nick, false)
	if h.movedOut != "" {
		r.log.Info("moved out", "nick", h.nick, "to", h.movedOut, "online", len(r.members))
		r.send(&UserLeft{Nick: h.nick, Reason: "moved to " + h.movedOut, To: h.movedOut}, nil)
		return
	}
	why := LeaveReason(reason)
	r.log.Info("leave", "nick", h.nick, "reason", why, "online", len(r.members))
	r.send(&UserLeft{Nick: h.nick, Reason: why}, nil)
}

// LeaveReason turns the reason a connection ended into a few words for the
// others in the room: the reason the client gave ("quit"), made printable
// by CleanText and cut to MaxReason bytes, or "connection lost".
func LeaveReason(reason error) string {
	var de *gnet.DisconnectError
	if errors.As(reason, &de) {
		// Cut before cleaning, which copies.
		if why := CleanText(Clip(de.Reason, MaxReason)); why != "" {
			return why
		}
	}
	return "connection lost"
}
