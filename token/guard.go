package token

import (
	"container/heap"
	"fmt"
	"sync"
	"time"
)

// DefaultGuardSize is the number of live tokens a [Guard] holds when
// NewGuard is given 0.
const DefaultGuardSize = 1 << 16

// Guard remembers, for each live token, the address it was first used
// from, so that a ticket captured on the wire cannot be used from
// elsewhere while it lasts. A game server keeps one Guard for all its
// connections (or one shared by the servers behind one address). Its
// memory is bounded: when it holds its size of unexpired tokens it refuses
// new ones with ErrGuardFull rather than forget one (forgetting would let
// that token be replayed). Only tokens that opened reach it, so filling it
// takes as many genuine tokens as the backend issues in one token life.
// Safe for concurrent use.
type Guard struct {
	mu     sync.Mutex // guards the fields below
	size   int
	byID   map[ID]guardEntry
	byTime expiryHeap
}

type guardEntry struct {
	from    string
	expires time.Time
}

// NewGuard returns a Guard that holds at most size live tokens (size ≤ 0
// means DefaultGuardSize).
func NewGuard(size int) *Guard {
	if size <= 0 {
		size = DefaultGuardSize
	}
	return &Guard{size: size, byID: make(map[ID]guardEntry)}
}

// Admit records that g's token is used from address from at time now, or
// refuses: ErrInUse if it is already in use from another address (the same
// address is admitted again, so a client may resend its connect request or
// reconnect: package net passes the client's host, its IP address, so
// that a reconnection from another port is admitted), ErrExpired if it has
// expired, ErrGuardFull if the Guard is full. The error names neither
// address: it goes to whoever presented the ticket, who may have copied
// it. Entries are dropped once their token expires.
func (gd *Guard) Admit(g *Grant, from string, now time.Time) error {
	if !now.Before(g.Expires) {
		return fmt.Errorf("%w; the client must ask the backend for a new token", ErrExpired)
	}
	gd.mu.Lock()
	defer gd.mu.Unlock()
	gd.sweep(now)
	if e, ok := gd.byID[g.ID]; ok {
		if e.from != from {
			return ErrInUse
		}
		return nil
	}
	if len(gd.byID) >= gd.size {
		return fmt.Errorf("%w: %d live tokens, the Guard's size", ErrGuardFull, gd.size)
	}
	gd.byID[g.ID] = guardEntry{from: from, expires: g.Expires}
	heap.Push(&gd.byTime, expiryItem{id: g.ID, expires: g.Expires})
	return nil
}

// Len returns the number of live tokens the Guard remembers, as of the
// last Admit.
func (gd *Guard) Len() int {
	gd.mu.Lock()
	defer gd.mu.Unlock()
	return len(gd.byID)
}

// sweep drops the entries expired at now; each entry is pushed and popped
// once, so the cost is logarithmic per token. The caller holds mu.
func (gd *Guard) sweep(now time.Time) {
	for len(gd.byTime) > 0 && !now.Before(gd.byTime[0].expires) {
		it := heap.Pop(&gd.byTime).(expiryItem)
		delete(gd.byID, it.id)
	}
}

type expiryItem struct {
	id      ID
	expires time.Time
}

// expiryHeap orders live tokens by expiry, soonest first.
type expiryHeap []expiryItem

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].expires.Before(h[j].expires) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiryItem)) }
func (h *expiryHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}
