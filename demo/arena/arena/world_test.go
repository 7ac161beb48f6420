package arena

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gonetic/gonetic/game"
)

// TestStepDeterministic: the same keys from the same state land on the
// same bits, twice over, and the walls stop a player.
func TestStepDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	keys := make([]Keys, 3000)
	for i := range keys {
		keys[i] = Keys(rng.IntN(16))
	}
	run := func() State {
		s := State{X: 1600, Y: 1200}
		for i, k := range keys {
			s.It = i%500 < 250
			s = Step(s, k)
		}
		return s
	}
	a, b := run(), run()
	if math.Float64bits(a.X) != math.Float64bits(b.X) || math.Float64bits(a.Y) != math.Float64bits(b.Y) {
		t.Fatalf("two runs of the same inputs differ: %+v and %+v", a, b)
	}

	s := State{X: Radius + 1, Y: 100}
	s = Step(s, Left)
	if s.X != Radius || s.Y != 100 {
		t.Errorf("left into the wall: %+v, want x=%v", s, Radius)
	}
	s = Step(State{X: 100, Y: 100}, Right|Down)
	if d := math.Hypot(s.X-100, s.Y-100); math.Abs(d-Speed) > 1e-9 {
		t.Errorf("a diagonal step is %v long, want %v", d, Speed)
	}
	if s := Step(State{X: 100, Y: 100, It: true}, Right); s.X != 100+ItSpeed {
		t.Errorf("it moved to %v, want %v", s.X, 100+ItSpeed)
	}
	if s := Step(State{X: 100, Y: 100}, Left|Right); s.X != 100 {
		t.Errorf("left and right together moved to %v", s.X)
	}
}

// TestTagRule: "it" touching another passes "it" to the nearest it
// touches; the one who tagged cannot be tagged back for Immunity ticks.
func TestTagRule(t *testing.T) {
	w := NewWorld(1)
	a := w.Add("a", nil)
	b := w.Add("b", nil)
	c := w.Add("c", nil)
	if w.It() != a.ID || !a.State.It {
		t.Fatalf("the first player is not it: it=%d", w.It())
	}
	a.State.X, a.State.Y = 1000, 1000
	b.State.X, b.State.Y = 1000+2*Radius-1, 1000 // touching
	c.State.X, c.State.Y = 1000, 1000+2*Radius-5 // touching, nearer
	tags := w.Step(nil)
	if len(tags) != 1 || tags[0] != (Tag{From: a.ID, To: c.ID}) || w.It() != c.ID || a.State.It || !c.State.It {
		t.Fatalf("tags %v, it %d: want a to tag c, the nearest", tags, w.It())
	}
	// c touches a (immune) and b: b is tagged, not a.
	b.State.X, b.State.Y = 3000, 2000 // out of reach first
	for i := 0; i < Immunity-1; i++ {
		if tags := w.Step(nil); len(tags) != 0 {
			t.Fatalf("tick %d: %v tagged back during the immunity", i, tags)
		}
	}
	tags = w.Step(nil)
	if len(tags) != 1 || tags[0] != (Tag{From: c.ID, To: a.ID}) {
		t.Fatalf("after the immunity: tags %v, want c to tag a", tags)
	}
	// Scores count ticks not being it.
	if b.Free != w.Tick() {
		t.Errorf("b was never it: free %d ticks of %d", b.Free, w.Tick())
	}
	// "it" leaves: someone else is it.
	w.Remove(a.ID)
	if it := w.Actor(w.It()); it == nil || !it.State.It {
		t.Fatalf("after it left, it is %d", w.It())
	}
}

// TestInputQueue: one input applied per tick in Seq order, two while a
// backlog lasts; out-of-sequence inputs are refused and a full queue
// loses its oldest.
func TestInputQueue(t *testing.T) {
	w := NewWorld(1)
	a := w.Add("a", nil)
	var applied []uint32
	w.Applied = func(x *Actor, seq uint32) { applied = append(applied, seq) }

	a.Queue(Input{Seq: 1, Keys: Right})
	a.Queue(Input{Seq: 1, Keys: Right}) // again: refused
	w.Step(nil)
	if a.Ack() != 1 || len(applied) != 1 || a.Dropped() != 1 {
		t.Fatalf("ack %d, applied %v, dropped %d: want 1, [1], 1", a.Ack(), applied, a.Dropped())
	}
	w.Step(nil) // nothing queued: nothing applied, no move
	if a.Ack() != 1 || len(applied) != 1 {
		t.Fatalf("an empty queue applied %v", applied)
	}
	for s := uint32(2); s <= 6; s++ { // a backlog of 5
		a.Queue(Input{Seq: s, Keys: Right})
	}
	var perTick []int
	for a.Queued() > 0 {
		n := len(applied)
		w.Step(nil)
		perTick = append(perTick, len(applied)-n)
	}
	if want := []int{2, 2, 1}; !slices.Equal(perTick, want) {
		t.Errorf("inputs applied per tick with a backlog of 5: %v, want %v", perTick, want)
	}
	for i, s := range applied {
		if s != uint32(i+1) {
			t.Fatalf("applied out of order: %v", applied)
		}
	}
	x := a.State.X
	for s := uint32(7); s < 7+QueueSize+3; s++ {
		a.Queue(Input{Seq: s})
	}
	if a.Queued() != QueueSize || a.Dropped() != 1+3 {
		t.Errorf("overflow: %d queued, %d dropped; want %d, 4", a.Queued(), a.Dropped(), QueueSize)
	}
	if a.State.X != x {
		t.Errorf("queueing moved the player")
	}
	n := len(applied)
	w.Step(nil)
	if got := applied[n]; got != 10 {
		t.Errorf("after overflow the first input applied is %d, want 10 (7 to 9 pushed out)", got)
	}

}

// TestBotsPlay: a world of bots keeps everyone inside and passes "it"
// around (the chase works).
func TestBotsPlay(t *testing.T) {
	w := NewWorld(3)
	for range 20 {
		w.Add("bot", &Bot{})
	}
	var tags []Tag
	for range 60 * TickRate {
		tags = w.Step(tags)
	}
	if len(tags) < 3 {
		t.Errorf("%d tags in a minute of 20 bots", len(tags))
	}
	for _, a := range w.Actors() {
		if a.State.X < Radius || a.State.X > Width-Radius || a.State.Y < Radius || a.State.Y > Height-Radius {
			t.Errorf("bot %d left the arena: %+v", a.ID, a.State)
		}
	}
}

// BenchmarkWorldStep is one tick of 100 bots: their decisions (each looks
// at every player) and the tag rule; the part of the server's tick work
// that is not the network's.
func BenchmarkWorldStep(b *testing.B) {
	w := NewWorld(1)
	for range 100 {
		w.Add("bot", &Bot{})
	}
	var tags []Tag
	b.ReportAllocs()
	for b.Loop() {
		tags = w.Step(tags[:0])
	}
}

// TestPredictionAcrossTag plays the client's side against a World with a
// latency of a few ticks each way, as the network would: the predicted
// player is "it" and runs into another, which tags it and slows it down
// (ItSpeed → Speed). The prediction is exact before the tag, off by at
// most ItSpeed − Speed a tick until the server's word comes back, and
// exact again after it.
func TestPredictionAcrossTag(t *testing.T) {
	const latency = 3 // ticks each way
	w := NewWorld(1)
	a := w.Add("a", nil) // it
	b := w.Add("b", nil)
	a.State = State{X: 1000, Y: 1000, It: true}
	b.State = State{X: 1000 + 2*Radius + 100, Y: 1000}
	server := map[uint32]State{}
	w.Applied = func(x *Actor, seq uint32) {
		if x == a {
			server[seq] = x.State
		}
	}
	p, err := game.NewPredictor(a.State, Step, 0)
	if err != nil {
		t.Fatal(err)
	}
	type you struct {
		ack uint32
		s   State
	}
	var toServer [latency][]Input
	var toClient [latency][]you
	predicted := map[uint32]State{}
	tagTick := uint64(0)
	for tick := range 120 {
		slot := tick % latency
		// What was sent latency ticks ago arrives now.
		for _, in := range toServer[slot] {
			a.Queue(in)
		}
		for _, y := range toClient[slot] {
			p.Reconcile(y.ack, y.s)
		}
		seq, s := p.Apply(Right)
		predicted[seq] = s
		toServer[slot] = []Input{{Seq: seq, Keys: Right}}
		if tags := w.Step(nil); len(tags) > 0 && tagTick == 0 {
			tagTick = w.Tick()
		}
		toClient[slot] = []you{{a.Ack(), a.State}}
	}
	if tagTick == 0 {
		t.Fatal("no tag: the players never met")
	}
	var off []uint32
	for seq, s := range predicted {
		auth, ok := server[seq]
		if !ok {
			continue
		}
		if d := math.Abs(s.X - auth.X); d != 0 {
			off = append(off, seq)
			if d > maxAfterTag {
				t.Errorf("input %d: predicted %v off by %v, more than %v", seq, s.X, d, maxAfterTag)
			}
		}
	}
	if len(off) == 0 {
		t.Fatal("the tag changed nothing in the prediction: is it still slowed by the tag?")
	}
	// The inputs off are those applied after the tag and predicted before
	// the client heard of it: a round trip and the queue, no more.
	for _, seq := range off {
		if seq < uint32(tagTick)-latency || seq > uint32(tagTick)+4*latency {
			t.Errorf("input %d mispredicted, far from the tag at tick %d: %v", seq, tagTick, off)
		}
	}
	slices.Sort(off)
	t.Logf("tag at tick %d; %d inputs mispredicted: %v", tagTick, len(off), off)
}
