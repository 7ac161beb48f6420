package chat_test

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/mem"
	"github.com/gonetic/gonetic/demo/chat/chat"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/transport"
)

// clock is a settable clock for Tickets.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestTicketsOpenOnce(t *testing.T) {
	c := &clock{time.Unix(1000, 0)}
	ts := chat.NewTickets(10*time.Second, c.now)
	want := chat.PlayerState{Nick: "ann", From: "A", Joined: time.Unix(900, 0), Lines: []string{"hi"}}
	tk := ts.Issue(want)
	if other := ts.Issue(want); other == tk || len(tk) < 32 {
		t.Fatalf("tickets %q and %q: want two distinct, unguessable ones", tk, other)
	}
	got, err := ts.Redeem(tk)
	if err != nil {
		t.Fatal(err)
	}
	if got.Nick != want.Nick || got.From != want.From || !got.Joined.Equal(want.Joined) || !slices.Equal(got.Lines, want.Lines) {
		t.Fatalf("redeemed %+v, want %+v", got, want)
	}
	if _, err := ts.Redeem(tk); !errors.Is(err, chat.ErrTicketUsed) {
		t.Fatalf("second redeem: %v, want ErrTicketUsed", err)
	}
	if _, err := ts.Redeem("0123456789abcdef0123456789abcdef"); !errors.Is(err, chat.ErrTicketUnknown) {
		t.Fatalf("forged ticket: %v, want ErrTicketUnknown", err)
	}
}

func TestTicketsExpire(t *testing.T) {
	c := &clock{time.Unix(1000, 0)}
	ts := chat.NewTickets(10*time.Second, c.now)
	early, late := ts.Issue(chat.PlayerState{Nick: "ann"}), ts.Issue(chat.PlayerState{Nick: "bob"})
	c.t = c.t.Add(10 * time.Second) // the last instant a ticket opens
	if _, err := ts.Redeem(early); err != nil {
		t.Fatalf("at its expiry: %v", err)
	}
	c.t = c.t.Add(time.Millisecond)
	if _, err := ts.Redeem(late); !errors.Is(err, chat.ErrTicketExpired) {
		t.Fatalf("after its expiry: %v, want ErrTicketExpired", err)
	}
	// Spent and expired tickets are forgotten after a second life, so the
	// store stays bounded; they are unknown then.
	c.t = c.t.Add(10 * time.Second)
	ts.Issue(chat.PlayerState{Nick: "carl"})
	if n := ts.Len(); n != 1 {
		t.Fatalf("%d tickets kept after two lives, want 1 (the new one)", n)
	}
	if _, err := ts.Redeem(late); !errors.Is(err, chat.ErrTicketUnknown) {
		t.Fatalf("forgotten ticket: %v, want ErrTicketUnknown", err)
	}
}

func TestTicketsApprove(t *testing.T) {
	ts := chat.NewTickets(0, nil)
	ctx := context.Background()
	if id, err := ts.Approve(ctx, gnet.Hello{}); id != nil || err != nil {
		t.Fatalf("a plain join: %v, %v; want nil, nil", id, err)
	}
	tk := ts.Issue(chat.PlayerState{Nick: "ann", From: "A"})
	id, err := ts.Approve(ctx, gnet.Hello{Data: []byte(tk)})
	if st, ok := id.(*chat.PlayerState); err != nil || !ok || st.Nick != "ann" {
		t.Fatalf("a ticket: %v, %v; want ann's *PlayerState", id, err)
	}
	if _, err := ts.Approve(ctx, gnet.Hello{Data: []byte(tk)}); !errors.Is(err, chat.ErrTicketUsed) {
		t.Fatalf("the ticket again: %v, want ErrTicketUsed", err)
	}
}

func TestPlayerStateCheck(t *testing.T) {
	for _, bad := range []chat.PlayerState{
		{Nick: ""},
		{Nick: "a b"},
		{Nick: "ann", Lines: make([]string, chat.MaxCarried+1)},
		{Nick: "ann", Lines: []string{strings.Repeat("x", chat.MaxText+1)}},
	} {
		if bad.Check() == nil {
			t.Errorf("%+v passes Check", bad)
		}
	}
	if err := (chat.PlayerState{Nick: "ann", Lines: []string{"hi"}}).Check(); err != nil {
		t.Error(err)
	}
}

// directMover moves players from one rig's room to another's, as the
// server's -node mode does over a flow: it issues the ticket on the other
// server's Tickets and ends the move on a later Update.
type directMover struct {
	from, to string
	tickets  *chat.Tickets
	addr     string
	pending  []func()
	moved    []chat.PlayerState // what each move carried
}

func (m *directMover) Move(h *chat.ServerHandler, to string) error {
	if to != m.to {
		return errors.New("no chat server " + to)
	}
	st := h.State()
	st.From = m.from
	m.moved = append(m.moved, st)
	tk := m.tickets.Issue(st)
	m.pending = append(m.pending, func() { h.MoveOut(to, m.addr, tk) })
	return nil
}

// TestMove: a player moves from server A to server B with its nickname
// and state; both rooms are told; its ticket opens once, a forged one
// never.
func TestMove(t *testing.T) {
	ticketsA, ticketsB := chat.NewTickets(0, nil), chat.NewTickets(0, nil)
	a := startRigWith(t, new(mem.Network), "chat:7777", ticketsA.Approve, nil)
	b := startRigWith(t, a.tr, "chat:7778", ticketsB.Approve, nil)
	toB := &directMover{from: "A", to: "B", tickets: ticketsB, addr: b.addr}
	toA := &directMover{from: "B", to: "A", tickets: ticketsA, addr: a.addr}
	a.room.SetMover(toB)
	b.room.SetMover(toA)
	pump := func(what string, cond func() bool) {
		t.Helper()
		a.pump(what, func() bool {
			for _, m := range []*directMover{toA, toB} {
				for _, f := range m.pending {
					f()
				}
				m.pending = m.pending[:0]
			}
			_ = b.srv.Update(0)
			for _, u := range b.users {
				_ = u.s.Update(0)
			}
			return cond()
		})
	}
	ann, bob := a.join("ann"), a.join("bob")
	carl := b.join("carl")
	pump("all online", func() bool { return ann.online()() && bob.online()() && carl.online()() })
	for _, line := range []string{"one", "two"} {
		ann.s.Input(line)
		pump("ann's line", ann.saw("<ann> "+line))
	}

	ann.s.Input("/move Z")
	pump("ann told Z is unknown", ann.saw("*** server: cannot move: no chat server Z"))
	ann.s.Input("/move B")
	pump("ann arrives on B", func() bool { return ann.online()() && ann.s.Addr() == b.addr })
	pump("carl sees ann arrive", carl.saw("*** ann arrived from A"))
	pump("bob sees ann leave", bob.saw("*** ann moved to B"))
	pump("ann hears her state came", ann.saw("arrived from A with your state: in the chat since "))
	if !ann.saw("2 recent lines")() || ann.saw("reconnecting")() {
		t.Fatalf("ann's lines:\n%s", ann.text())
	}
	if got := b.room.Nicks(); !slices.Equal(got, []string{"carl", "ann"}) {
		t.Fatalf("B's room = %v, want [carl ann]", got)
	}
	if got := a.room.Nicks(); !slices.Equal(got, []string{"bob"}) {
		t.Fatalf("A's room = %v, want [bob]", got)
	}
	ann.s.Input("hello B")
	pump("carl hears ann", carl.saw("<ann> hello B"))

	// The ticket opened once: presented again, it is refused, and so is a
	// forged one; the refused sessions then join B plainly.
	m := regexp.MustCompile(`ticket ([0-9a-f]+)\)`).FindStringSubmatch(ann.text())
	if m == nil {
		t.Fatalf("no ticket shown:\n%s", ann.text())
	}
	for _, c := range []struct{ ticket, why string }{
		{m[1], "handoff ticket already used"},
		{"forged", "handoff ticket unknown"},
	} {
		u := b.joinTicket("dave", c.ticket)
		pump("refused: "+c.why, u.saw("the server refused the connection: "+c.why))
		if b.room.Online("ann") != true || u.s.Nick() != "dave" {
			t.Fatalf("a refused ticket changed who is who: %v", b.room.Nicks())
		}
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		u.s.Close(ctx)
		cancel()
	}

	// Back to A: the state B kept (A's lines and B's) comes along.
	ann.s.Input("/move A")
	pump("ann back on A", func() bool { return ann.online()() && ann.s.Addr() == a.addr })
	pump("ann hears her state came back", ann.saw("arrived from B with your state: in the chat since "))
	if !ann.saw("3 recent lines")() {
		t.Fatalf("ann's lines:\n%s", ann.text())
	}
	pump("bob sees ann back", bob.saw("*** ann arrived from B"))
	there, back := toB.moved[0], toA.moved[0]
	if !back.Joined.Equal(there.Joined) || there.Joined.IsZero() {
		t.Errorf("ann joined at %v, came back as joined at %v", there.Joined, back.Joined)
	}
	if want := []string{"one", "two", "hello B"}; !slices.Equal(back.Lines, want) {
		t.Errorf("ann's lines came back as %q, want %q", back.Lines, want)
	}
}

// TestMoveWithoutNode: a server that is not linked says so.
func TestMoveWithoutNode(t *testing.T) {
	r := newRig(t)
	ann := r.join("ann")
	r.pump("ann online", ann.online())
	ann.s.Input("/move B")
	r.pump("ann told", ann.saw("*** server: this server is not linked to others"))
	if ann.s.State() != chat.Online {
		t.Fatalf("ann is %v", ann.s.State())
	}
}

// joinTicket starts a session that presents ticket on its first
// connection.
func (r *rig) joinTicket(nick, ticket string) *user {
	r.t.Helper()
	u := &user{}
	f, _ := chat.NewFactory("msgpack")
	s, err := chat.NewSession(chat.SessionConfig{
		Addr: r.addr, Nick: nick, Factory: f, Transport: r.tr, Ticket: ticket,
		Output:     func(l chat.Line) { u.lines = append(u.lines, l) },
		MinBackoff: time.Hour, // stays refused: the test looks at the refusal
	})
	if err != nil {
		r.t.Fatal(err)
	}
	u.s = s
	r.users = append(r.users, u)
	return u
}

// wsNamed is a transport that calls itself websocket.
type wsNamed struct{ transport.Transport }

func (wsNamed) Name() string { return "websocket" }

// TestMoveNotOverWebSocket: a session over WebSocket (the browser) does
// not ask to move, since the other server's address is not one it can
// reach; it says so, and stays.
func TestMoveNotOverWebSocket(t *testing.T) {
	r := newRig(t)
	r.tr = wsNamed{r.tr}
	ann := r.join("ann")
	r.pump("ann online", ann.online())
	ann.s.Input("/move B")
	r.pump("ann told", ann.saw("!!! /move works over tcp and enet, not yet over websocket"))
	if ann.saw("not linked")() {
		t.Fatalf("the server was asked:\n%s", ann.text())
	}
}
