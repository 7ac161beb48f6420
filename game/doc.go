// Package game holds what a real-time game needs above message passing:
// a fixed-tick loop (Run, Schedule), interpolation of remote entities
// between snapshots stamped with server time (Interpolator), prediction of
// the local player with reconciliation against the server's authoritative
// state (Predictor on the client, Inputs on the server), and interest
// management (Grid), which tells which
// connections see an entity so that a snapshot is encoded once per
// distinct content and sent with net.Server.SendTo.
//
// Server time comes from package net: Conn.ServerTime on a client's
// connection is the server's clock, estimated from the pings every
// connection exchanges (Conn.Clock says how well).
//
// Everything here runs on the game loop's goroutine: no type of this
// package is safe for concurrent use, and none starts a goroutine. None
// imports a graphics library, so a server and a headless client use it as
// a window does.
//
// The pieces fit together like this on a server ticking at 30 Hz:
//
//	err := game.Run(ctx, srv, time.Second/30, func(t game.Tick) error {
//		world.Step(t)                        // each player's inputs.Tick(): one input a tick
//		for p := range world.Players() {     // each player's own state, and its last input applied
//			p.Conn.Send(&You{Ack: p.Inputs.Ack(), State: p.State})
//		}
//		for v := range grid.Views() {        // one snapshot per distinct view
//			snap := world.Snapshot(t.At, v.Entities()) // t.At is server time (Server.Now)
//			srv.SendTo(&snap, v.Watchers()) // encoded once for all its watchers
//		}
//		return nil
//	})
//
// and like this on a client, inside an Ebiten Game.Update (60 times a
// second) or any frame loop:
//
//	client.Update(0)                            // handlers run: snapshots reach the Interpolator, You the Predictor
//	for t, ok := ticks.Due(time.Now()); ok; t, ok = ticks.Due(time.Now()) {
//		seq, me := predictor.Apply(readInput()) // the local player moves at once
//		conn.Send(&Input{Seq: seq, ...})
//	}
//	others, _ := interp.At(conn.ServerTime())   // remote entities, a little in the past
//
// demo/arena is a whole game built this way.
package game
