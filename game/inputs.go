package game

import (
	"fmt"
	"iter"
)

// DefaultInputsSize is how many inputs Inputs keeps waiting by default:
// about a second at 30 Hz.
const DefaultInputsSize = 32

// CatchUp is the backlog above which Inputs hands out two inputs a tick
// instead of one, until it is gone: a client whose inputs came in a burst,
// or whose clock runs a little fast, is caught up without the server ever
// applying more than twice the client's speed.
const CatchUp = 2

// InputStats count what Inputs did.
type InputStats struct {
	Taken uint64 // inputs handed out by Tick
	// Refused counts inputs whose sequence number was not above the last
	// one pushed: duplicates, and inputs that came out of order.
	Refused uint64
	// Overflow counts inputs dropped unapplied because Size were already
	// waiting: the client sends faster than the server ticks.
	Overflow uint64
}

// Inputs is the server's side of a Predictor: one player's inputs, kept
// in sequence order and handed out one per tick, each once, so that the
// server steps the player as the client predicted it, and acknowledges
// the last one applied (Ack) with the player's state.
//
// A tick with no input waiting hands out none: the player stands still on
// the server, and the client's prediction is corrected when the state
// arrives. An Inputs is for one goroutine, the game loop's.
type Inputs[I any] struct {
	ring  []inputAt[I]
	head  int    // the oldest waiting
	n     int    // how many wait
	last  uint32 // the highest sequence number pushed
	ack   uint32 // the sequence number of the last input handed out
	stats InputStats
}

type inputAt[I any] struct {
	seq uint32
	in  I
}

// NewInputs returns an empty Inputs that keeps at most size inputs waiting
// (0: DefaultInputsSize).
func NewInputs[I any](size int) (*Inputs[I], error) {
	if size < 0 {
		return nil, fmt.Errorf("game: NewInputs: size %d: it must be at least 1, or 0 for DefaultInputsSize", size)
	}
	if size == 0 {
		size = DefaultInputsSize
	}
	return &Inputs[I]{ring: make([]inputAt[I], size)}, nil
}

// Push keeps input in, numbered seq (Predictor.Apply's number), for a
// coming tick. It reports false, and drops in, if seq is not above the
// last number pushed. When Size inputs already wait, the oldest is dropped
// to make room.
func (q *Inputs[I]) Push(seq uint32, in I) bool {
	if seq <= q.last {
		q.stats.Refused++
		return false
	}
	q.last = seq
	if q.n == len(q.ring) {
		q.head = (q.head + 1) % len(q.ring)
		q.n--
		q.stats.Overflow++
	}
	q.ring[(q.head+q.n)%len(q.ring)] = inputAt[I]{seq, in}
	q.n++
	return true
}

// Tick yields this tick's inputs with their numbers, in order: one, two
// while more than CatchUp wait, none when none does. Each input is yielded
// once; Ack is the number of the last one yielded. Call it once a tick.
func (q *Inputs[I]) Tick() iter.Seq2[uint32, I] {
	return func(yield func(uint32, I) bool) {
		take := min(q.n, 1)
		if q.n > CatchUp {
			take = 2
		}
		for range take {
			e := q.ring[q.head]
			q.ring[q.head] = inputAt[I]{} // let go of what the input holds
			q.head = (q.head + 1) % len(q.ring)
			q.n--
			q.ack = e.seq
			q.stats.Taken++
			if !yield(e.seq, e.in) {
				return
			}
		}
	}
}

// Ack is the sequence number of the last input Tick handed out (0 before
// the first): send it with the player's state, for Predictor.Reconcile.
func (q *Inputs[I]) Ack() uint32 { return q.ack }

// Waiting is the number of inputs waiting for a tick.
func (q *Inputs[I]) Waiting() int { return q.n }

// Stats returns the counters.
func (q *Inputs[I]) Stats() InputStats { return q.stats }
