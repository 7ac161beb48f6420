package arena

import (
	"github.com/gonetic/gonetic/game"
	"math"
	"math/rand/v2"
	"slices"
)

// The rules, shared by the server (which is authoritative) and the
// clients (which predict their own player with the same Step).
const (
	// Width and Height are the arena's size, in world units.
	Width, Height = 3200.0, 2400.0
	// TickRate is the server's ticks per second; a client sends one Input
	// per tick.
	TickRate = 30
	// Radius is a player's radius: two players touch when their centres
	// are closer than 2×Radius.
	Radius = 24.0
	// Speed is how far a player moves in a tick (300 units a second);
	// "it" moves ItSpeed, a little faster, so that it can catch up.
	Speed   = 10.0
	ItSpeed = 11.0
	// Immunity is how many ticks a player who just passed "it" on cannot
	// be tagged back by the one it tagged (1 s).
	Immunity = TickRate
	// QueueSize bounds the inputs the server keeps per player
	// (game.Inputs); a client that sends more than it ticks (a burst after
	// a stall) loses the oldest, and its prediction is corrected. With
	// more than game.CatchUp waiting, the server applies two a tick.
	QueueSize = game.DefaultInputsSize
)

// Keys are the movement keys held during one tick, a bit each.
type Keys uint8

// The movement keys.
const (
	Up Keys = 1 << iota
	Down
	Left
	Right
)

// State is one player's state as Step moves it: what the client predicts
// and the server acknowledges.
type State struct {
	X, Y float64
	It   bool
}

// diagonal is the length of each axis of a diagonal step of length 1.
var diagonal = 1 / math.Sqrt2

// Step moves a player by one tick of keys: straight or diagonally at its
// speed, and stopped by the arena's walls. It is deterministic (the same
// state and keys give the same result on every machine), which
// prediction needs: the client's replay must land where the server's step
// did.
func Step(s State, k Keys) State {
	var dx, dy float64
	if k&Left != 0 {
		dx--
	}
	if k&Right != 0 {
		dx++
	}
	if k&Up != 0 {
		dy--
	}
	if k&Down != 0 {
		dy++
	}
	if dx == 0 && dy == 0 {
		return s
	}
	v := Speed
	if s.It {
		v = ItSpeed
	}
	if dx != 0 && dy != 0 {
		v *= diagonal
	}
	s.X = min(max(s.X+dx*v, Radius), Width-Radius)
	s.Y = min(max(s.Y+dy*v, Radius), Height-Radius)
	return s
}

// Actor is one player in the World.
type Actor struct {
	ID    uint32
	Name  string
	Bot   *Bot // nil for a network player
	State State
	// Free counts the ticks the player was not "it": its score.
	Free uint64

	inputs *game.Inputs[Keys] // a network player's, waiting for ticks; nil for a bot
}

// Score is the player's score: seconds not being "it".
func (a *Actor) Score() uint32 { return uint32(a.Free / TickRate) }

// Queue keeps in to be applied at a coming tick (game.Inputs.Push): an
// input whose Seq is not above the last one queued is refused, and when
// QueueSize wait the oldest goes (both counted in Dropped).
func (a *Actor) Queue(in Input) {
	if a.inputs != nil {
		a.inputs.Push(in.Seq, in.Keys)
	}
}

// Ack is the Seq of the last input applied, which You acknowledges.
func (a *Actor) Ack() uint32 {
	if a.inputs == nil {
		return 0
	}
	return a.inputs.Ack()
}

// Queued is the number of inputs waiting.
func (a *Actor) Queued() int {
	if a.inputs == nil {
		return 0
	}
	return a.inputs.Waiting()
}

// Dropped counts the inputs refused or pushed out of a full queue.
func (a *Actor) Dropped() uint64 {
	if a.inputs == nil {
		return 0
	}
	st := a.inputs.Stats()
	return st.Refused + st.Overflow
}

// Tag is one change of "it": From tagged To.
type Tag struct{ From, To uint32 }

// World is the arena's authoritative state, on the server: the players
// and who is "it". It knows no network; the server feeds it inputs and
// sends what it holds.
type World struct {
	actors []*Actor // by ID, ascending
	nextID uint32
	it     uint32 // the ID of "it", 0 with no players
	lastIt uint32 // who tagged "it" last, immune until immuneTo
	immune uint64
	tick   uint64
	rng    *rand.Rand
	seen   []Seen // every player, as bots see them at the start of a tick; reused
	// Applied, if set, is called after each network player's input is
	// applied, with the resulting state: the history the end-to-end test
	// checks prediction against.
	Applied func(a *Actor, seq uint32)
}

// NewWorld returns an empty arena; seed makes spawn points and bots
// repeatable.
func NewWorld(seed uint64) *World {
	return &World{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Tick is the number of ticks stepped.
func (w *World) Tick() uint64 { return w.tick }

// Actors are the players, by ID.
func (w *World) Actors() []*Actor { return w.actors }

// It is the ID of the player who is "it" (0 with no players).
func (w *World) It() uint32 { return w.it }

// Actor returns the player with id, or nil.
func (w *World) Actor(id uint32) *Actor {
	i, ok := slices.BinarySearchFunc(w.actors, id, func(a *Actor, id uint32) int { return cmpU32(a.ID, id) })
	if !ok {
		return nil
	}
	return w.actors[i]
}

func cmpU32(a, b uint32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Add puts a new player at a random spot, driven by bot if it is not nil.
// The first player is "it".
func (w *World) Add(name string, bot *Bot) *Actor {
	w.nextID++
	a := &Actor{ID: w.nextID, Name: name, Bot: bot}
	if bot == nil {
		a.inputs, _ = game.NewInputs[Keys](QueueSize) // a valid size cannot fail
	}
	a.State.X = Radius + w.rng.Float64()*(Width-2*Radius)
	a.State.Y = Radius + w.rng.Float64()*(Height-2*Radius)
	w.actors = append(w.actors, a) // IDs only grow
	if w.it == 0 {
		w.setIt(a)
	}
	return a
}

// Remove takes the player with id out; if it was "it", the player after
// it (or the first) becomes "it".
func (w *World) Remove(id uint32) {
	i, ok := slices.BinarySearchFunc(w.actors, id, func(a *Actor, id uint32) int { return cmpU32(a.ID, id) })
	if !ok {
		return
	}
	w.actors = slices.Delete(w.actors, i, i+1)
	if w.it != id {
		return
	}
	w.it = 0
	if len(w.actors) > 0 {
		w.setIt(w.actors[i%len(w.actors)])
	}
}

func (w *World) setIt(a *Actor) {
	if old := w.Actor(w.it); old != nil {
		old.State.It = false
	}
	w.it = a.ID
	a.State.It = true
}

// Step advances the world one tick: each network player's queued input
// (one, or two while it has a backlog: game.Inputs.Tick), each bot's
// decision, then the tag rule. It appends the tags that happened to tags and returns it.
func (w *World) Step(tags []Tag) []Tag {
	w.tick++
	w.seen = w.seen[:0]
	for _, a := range w.actors {
		w.seen = append(w.seen, Seen{a.ID, a.State})
	}
	for _, a := range w.actors {
		switch {
		case a.Bot != nil:
			a.State = Step(a.State, a.Bot.Decide(a.ID, a.State, w.seen, w.rng))
		default:
			// One input, two while a backlog lasts, none if none came.
			for seq, k := range a.inputs.Tick() {
				a.State = Step(a.State, k)
				if w.Applied != nil {
					w.Applied(a, seq)
				}
			}
		}
	}
	if t, ok := w.tag(); ok {
		tags = append(tags, t)
	}
	for _, a := range w.actors {
		if !a.State.It {
			a.Free++
		}
	}
	return tags
}

// tag applies the tag rule: "it" touching another player passes "it" to
// the nearest one it touches, except the one who just tagged it, who is
// immune for Immunity ticks.
func (w *World) tag() (Tag, bool) {
	it := w.Actor(w.it)
	if it == nil {
		return Tag{}, false
	}
	var to *Actor
	best := 4 * Radius * Radius
	for _, a := range w.actors {
		if a == it || (a.ID == w.lastIt && w.tick < w.immune) {
			continue
		}
		dx, dy := a.State.X-it.State.X, a.State.Y-it.State.Y
		if d := dx*dx + dy*dy; d < best {
			best, to = d, a
		}
	}
	if to == nil {
		return Tag{}, false
	}
	w.lastIt, w.immune = it.ID, w.tick+Immunity
	w.setIt(to)
	return Tag{From: it.ID, To: to.ID}, true
}
