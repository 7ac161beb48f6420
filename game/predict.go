package game

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
// state the sequence number of the last input applied.
type Predictor[S, I any] struct {
	step func(S, I) S
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
	panic("unimplemented")
}

// Apply steps the predicted state with input in and keeps in for replay.
// It returns the input's sequence number (1, 2, 3, …), to send to the
// server with the input, and the new predicted state.
func (p *Predictor[S, I]) Apply(in I) (seq uint32, s S) {
	panic("unimplemented")
}

// Reconcile takes auth, the server's state after the input numbered ack
// (0: before any input), forgets the inputs up to ack, and replays those
// after it. It returns the new predicted state. An ack older than one
// already reconciled is ignored (the state is returned unchanged).
func (p *Predictor[S, I]) Reconcile(ack uint32, auth S) S {
	panic("unimplemented")
}

// State is the predicted state.
func (p *Predictor[S, I]) State() S {
	panic("unimplemented")
}

// Pending is the number of inputs not yet acknowledged.
func (p *Predictor[S, I]) Pending() int {
	panic("unimplemented")
}

// Stats returns the counters.
func (p *Predictor[S, I]) Stats() PredictorStats {
	panic("unimplemented")
}
