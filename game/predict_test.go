package game_test

import (
	"math/rand/v2"
	"testing"

	"github.com/gonetic/gonetic/game"
)

// pos and move are a deterministic player: a move adds to the position,
// and a wall at X = wallX stops it.
type pos struct{ X, Y int }

type move struct{ DX, DY int }

const wallX = 50

func step(p pos, m move) pos {
	p.X, p.Y = min(p.X+m.DX, wallX), p.Y+m.DY
	return p
}

// fold is the reference: s stepped by every input of in.
func fold(s pos, in []move) pos {
	for _, m := range in {
		s = step(s, m)
	}
	return s
}

func newPredictor(t testing.TB, size int) *game.Predictor[pos, move] {
	t.Helper()
	p, err := game.NewPredictor(pos{}, step, size)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNewPredictorRejects(t *testing.T) {
	if _, err := game.NewPredictor[pos, move](pos{}, nil, 0); err == nil {
		t.Error("NewPredictor with a nil step: no error")
	}
	if _, err := game.NewPredictor(pos{}, step, -1); err == nil {
		t.Error("NewPredictor with size -1: no error")
	}
	p := newPredictor(t, 0)
	for range game.DefaultPredictorSize + 1 {
		p.Apply(move{1, 0})
	}
	if got := p.Pending(); got != game.DefaultPredictorSize {
		t.Errorf("size 0: %d pending after %d inputs, want DefaultPredictorSize (%d)", got, game.DefaultPredictorSize+1, game.DefaultPredictorSize)
	}
}

// TestPredictorNoCorrection: a server that applies the same inputs finds
// what the client predicted, so every reconciliation leaves the predicted
// state as it was, and the last leaves nothing pending.
func TestPredictorNoCorrection(t *testing.T) {
	p := newPredictor(t, 16)
	var sent []move
	server := pos{}
	const lag = 3 // the server is 3 inputs behind
	for i := range 40 {
		m := move{DX: i%3 - 1 + 2, DY: i%5 - 2}
		seq, s := p.Apply(m)
		if seq != uint32(i+1) {
			t.Fatalf("input %d: seq %d, want %d", i, seq, i+1)
		}
		sent = append(sent, m)
		if s != fold(pos{}, sent) {
			t.Fatalf("input %d: predicted %v, want %v", seq, s, fold(pos{}, sent))
		}
		if i >= lag {
			ack := uint32(i + 1 - lag)
			server = step(server, sent[ack-1])
			if got := p.Reconcile(ack, server); got != s {
				t.Fatalf("Reconcile(%d): %v, want the prediction %v", ack, got, s)
			}
			if p.Pending() != lag {
				t.Fatalf("after Reconcile(%d): %d pending, want %d", ack, p.Pending(), lag)
			}
		}
	}
	for ack := uint32(len(sent) - lag + 1); ack <= uint32(len(sent)); ack++ {
		server = step(server, sent[ack-1])
		p.Reconcile(ack, server)
	}
	if p.State() != server || p.Pending() != 0 {
		t.Errorf("all acknowledged: state %v with %d pending, want the server's %v and 0", p.State(), p.Pending(), server)
	}
	st := p.Stats()
	if st.Applied != 40 || st.Reconciled != 40 || st.Stale != 0 || st.Forgotten != 0 {
		t.Errorf("stats %+v: want 40 applied, 40 reconciled, none stale or forgotten", st)
	}
}

// TestPredictorCorrection: the server's state differs in the middle of a
// prediction (the player was pushed into the wall); the reconciled state
// is the server's, stepped by the inputs it has not seen.
func TestPredictorCorrection(t *testing.T) {
	p := newPredictor(t, 16)
	var sent []move
	for range 10 {
		m := move{DX: 2, DY: 1}
		p.Apply(m)
		sent = append(sent, m)
	}
	// The server applied inputs 1…4, then another player pushed ours to
	// the wall.
	auth := fold(pos{}, sent[:4])
	auth.X = wallX - 1
	got := p.Reconcile(4, auth)
	want := fold(auth, sent[4:])
	if got != want || p.State() != want {
		t.Fatalf("Reconcile(4, %v) = %v (State %v), want %v: auth stepped by inputs 5…10", auth, got, p.State(), want)
	}
	if got.X != wallX {
		t.Fatalf("replayed state %v: the wall at X=%d did not stop it", got, wallX)
	}
	if p.Pending() != 6 {
		t.Errorf("%d pending, want 6", p.Pending())
	}
	if st := p.Stats(); st.Replayed != 6 {
		t.Errorf("Replayed %d, want 6", st.Replayed)
	}
	// Prediction goes on from the corrected state.
	if _, s := p.Apply(move{DX: -5}); s != step(want, move{DX: -5}) {
		t.Errorf("Apply after the correction: %v, want %v", s, step(want, move{DX: -5}))
	}
}

// TestPredictorStaleAndDuplicateAcks: an older ack is ignored and
// counted; the same ack again is taken, since the server's state can move
// without our input; an ack beyond the last input acknowledges them all.
func TestPredictorStaleAndDuplicateAcks(t *testing.T) {
	p := newPredictor(t, 16)
	in := []move{{1, 0}, {1, 0}, {1, 0}, {1, 0}, {1, 0}}
	for _, m := range in {
		p.Apply(m)
	}
	auth := pos{X: 3, Y: 7}
	if got, want := p.Reconcile(3, auth), fold(auth, in[3:]); got != want {
		t.Fatalf("Reconcile(3): %v, want %v", got, want)
	}
	before := p.State()
	if got := p.Reconcile(2, pos{X: -100}); got != before || p.State() != before {
		t.Fatalf("stale Reconcile(2): %v (State %v), want unchanged %v", got, p.State(), before)
	}
	if p.Pending() != 2 {
		t.Fatalf("after a stale ack: %d pending, want 2", p.Pending())
	}
	// Same ack, the server's state moved (pushed): taken.
	auth2 := pos{X: 3, Y: 9}
	if got, want := p.Reconcile(3, auth2), fold(auth2, in[3:]); got != want {
		t.Fatalf("duplicate Reconcile(3) with a new state: %v, want %v", got, want)
	}
	// Beyond the last input: all acknowledged, nothing replayed.
	auth3 := pos{X: 40}
	if got := p.Reconcile(1000, auth3); got != auth3 || p.Pending() != 0 {
		t.Fatalf("Reconcile(1000) after 5 inputs: %v with %d pending, want %v and 0", got, p.Pending(), auth3)
	}
	if seq, _ := p.Apply(move{}); seq != 6 {
		t.Fatalf("seq after an ack beyond the last: %d, want 6", seq)
	}
	st := p.Stats()
	if st.Stale != 1 || st.Reconciled != 3 {
		t.Errorf("stats %+v: want 1 stale, 3 reconciled", st)
	}
	// Ack 0 before any input: the server's initial state.
	q := newPredictor(t, 4)
	if got := q.Reconcile(0, pos{Y: 5}); got != (pos{Y: 5}) {
		t.Errorf("Reconcile(0) on a new Predictor: %v, want {0 5}", got)
	}
}

// TestPredictorOverflow: with more than size inputs pending, the oldest
// are forgotten; a later ack replays only the inputs kept.
func TestPredictorOverflow(t *testing.T) {
	const size = 4
	p := newPredictor(t, size)
	var sent []move
	for i := range 10 {
		m := move{DX: 1, DY: i}
		p.Apply(m)
		sent = append(sent, m)
	}
	if p.Pending() != size {
		t.Fatalf("%d pending after 10 inputs, want %d", p.Pending(), size)
	}
	if st := p.Stats(); st.Forgotten != 10-size {
		t.Fatalf("Forgotten %d, want %d", st.Forgotten, 10-size)
	}
	// The server has seen inputs 1…2 only: 3…6 are lost, 7…10 replayed.
	auth := pos{Y: 100}
	if got, want := p.Reconcile(2, auth), fold(auth, sent[10-size:]); got != want {
		t.Errorf("Reconcile(2) after overflow: %v, want %v (auth stepped by the %d inputs kept)", got, want, size)
	}
	if st := p.Stats(); st.Replayed != size {
		t.Errorf("Replayed %d, want %d", st.Replayed, size)
	}
	// Then ack 8: 9 and 10 remain.
	if got, want := p.Reconcile(8, auth), fold(auth, sent[8:]); got != want || p.Pending() != 2 {
		t.Errorf("Reconcile(8): %v with %d pending, want %v and 2", got, p.Pending(), want)
	}
}

// TestPredictorAgainstReference: seeded random inputs; a server that
// receives them some ticks later, applies each once (sometimes pushing the
// player), and sends back (ack, state), which arrive late and out of
// order. After every Reconcile the Predictor must be what the reference
// says: the newest acked state stepped by the inputs after it still kept.
func TestPredictorAgainstReference(t *testing.T) {
	for seed := range uint64(50) {
		r := rand.New(rand.NewPCG(seed, 18))
		size := 1 + r.IntN(40)
		p := newPredictor(t, size)
		var sent []move
		server := pos{}
		applied := 0 // inputs the server has applied
		type reply struct {
			at  int // tick it reaches the client
			ack uint32
			s   pos
		}
		var inflight []reply
		var maxAck uint32
		refState := pos{}
		for tick := range 400 {
			m := move{DX: r.IntN(7) - 3, DY: r.IntN(7) - 3}
			seq, s := p.Apply(m)
			sent = append(sent, m)
			refState = step(refState, m)
			if s != refState || seq != uint32(len(sent)) {
				t.Fatalf("seed %d tick %d: Apply = %d, %v; want %d, %v", seed, tick, seq, s, len(sent), refState)
			}
			// The server applies what has reached it (lag 0…5 ticks, in
			// order), sometimes pushes, and replies.
			reached := max(0, len(sent)-r.IntN(6))
			for applied < reached {
				server = step(server, sent[applied])
				applied++
			}
			if r.IntN(8) == 0 {
				server.Y += r.IntN(11) - 5
			}
			if r.IntN(3) != 0 {
				inflight = append(inflight, reply{at: tick + r.IntN(8), ack: uint32(applied), s: server})
			}
			// Replies due this tick arrive in random order.
			r.Shuffle(len(inflight), func(i, j int) { inflight[i], inflight[j] = inflight[j], inflight[i] })
			kept := inflight[:0]
			for _, rp := range inflight {
				if rp.at > tick {
					kept = append(kept, rp)
					continue
				}
				got := p.Reconcile(rp.ack, rp.s)
				if rp.ack >= maxAck {
					maxAck = rp.ack
					first := max(int(rp.ack), len(sent)-size) // inputs kept: first+1 … len(sent)
					refState = fold(rp.s, sent[first:])
				}
				if got != refState || p.State() != refState {
					t.Fatalf("seed %d tick %d: Reconcile(%d) = %v, want %v", seed, tick, rp.ack, got, refState)
				}
				if want := len(sent) - max(int(maxAck), len(sent)-size); p.Pending() != want {
					t.Fatalf("seed %d tick %d: %d pending, want %d", seed, tick, p.Pending(), want)
				}
			}
			inflight = kept
		}
	}
}

// The steady state of a client at 30 Hz: an input each tick, a reply
// each tick, 6 inputs in flight. No allocation.
func BenchmarkPredictor(b *testing.B) {
	p := newPredictor(b, 0)
	server := pos{}
	var seq uint32
	b.ReportAllocs()
	for b.Loop() {
		seq, _ = p.Apply(move{DX: 1, DY: -1})
		if seq > 6 {
			server = step(server, move{DX: 1, DY: -1})
			p.Reconcile(seq-6, server)
		}
	}
	if p.Pending() > 6 {
		b.Fatalf("%d pending", p.Pending())
	}
}

func TestPredictorAllocatesNothing(t *testing.T) {
	p := newPredictor(t, 0)
	server := pos{}
	for range 10 {
		p.Apply(move{DX: 1})
	}
	if n := testing.AllocsPerRun(1000, func() {
		seq, _ := p.Apply(move{DX: 1})
		server = step(server, move{DX: 1})
		p.Reconcile(seq-10, server)
	}); n != 0 {
		t.Errorf("%v allocations per Apply and Reconcile, want 0", n)
	}
}
