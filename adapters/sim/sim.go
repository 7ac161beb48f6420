package sim

import (
	"fmt"
	"math/rand/v2"
	"sync/atomic"
)

// Sim is one set of network conditions, shared by the relays and the
// wrapped transports made from it. Its methods are safe for concurrent use;
// Set changes the conditions of every path at once, while traffic flows.
type Sim struct {
	cfg      atomic.Pointer[Config]
	seed     uint64
	sessions atomic.Uint64 // sessions started, which picks their random streams
	up, down counters
}

// New returns a Sim with cfg's conditions. It fails when a condition is
// out of range (a fraction above 1, a negative duration).
func New(cfg Config) (*Sim, error) {
	s := &Sim{seed: cfg.Seed}
	if s.seed == 0 {
		s.seed = rand.Uint64() | 1
	}
	if err := s.Set(cfg); err != nil {
		return nil, err
	}
	return s, nil
}

// Set changes the conditions; packets already on their way keep the fate
// they were given. cfg.Seed is ignored: the seed is New's.
func (s *Sim) Set(cfg Config) error {
	for _, c := range []*Conditions{&cfg.Up, &cfg.Down} {
		if err := c.validate(); err != nil {
			return err
		}
	}
	cfg.Seed = s.seed
	s.cfg.Store(&cfg)
	return nil
}

// Config returns the conditions in force, with the seed in use.
func (s *Sim) Config() Config { return *s.cfg.Load() }

// String says which conditions are in force and the seed that replays
// them: "lag=75ms,loss=5% (seed 123)".
func (s *Sim) String() string {
	c := s.Config()
	c.Seed = 0
	return fmt.Sprintf("%s (seed %d)", c, s.seed)
}

// Stats are what a Sim's paths did so far, per direction.
type Stats struct {
	Up, Down PathStats // client to server, server to client
}

// PathStats count one direction's packets: UDP datagrams, or the reads
// of a TCP stream (which are only delayed).
type PathStats struct {
	Packets, Bytes uint64 // what entered the path
	Lost           uint64 // dropped by Loss
	Overflow       uint64 // dropped because Rate's queue was full
	TooLarge       uint64 // dropped for being above MTU
	Duplicated     uint64 // sent twice
	Reordered      uint64 // held back by ReorderDelay
	Delivered      uint64 // copies passed on, duplicates included
}

// Stats returns the counts of every path of s so far.
func (s *Sim) Stats() Stats { return Stats{Up: s.up.stats(), Down: s.down.stats()} }

// paths returns the two paths of a new session, each with a random stream
// of its own.
func (s *Sim) paths() (up, down *path) {
	n := s.sessions.Add(1)
	return newPath(s.seed, 2*n, &s.up), newPath(s.seed, 2*n+1, &s.down)
}

// conditions returns the conditions in force in one direction.
func (s *Sim) conditions(down bool) *Conditions {
	c := s.cfg.Load()
	if down {
		return &c.Down
	}
	return &c.Up
}
