package wakeup

import "testing"

func TestSignalMerges(t *testing.T) {
	c := New()
	c.Signal()
	c.Signal() // the slot is taken: must not block
	<-c
	select {
	case <-c:
		t.Fatal("two Signals before a wait woke the waiter twice")
	default:
	}
	c.Signal()
	select {
	case <-c:
	default:
		t.Fatal("a Signal after the wait left no wake-up")
	}
}
