package chat

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	gnet "github.com/gonetic/gonetic/net"
)

// A player's handoff from one chat server to another (MoveTo): the
// server the player is on sends the other its PlayerState (the chat
// server's -node mode does it as a flow between nodes); the other keeps
// it in its Tickets under a one-time ticket and answers a MoveTicket; the
// first tells the client (Move) and disconnects it; the client connects
// to MoveTicket.Addr presenting the ticket (gnet.WithHello), and the
// second server's Approve (Tickets.Approve) redeems it: the client joins
// under its nickname, with its state, and both rooms are told.

// DefaultTicketLife is how long a handoff ticket opens: the client
// reconnects at once, so it need not last.
const DefaultTicketLife = 30 * time.Second

// MaxCarried is how many of a player's last chat lines a server keeps and
// a handoff carries.
const MaxCarried = 5

// PlayerState is what a chat server keeps of a player and hands to the
// next server when the player moves.
type PlayerState struct {
	Nick   string
	From   string    // the server the player moves from
	Joined time.Time // when the player first joined, on whatever server
	Lines  []string  // the player's last lines, oldest first; at most MaxCarried
}

// Check returns why s cannot be admitted (a server got it from another),
// or nil.
func (s PlayerState) Check() error {
	if reason := CheckNick(s.Nick); reason != "" {
		return errors.New(reason)
	}
	if len(s.Lines) > MaxCarried {
		return fmt.Errorf("%d lines carried, at most %d", len(s.Lines), MaxCarried)
	}
	for _, l := range s.Lines {
		if reason := CheckText(l); reason != "" {
			return errors.New(reason)
		}
	}
	return nil
}

// MoveTicket is the receiving server's answer to a handoff: the ticket
// the player presents, and the address where the server takes players.
type MoveTicket struct {
	Ticket string
	Addr   string
}

// Why a ticket is refused. Approve refuses a connection with their text,
// which the client shows.
var (
	ErrTicketUnknown = errors.New("handoff ticket unknown: ask your server to /move you again")
	ErrTicketUsed    = errors.New("handoff ticket already used: a ticket opens once")
	ErrTicketExpired = errors.New("handoff ticket expired: ask your server to /move you again")
)

// Tickets holds the players on their way to this server, each under a
// one-time ticket that opens for a while. Every method is safe for
// concurrent use: Issue runs on a flow's goroutine, Approve on net's.
type Tickets struct {
	life time.Duration
	now  func() time.Time

	mu sync.Mutex         // guards m
	m  map[string]*ticket // by ticket; kept until twice its life, to tell used and expired from unknown
}

type ticket struct {
	state   PlayerState
	expires time.Time
	used    bool
}

// NewTickets returns an empty store whose tickets open for life (0:
// DefaultTicketLife); now is its clock (nil: time.Now).
func NewTickets(life time.Duration, now func() time.Time) *Tickets {
	if life <= 0 {
		life = DefaultTicketLife
	}
	if now == nil {
		now = time.Now
	}
	return &Tickets{life: life, now: now, m: make(map[string]*ticket)}
}

// Issue keeps s and returns the ticket that redeems it, once.
func (t *Tickets) Issue(s PlayerState) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	tk := hex.EncodeToString(b[:])
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for k, v := range t.m { // bounded: nothing older than two lives stays
		if now.After(v.expires.Add(t.life)) {
			delete(t.m, k)
		}
	}
	t.m[tk] = &ticket{state: s, expires: now.Add(t.life)}
	return tk
}

// Redeem returns the state kept under tk and spends the ticket, or why
// it does not open: ErrTicketUnknown, ErrTicketUsed, ErrTicketExpired.
func (t *Tickets) Redeem(tk string) (PlayerState, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	v := t.m[tk]
	switch {
	case v == nil:
		return PlayerState{}, ErrTicketUnknown
	case v.used:
		return PlayerState{}, ErrTicketUsed
	case t.now().After(v.expires):
		return PlayerState{}, ErrTicketExpired
	}
	v.used = true
	s := v.state
	v.state = PlayerState{}
	return s, nil
}

// Len is how many tickets the store holds, spent or expired ones included
// until they are forgotten.
func (t *Tickets) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

// Approve is the server's gnet.ServerConfig.Approve for handoffs: a
// connection without hello data is a plain join (nil identity); one with
// hello data presents a ticket (SessionConfig.Ticket), and is let in with
// its *PlayerState as the Conn's Identity, which the room's NetJoin
// takes, or refused with why the ticket does not open.
func (t *Tickets) Approve(_ context.Context, h gnet.Hello) (any, error) {
	if len(h.Data) == 0 {
		return nil, nil
	}
	s, err := t.Redeem(string(h.Data))
	if err != nil {
		return nil, err
	}
	return &s, nil
}
