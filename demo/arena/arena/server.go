package arena

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/gonetic/gonetic/game"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/transport"
)

// DefaultAddr is the address the arena programs use when given none.
const DefaultAddr = "127.0.0.1:7778"

// CellSize is the side of the interest grid's cells: a client sees the
// players in its cell and the eight around it, so at least CellSize units
// each way, more than half a 960×600 window.
const CellSize = 500.0

// ServerConfig configures NewServer. The zero value of every field means
// its documented default.
type ServerConfig struct {
	// Addr is the address to listen on. Default DefaultAddr; port 0 picks
	// a free one (Server.Addr says which).
	Addr string
	// Transport is the network adapter. Default TCP.
	Transport transport.Transport
	// Bots is how many server-side bots play.
	Bots int
	// Everyone turns interest management off: every client sees every
	// player, in one snapshot encoded once for all. Default false: each
	// client sees the players near it (CellSize).
	Everyone bool
	// MaxConns bounds the clients. Default gonetic's (1024).
	MaxConns int
	// Seed makes spawn points and bots repeatable. Default 1.
	Seed uint64
	// Logger receives joins and leaves. Default: discard.
	Logger *slog.Logger

	// Ticked, if set, is called at the end of every tick with the world
	// and how long the tick's work took (stepping, encoding, sending): for
	// measurements and tests. It runs on the server's loop.
	Ticked func(t game.Tick, w *World, work time.Duration)
	// Applied, if set, is called after each client input is applied: see
	// World.Applied.
	Applied func(a *Actor, seq uint32)
}

// Server is the arena's authoritative server: it runs the World at
// TickRate with game.Run, feeds it the clients' inputs, and sends every
// client its own state (You) and what it sees (Snapshot) each tick.
//
// Run owns it: every method but Addr and Close runs on Run's goroutine.
type Server struct {
	cfg    ServerConfig
	srv    *gnet.Server
	world  *World
	grid   *game.Grid[uint32, *gnet.Conn]
	joined []*serverHandler // clients that joined, in the order they did

	snap        Snapshot // reused every tick
	tags        []Tag
	rosterDirty bool
	watchers    func(yield func(*gnet.Conn) bool) // every joined client, for Everyone
}

// NewServer listens and adds the bots; Run starts the game.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Bots < 0 {
		return nil, fmt.Errorf("arena: %d bots: give 0 or more", cfg.Bots)
	}
	grid, err := game.NewGrid[uint32, *gnet.Conn](CellSize, 1)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, world: NewWorld(cfg.Seed), grid: grid, rosterDirty: true}
	s.world.Applied = cfg.Applied
	s.watchers = s.allWatchers
	for i := range cfg.Bots {
		s.world.Add(fmt.Sprintf("bot%d", i+1), &Bot{})
	}
	s.srv, err = gnet.Listen(gnet.ServerConfig{
		Config:     gnet.Config{Factory: NewFactory(), Transport: cfg.Transport, Logger: cfg.Logger},
		Addr:       cfg.Addr,
		MaxConns:   cfg.MaxConns,
		NewHandler: func() any { return &serverHandler{s: s} },
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.srv.Addr() }

// World is the game's state; read it from Ticked only.
func (s *Server) World() *World { return s.world }

// Run runs the game until ctx is done (then it returns nil) or the server
// is closed. Shutdown then says goodbye to the clients.
func (s *Server) Run(ctx context.Context) error {
	return game.Run(ctx, s.srv, time.Second/TickRate, s.tick)
}

// Shutdown tells every client "server shutting down" and closes the
// server, within ctx. Call it once Run returned.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.srv.Shutdown(ctx, "server shutting down")
}

// Close closes the server at once. Any goroutine may call it.
func (s *Server) Close() error { return s.srv.Close() }

// tick is one tick of the game: step the world, then send.
func (s *Server) tick(t game.Tick) error {
	start := time.Now()
	s.tags = s.world.Step(s.tags[:0])
	for _, tg := range s.tags {
		s.cfg.Logger.Debug("tag", "from", tg.From, "to", tg.To)
	}
	if s.rosterDirty {
		s.rosterDirty = false
		s.sendRoster()
	}
	for _, h := range s.joined {
		a := h.actor
		_ = h.Conn().Send(&You{Tick: t.N, Ack: a.Ack(), X: a.State.X, Y: a.State.Y, It: a.State.It, Score: a.Score()})
	}
	s.snap.Tick, s.snap.At = t.N, t.At.UnixNano()
	if s.cfg.Everyone {
		s.snap.Players = s.snap.Players[:0]
		for _, a := range s.world.Actors() {
			s.snap.Players = append(s.snap.Players, player(a))
		}
		_ = s.srv.SendTo(&s.snap, s.watchers)
	} else {
		for _, a := range s.world.Actors() {
			s.grid.Place(a.ID, a.State.X, a.State.Y)
		}
		for _, h := range s.joined {
			s.grid.Watch(h.Conn(), h.actor.State.X, h.actor.State.Y)
		}
		// One snapshot per cell that has watchers, encoded once for all
		// of them.
		for v := range s.grid.Views() {
			s.snap.Players = s.snap.Players[:0]
			for id := range v.Entities() {
				if a := s.world.Actor(id); a != nil {
					s.snap.Players = append(s.snap.Players, player(a))
				}
			}
			_ = s.srv.SendTo(&s.snap, v.Watchers())
		}
	}
	if s.cfg.Ticked != nil {
		s.cfg.Ticked(t, s.world, time.Since(start))
	}
	return nil
}

func player(a *Actor) Player {
	return Player{ID: a.ID, X: float32(a.State.X), Y: float32(a.State.Y), It: a.State.It, Score: a.Score()}
}

func (s *Server) allWatchers(yield func(*gnet.Conn) bool) {
	for _, h := range s.joined {
		if !yield(h.Conn()) {
			return
		}
	}
}

func (s *Server) sendRoster() {
	r := Roster{Players: make([]Entry, 0, len(s.world.Actors()))}
	for _, a := range s.world.Actors() {
		r.Players = append(r.Players, Entry{ID: a.ID, Name: a.Name, Bot: a.Bot != nil})
	}
	_ = s.srv.SendTo(&r, s.watchers)
}

// serverHandler is the server's handler for one connection.
type serverHandler struct {
	gnet.Handler
	s     *Server
	actor *Actor // nil until Join
}

// NetJoin puts the client's player in the arena. A second Join is
// ignored.
func (h *serverHandler) NetJoin(m Join) {
	if h.actor != nil {
		return
	}
	s := h.s
	h.actor = s.world.Add(CleanName(m.Name), nil)
	s.joined = append(s.joined, h)
	s.rosterDirty = true
	s.cfg.Logger.Info("join", "name", h.actor.Name, "id", h.actor.ID, "addr", h.Conn().Addr(), "players", len(s.world.Actors()))
	_ = h.Conn().Send(&Welcome{ID: h.actor.ID, X: h.actor.State.X, Y: h.actor.State.Y, It: h.actor.State.It, Width: Width, Height: Height, TickRate: TickRate})
}

// NetInput queues one tick of the client's keys.
func (h *serverHandler) NetInput(m Input) {
	if h.actor != nil {
		h.actor.Queue(m)
	}
}

// OnDisconnect takes the player out.
func (h *serverHandler) OnDisconnect(reason error) {
	if h.actor == nil {
		return
	}
	s := h.s
	s.world.Remove(h.actor.ID)
	s.grid.Remove(h.actor.ID)
	s.grid.Unwatch(h.Conn())
	s.joined = slices.DeleteFunc(s.joined, func(o *serverHandler) bool { return o == h })
	s.rosterDirty = true
	s.cfg.Logger.Info("leave", "name", h.actor.Name, "id", h.actor.ID, "reason", reason, "players", len(s.world.Actors()))
}

// CleanName makes a player's name: letters, digits, '-', '_' and '.',
// at most 16 of them; "player" if nothing is left.
func CleanName(name string) string {
	var b strings.Builder
	n := 0
	for _, r := range name {
		if n == 16 {
			break
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' || r == '.' {
			b.WriteRune(r)
			n++
		}
	}
	if b.Len() == 0 {
		return "player"
	}
	return b.String()
}
