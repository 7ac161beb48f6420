// Package transporttest is the conformance suite every network adapter
// (adapters/tcp, adapters/mem, adapters/enet) runs from its tests: one body
// of tests for the transport.Transport contract, so that all adapters
// behave alike where the layer above depends on it.
//
//	func TestConformance(t *testing.T) {
//		transporttest.Run(t, func(*testing.T) transport.Transport { return tcp.New(tcp.Options{}) },
//			"127.0.0.1:0", transporttest.Options{})
//	}
//
// Every subtest waits on events (a Sink call, a Close returning), never on
// sleeps, with a deadline of 10 s, checks the Sink contract (no overlapping
// calls, Closed once and last) and fails if goroutines outlive it.
//
// Await is the same wait on an event for the adapters' own tests.
package transporttest
