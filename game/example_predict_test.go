package game_test

import (
	"fmt"

	"github.com/gonetic/gonetic/game"
)

// A client predicts its player with each input at once, and reconciles
// when the server's state arrives with the number of the last input it
// applied. Here the server, one input behind, was pushed by someone else:
// the client takes its state and replays the input the server has not
// seen yet.
func ExamplePredictor() {
	type Pos struct{ X, Y int }
	type Input struct{ DX, DY int }
	step := func(p Pos, in Input) Pos { return Pos{p.X + in.DX, p.Y + in.DY} }

	pred, err := game.NewPredictor(Pos{}, step, 0)
	if err != nil {
		panic(err)
	}
	for _, in := range []Input{{1, 0}, {1, 0}, {0, 1}} {
		seq, me := pred.Apply(in) // send Input with seq to the server, draw me
		fmt.Println("input", seq, "predicted", me)
	}

	// The server's snapshot: after input 2, and pushed one step down.
	me := pred.Reconcile(2, Pos{2, -1})
	fmt.Println("reconciled", me, "pending", pred.Pending())
	// Output:
	// input 1 predicted {1 0}
	// input 2 predicted {2 0}
	// input 3 predicted {2 1}
	// reconciled {2 0} pending 1
}

// The server's side of prediction: a player's inputs wait in Inputs and
// are applied one a tick (two while a burst is caught up), with the step
// function the client predicts with; the state goes back with Ack, the
// number of the last input applied, for the client's Reconcile.
func ExampleInputs() {
	type Pos struct{ X, Y int }
	type Input struct{ DX, DY int }
	step := func(p Pos, in Input) Pos { return Pos{p.X + in.DX, p.Y + in.DY} }

	inputs, err := game.NewInputs[Input](0)
	if err != nil {
		panic(err)
	}
	// In the input message's handler: three inputs arrived at once.
	inputs.Push(1, Input{1, 0})
	inputs.Push(2, Input{1, 0})
	inputs.Push(3, Input{0, 1})
	inputs.Push(3, Input{0, 1}) // a duplicate is refused

	var me Pos
	for tick := range 3 {
		for _, in := range inputs.Tick() {
			me = step(me, in)
		}
		fmt.Println("tick", tick, "state", me, "ack", inputs.Ack()) // send State and Ack to the client
	}
	// Output:
	// tick 0 state {2 0} ack 2
	// tick 1 state {2 1} ack 3
	// tick 2 state {2 1} ack 3
}
