package game_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gonetic/gonetic/game"
)

func newInputs(t testing.TB, size int) *game.Inputs[int] {
	t.Helper()
	q, err := game.NewInputs[int](size)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// tick collects what one Tick hands out.
func tick(q *game.Inputs[int]) (seqs []uint32, ins []int) {
	for seq, in := range q.Tick() {
		seqs, ins = append(seqs, seq), append(ins, in)
	}
	return seqs, ins
}

func TestInputsOnePerTick(t *testing.T) {
	q := newInputs(t, 0)
	if seqs, _ := tick(q); len(seqs) != 0 || q.Ack() != 0 {
		t.Fatalf("an empty queue handed out %v, Ack %d", seqs, q.Ack())
	}
	q.Push(1, 10)
	q.Push(2, 20)
	for want := uint32(1); want <= 2; want++ {
		seqs, ins := tick(q)
		if !slices.Equal(seqs, []uint32{want}) || ins[0] != int(want)*10 || q.Ack() != want {
			t.Fatalf("tick %d handed out %v %v, Ack %d", want, seqs, ins, q.Ack())
		}
	}
	if seqs, _ := tick(q); len(seqs) != 0 || q.Ack() != 2 {
		t.Fatalf("after the queue ran dry: %v, Ack %d, want nothing and Ack 2", seqs, q.Ack())
	}
}

// A backlog above CatchUp is taken two a tick until it is down to CatchUp.
func TestInputsCatchUp(t *testing.T) {
	q := newInputs(t, 0)
	for seq := uint32(1); seq <= 5; seq++ {
		q.Push(seq, int(seq))
	}
	var got [][]uint32
	for q.Waiting() > 0 {
		seqs, _ := tick(q)
		got = append(got, seqs)
	}
	want := [][]uint32{{1, 2}, {3, 4}, {5}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("a backlog of 5 went out as %v, want %v", got, want)
	}
}

func TestInputsRefusesOldAndDuplicate(t *testing.T) {
	q := newInputs(t, 0)
	for _, p := range []struct {
		seq  uint32
		want bool
	}{{1, true}, {1, false}, {3, true}, {2, false}, {0, false}, {4, true}} {
		if got := q.Push(p.seq, 0); got != p.want {
			t.Fatalf("Push(%d) = %v, want %v", p.seq, got, p.want)
		}
	}
	if st := q.Stats(); st.Refused != 3 || q.Waiting() != 3 {
		t.Fatalf("stats %+v, %d waiting; want 3 refused, 3 waiting", st, q.Waiting())
	}
}

func TestInputsOverflowDropsTheOldest(t *testing.T) {
	q := newInputs(t, 4)
	for seq := uint32(1); seq <= 6; seq++ {
		q.Push(seq, int(seq))
	}
	if st := q.Stats(); st.Overflow != 2 || q.Waiting() != 4 {
		t.Fatalf("stats %+v, %d waiting; want 2 dropped, 4 waiting", st, q.Waiting())
	}
	if seqs, _ := tick(q); seqs[0] != 3 {
		t.Fatalf("first out after an overflow: %v, want 3 (1 and 2 dropped)", seqs)
	}
}

func TestNewInputsRefusesNegativeSize(t *testing.T) {
	if _, err := game.NewInputs[int](-1); err == nil {
		t.Fatal("NewInputs(-1) accepted")
	}
}

// The contract with Predictor: a server that takes inputs through Inputs,
// however they bunch up on the way, acknowledges states the client
// predicted: the server's state after input N is the client's prediction
// after N, so reconciling changes nothing.
func TestInputsWithPredictor(t *testing.T) {
	type pos struct{ X, Y int }
	step := func(p pos, in int) pos { return pos{p.X + in%3 - 1, p.Y + in/3 - 1} }
	rng := rand.New(rand.NewPCG(7, 18))
	pred, err := game.NewPredictor(pos{}, step, 0)
	if err != nil {
		t.Fatal(err)
	}
	q := newInputs(t, 0)
	predicted := map[uint32]pos{}
	type msg struct {
		seq uint32
		in  int
	}
	var wire []msg // client → server, delivered in bunches
	server := pos{}
	for range 3000 {
		in := rng.IntN(9)
		seq, p := pred.Apply(in)
		predicted[seq] = p
		wire = append(wire, msg{seq, in})
		if rng.IntN(4) == 0 { // a bunch arrives: in order, sometimes twice
			for _, m := range wire {
				q.Push(m.seq, m.in)
				if rng.IntN(10) == 0 {
					q.Push(m.seq, m.in)
				}
			}
			wire = wire[:0]
		}
		for _, in := range q.Tick() {
			server = step(server, in)
		}
		if ack := q.Ack(); ack > 0 {
			if server != predicted[ack] {
				t.Fatalf("after input %d the server is at %v, the client predicted %v", ack, server, predicted[ack])
			}
			before := pred.State()
			if after := pred.Reconcile(ack, server); after != before {
				t.Fatalf("reconciling with ack %d moved the prediction from %v to %v", ack, before, after)
			}
		}
	}
	if st := q.Stats(); st.Overflow != 0 || st.Refused == 0 {
		t.Fatalf("stats %+v: want duplicates refused and nothing dropped", st)
	}
}

func TestInputsTickAllocatesNothing(t *testing.T) {
	q := newInputs(t, 0)
	seq := uint32(0)
	sum := 0
	allocs := testing.AllocsPerRun(1000, func() {
		seq++
		q.Push(seq, 1)
		for _, in := range q.Tick() {
			sum += in
		}
	})
	if allocs != 0 {
		t.Fatalf("Push and Tick allocate %v times", allocs)
	}
}
