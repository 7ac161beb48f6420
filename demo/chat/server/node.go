package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/gonetic/gonetic/adapters/flow"
	"github.com/gonetic/gonetic/adapters/msgpack"
	"github.com/gonetic/gonetic/demo/chat/chat"
	"github.com/gonetic/gonetic/message"
	"github.com/gonetic/gonetic/node"
)

// nodeKind is the kind the chat servers join their cluster under: /move
// goes to nodes of this kind only.
const nodeKind = "chat"

// handoffFlow is the name of the flow that carries a player's state.
const handoffFlow = "chat-handoff"

// moveTimeout bounds one handoff, dial and flow.
const moveTimeout = 10 * time.Second

// linker is the chat server's -node mode: its node in a cluster of chat
// servers, linked over NATS, and the handoffs (the room's chat.Mover).
// Move and update run on the server's loop; the flows run on goroutines
// of their own and hand their outcome to the loop through results.
type linker struct {
	n       *node.Node
	room    *chat.Room
	tickets *chat.Tickets
	addr    string // where this server takes players: its listener's address
	log     *slog.Logger

	results chan moveResult
	ctx     context.Context // done at close: ends the handoffs in flight
	cancel  context.CancelFunc
	wg      sync.WaitGroup // the handoffs in flight
}

// moveResult is a handoff's outcome, for the loop.
type moveResult struct {
	h      *chat.ServerHandler
	to     string
	ticket chat.MoveTicket
	err    error
}

// joinNode joins the cluster of chat servers as name. The other servers
// send players to addr, the player listener's address, with a ticket from
// tickets. url "" starts an embedded nats-server that meets the others
// of the machine on seed.
func joinNode(ctx context.Context, name, url, seed, addr string, room *chat.Room, tickets *chat.Tickets, log *slog.Logger) (*linker, error) {
	l := &linker{room: room, tickets: tickets, addr: addr, log: log, results: make(chan moveResult, 16)}
	f := message.NewFactory(msgpack.New())
	if err := node.Register(f); err != nil {
		return nil, err
	}
	cfg := node.Config{
		Name: name, Kind: nodeKind, Factory: f, Logger: log,
		Embed: node.EmbedConfig{Seed: seed},
		OnPeer: func(p node.Peer, joined bool, reason string) {
			if p.Kind != nodeKind {
				return
			}
			if joined {
				fmt.Printf("linked to chat server %s\n", p.Name)
			} else {
				fmt.Printf("chat server %s is gone: %s\n", p.Name, reason)
			}
		},
	}
	if url != "" {
		cfg.URLs = []string{url}
	}
	n, err := node.Join(ctx, cfg)
	if err != nil {
		return nil, err
	}
	l.n = n
	l.ctx, l.cancel = context.WithCancel(context.Background())
	if err := n.Flows().HandleFunc(handoffFlow, l.arrive); err != nil {
		n.Close()
		return nil, err
	}
	return l, nil
}

// Move is chat.Mover's: it starts the handoff of h's player to the chat
// server named to, as a flow on a goroutine of its own.
func (l *linker) Move(h *chat.ServerHandler, to string) error {
	var names []string
	found := false
	for p := range l.n.Peers(nodeKind) {
		names = append(names, p.Name)
		found = found || p.Name == to
	}
	switch {
	case to == l.n.Name():
		return fmt.Errorf("you are on %s already", to)
	case found:
	case len(names) == 0:
		return fmt.Errorf("no other chat server is linked to %s", l.n.Name())
	case to == "":
		return fmt.Errorf("say where: /move SERVER; servers: %s", strings.Join(names, ", "))
	default:
		return fmt.Errorf("no chat server %q; servers: %s", to, strings.Join(names, ", "))
	}
	state := h.State()
	state.From = l.n.Name()
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		tk, err := l.send(to, state)
		select {
		case l.results <- moveResult{h: h, to: to, ticket: tk, err: err}:
		case <-l.ctx.Done():
		}
	}()
	return nil
}

// send hands state to the server named to and returns its ticket.
func (l *linker) send(to string, state chat.PlayerState) (chat.MoveTicket, error) {
	ctx, cancel := context.WithTimeout(l.ctx, moveTimeout)
	defer cancel()
	var tk chat.MoveTicket
	fc, err := l.n.FlowTo(ctx, to)
	if err != nil {
		return tk, err
	}
	for p, err := range flow.Call[[]byte](ctx, fc, flow.Request{Name: handoffFlow, Header: state}, nil) {
		var fe *flow.Error
		if errors.As(err, &fe) && fe.Remote && errors.Is(err, flow.ErrHandler) {
			return tk, errors.New(fe.Message) // the other server's reason, for the player
		}
		if err != nil {
			return tk, err
		}
		if p.Final() {
			if err := p.Decode(&tk); err != nil {
				return tk, err
			}
		}
	}
	if tk.Ticket == "" || tk.Addr == "" {
		return tk, errors.New("the server answered no ticket")
	}
	return tk, nil
}

// arrive is the handoff flow's handler, on a goroutine of its own: it
// keeps the player's state under a new ticket, and answers the ticket
// and where this server takes players.
func (l *linker) arrive(f *flow.Flow, _ *flow.Reply) (any, error) {
	var s chat.PlayerState
	if err := f.Header().Decode(&s); err != nil {
		return nil, err
	}
	if err := s.Check(); err != nil {
		return nil, err
	}
	if l.room.Online(s.Nick) {
		return nil, fmt.Errorf("nickname %q is already online on %s", s.Nick, l.n.Name())
	}
	tk := l.tickets.Issue(s)
	l.log.Info("handoff ticket issued", "nick", s.Nick, "from", s.From)
	return chat.MoveTicket{Ticket: tk, Addr: l.addr}, nil
}

// update runs the node (its links' handlers, OnPeer) and hands the
// handoffs that ended to their players. It runs on the server's loop.
func (l *linker) update() error {
	if err := l.n.Update(0); err != nil {
		return err
	}
	for {
		select {
		case r := <-l.results:
			if r.err != nil {
				r.h.MoveFailed(r.to, r.err)
			} else {
				r.h.MoveOut(r.to, r.ticket.Addr, r.ticket.Ticket)
			}
		default:
			return nil
		}
	}
}

// close ends the handoffs in flight and leaves the cluster.
func (l *linker) close() {
	l.cancel()
	l.wg.Wait()
	l.n.Close()
}
