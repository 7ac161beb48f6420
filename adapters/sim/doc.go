// Package sim plays a game over a bad network on one machine: lag, jitter,
// loss (independent or in bursts), duplicates, reordering, a bandwidth
// limit with its queue, and an MTU, each set per direction and changeable
// while the game runs.
//
// One line puts a Server or a Client under a Sim's conditions:
//
//	s, err := sim.New(sim.Both(sim.Conditions{Lag: 75 * time.Millisecond, Loss: 0.05}))
//	…
//	cfg.Transport, err = s.Wrap(udp) // udp from enet.New: a 150 ms round trip, 5 % loss each way
//
// Parse reads the same conditions from a flag, "lag=75ms,loss=5%"; the
// demos take it as -sim.
//
// # Where the conditions act
//
// Between the sockets, as a network would: a Sim impairs UDP datagrams or
// TCP bytes in a relay that the wrapped transport puts between the two
// ends (Wrap), or that any program reaches (Relay). So what is tested is
// the adapter's own reliability layer: ENet's acknowledgements,
// retransmission, ordering and throttle see the losses; TCP's flow control
// sees the rate limit.
//
//	condition                      enet (UDP datagrams)   tcp (byte stream)
//	Lag, Jitter                    yes                    yes
//	Rate, Queue                    yes (tail drop)        yes (reading waits)
//	Loss, Burst, Duplicate         yes                    no: a stream loses nothing
//	Reorder, ReorderDelay, MTU     yes                    no: a stream keeps its order
//
// Wrap refuses a Sim that sets conditions a stream adapter cannot have;
// a later Set that adds them does not apply to streams. Delivery modes then
// behave as on a real network: over ENet, sequenced and unsequenced
// messages are lost with their datagrams, reliable ones are resent; over
// TCP everything arrives, late.
//
// A wrapped Dial has a relay of its own on a loopback port; a wrapped
// listener listens on a loopback port and puts the relay on the address it
// was asked for, so clients that are not wrapped reach it through the Sim
// too. Links report the real peer's address. Set changes the conditions of
// every relay made from the Sim at once.
//
// Up is the direction from the client (the side that dials) to the
// server, Down the other one, whichever side was wrapped: a wrapped
// Client with Up loss loses what it sends. Wrapping both sides applies the
// conditions twice.
//
// # Replaying a run
//
// Every session through a relay draws its fates from its own random
// stream, derived from Config.Seed and the order in which sessions
// started: with the same seed and the same traffic, the nth datagram of a
// session meets the same fate. Timing on a busy machine still varies, so a
// replay is close, not exact. Sim.String names the seed in use, the one New
// picked when Config.Seed was 0.
//
// # Cost
//
// With every condition zero, a datagram or a read is passed on by the
// goroutine that read it, with no copy and no allocation: one more socket
// read and write on the loopback. docs/PERF.md has the measured latency it
// adds. A delayed datagram is copied into a pooled buffer and released by
// one scheduling goroutine per relay.
package sim
