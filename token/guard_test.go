package token

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func grant(id byte, expires time.Time) *Grant {
	g := &Grant{Claims: Claims{Expires: expires}}
	g.ID[0] = id
	return g
}

func TestGuardAddresses(t *testing.T) {
	gd := NewGuard(0)
	_, p := issue(t, testClaims())
	g, err := Open(testKey, p.Ticket, server, t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := gd.Admit(g, "192.0.2.1:5000", t0); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if err := gd.Admit(g, "192.0.2.1:5000", t0.Add(time.Second)); err != nil {
		t.Errorf("again from the same address: %v", err)
	}
	err = gd.Admit(g, "192.0.2.66:5000", t0.Add(time.Second))
	if !errors.Is(err, ErrInUse) {
		t.Fatalf("from another address: %v, want ErrInUse", err)
	}
	t.Log(err)
	if err := gd.Admit(g, "192.0.2.66:5000", g.Expires); !errors.Is(err, ErrExpired) {
		t.Errorf("at expiry: %v, want ErrExpired", err)
	}
	if n := gd.Len(); n != 1 {
		t.Errorf("Len %d, want 1", n)
	}
}

func TestGuardDropsExpired(t *testing.T) {
	gd := NewGuard(0)
	a, b := grant(1, t0.Add(time.Second)), grant(2, t0.Add(time.Hour))
	if err := gd.Admit(a, "x", t0); err != nil {
		t.Fatal(err)
	}
	if err := gd.Admit(b, "x", t0); err != nil {
		t.Fatal(err)
	}
	// A later entry with an earlier expiry is still dropped first.
	if err := gd.Admit(grant(3, t0.Add(2*time.Second)), "x", t0); err != nil {
		t.Fatal(err)
	}
	if err := gd.Admit(grant(4, t0.Add(time.Hour)), "x", t0.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	if n := gd.Len(); n != 2 {
		t.Errorf("Len %d after two expiries, want 2", n)
	}
	// A token whose entry expired would be refused by Open anyway; the
	// entry was freed, the other is kept.
	if err := gd.Admit(b, "y", t0.Add(2*time.Second)); !errors.Is(err, ErrInUse) {
		t.Errorf("live entry forgotten: %v", err)
	}
}

func TestGuardFull(t *testing.T) {
	gd := NewGuard(3)
	for i := range 3 {
		if err := gd.Admit(grant(byte(i), t0.Add(time.Duration(i+1)*time.Second)), "x", t0); err != nil {
			t.Fatal(err)
		}
	}
	err := gd.Admit(grant(9, t0.Add(time.Hour)), "x", t0)
	if !errors.Is(err, ErrGuardFull) {
		t.Fatalf("fourth token: %v, want ErrGuardFull", err)
	}
	t.Log(err)
	// Known tokens are still admitted from their address when full.
	if err := gd.Admit(grant(0, t0.Add(time.Second)), "x", t0); err != nil {
		t.Errorf("known token when full: %v", err)
	}
	// The first expiry makes room.
	if err := gd.Admit(grant(9, t0.Add(time.Hour)), "x", t0.Add(time.Second)); err != nil {
		t.Errorf("after an expiry: %v", err)
	}
	if n := gd.Len(); n != 3 {
		t.Errorf("Len %d, want 3", n)
	}
}

// TestGuardConcurrent: run with -race. Many goroutines race to use the same
// token from different addresses: exactly one address wins, and it keeps
// winning; meanwhile others admit their own tokens.
func TestGuardConcurrent(t *testing.T) {
	gd := NewGuard(1000)
	contested := grant(255, t0.Add(time.Hour))
	var winners sync.Map // address -> true, for each address admitted
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			from := fmt.Sprintf("192.0.2.%d:5000", w)
			for i := range 100 {
				if err := gd.Admit(grant(byte(w*100/8+i%10), t0.Add(time.Duration(i)*time.Millisecond+time.Second)), "own", t0); err != nil && !errors.Is(err, ErrInUse) {
					t.Error(err)
				}
				err := gd.Admit(contested, from, t0)
				switch {
				case err == nil:
					winners.Store(from, true)
				case !errors.Is(err, ErrInUse):
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	var won []string
	winners.Range(func(k, _ any) bool { won = append(won, k.(string)); return true })
	if len(won) != 1 {
		t.Fatalf("addresses %q won the token, want one", won)
	}
	if err := gd.Admit(contested, won[0], t0); err != nil {
		t.Errorf("winner refused: %v", err)
	}
}
