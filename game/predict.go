package game

import "fmt"

// DefaultPredictorSize is how many unacknowledged inputs a Predictor keeps
// by default: 4 s at 30 Hz.
const DefaultPredictorSize = 128

// Predictor predicts the local player: each input is applied at once
// with the game's own step function, and kept, numbered, until the server
// acknowledges it. When an authoritative state arrives that says which
// input it includes, Reconcile starts again from that state and replays
// the inputs the server has not seen yet, so that the local player moves
// without waiting for the round trip and still ends where the server says.
//
// The server's side of the contract: apply each input once, with the same
// step function, in sequence order, and send back with the resulting
// state the sequence number of the last input applied. That state and its
// number are the connection's own: when the world snapshot is shared by
// many connections (one per Grid view, encoded once), send them in a small
// message of their own beside it, as demo/arena does. Inputs is that side:
// a player's inputs in order, one a tick.
//
// Sequence numbers do not wrap: 2³² inputs last two years at 60 Hz, so a
// session is expected to make a new Predictor long before.
type Predictor[S, I any] struct {
	step  func(S, I) S
	state S
	// ring holds the pending inputs, input seq at ring[seq%len(ring)]:
	// the inputs numbered first … last.
	ring  []I
	first uint32 // the oldest pending input (last+1 when none is)
	last  uint32 // the last input applied (0: none yet)
	acked uint32 // the ack last reconciled
	stats PredictorStats
}

// PredictorStats count what a Predictor did.
type PredictorStats struct {
	Applied    uint64 // inputs applied
	Reconciled uint64 // authoritative states taken
	Stale      uint64 // authoritative states ignored: older than one already taken
	Replayed   uint64 // inputs replayed after authoritative states
	// Forgotten counts inputs dropped unacknowledged because more than
	// the Predictor's size were pending: the server is not answering.
	Forgotten uint64
}

// NewPredictor returns a Predictor whose state starts at initial, which
// keeps at most size unacknowledged inputs (0: DefaultPredictorSize).
// step must be deterministic: the same state and input give the same
// result, here and on the server.
func NewPredictor[S, I any](initial S, step func(S, I) S, size int) (*Predictor[S, I], error) {
	if step == nil {
		return nil, fmt.Errorf("game: NewPredictor: step is nil: pass the function that applies one input to a state, the server's own")
	}
	if size < 0 {
		return nil, fmt.Errorf("game: NewPredictor: size %d: it must be at least 1, or 0 for DefaultPredictorSize", size)
	}
	if size == 0 {
		size = DefaultPredictorSize
	}
	return &Predictor[S, I]{step: step, state: initial, ring: make([]I, size), first: 1}, nil
}

// Apply steps the predicted state with input in and keeps in for replay.
// It returns the input's sequence number (1, 2, 3, …), to send to the
// server with the input, and the new predicted state. When the Predictor
// already keeps its size of unacknowledged inputs, the oldest is
// forgotten (PredictorStats.Forgotten): it will not be replayed.
func (p *Predictor[S, I]) Apply(in I) (seq uint32, s S) {
	p.last++
	if p.last-p.first >= uint32(len(p.ring)) {
		p.drop(p.first)
		p.stats.Forgotten++
	}
	p.ring[p.last%uint32(len(p.ring))] = in
	p.state = p.step(p.state, in)
	p.stats.Applied++
	return p.last, p.state
}

// Reconcile takes auth, the server's state after the input numbered ack
// (0: before any input), forgets the inputs up to ack, and replays those
// after it. It returns the new predicted state.
//
// An ack older than one already reconciled is ignored (the state is
// returned unchanged, PredictorStats.Stale counts it): it comes from a
// snapshot overtaken by a newer one. The same ack again is taken, since
// the server's state may have changed without any new input of ours (a
// push by another player). An ack beyond the last input applied
// acknowledges every input.
func (p *Predictor[S, I]) Reconcile(ack uint32, auth S) S {
	if ack < p.acked {
		p.stats.Stale++
		return p.state
	}
	ack = min(ack, p.last)
	p.acked = ack
	for p.first <= ack {
		p.drop(p.first)
	}
	p.state = auth
	for seq := p.first; seq <= p.last; seq++ {
		p.state = p.step(p.state, p.ring[seq%uint32(len(p.ring))])
	}
	p.stats.Replayed += uint64(p.last + 1 - p.first)
	p.stats.Reconciled++
	return p.state
}

// drop forgets the oldest pending input, seq, clearing its slot so that
// the ring holds on to nothing the input points to.
func (p *Predictor[S, I]) drop(seq uint32) {
	var zero I
	p.ring[seq%uint32(len(p.ring))] = zero
	p.first = seq + 1
}

// State is the predicted state.
func (p *Predictor[S, I]) State() S { return p.state }

// Pending is the number of inputs not yet acknowledged.
func (p *Predictor[S, I]) Pending() int { return int(p.last + 1 - p.first) }

// Stats returns the counters.
func (p *Predictor[S, I]) Stats() PredictorStats { return p.stats }
