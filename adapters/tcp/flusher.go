package tcp

import "sync"

// flusher writes, on one goroutine, the queues of a listener's links that
// Send made due. A game server's tick sends to every client in a row; with
// a goroutine per link to wake, each Send would wake one (and, with idle
// CPUs, an OS thread), and writing on the game's own goroutine would have
// it wait for the kernel's loopback delivery and the peer's wake-up at each
// write. The flusher costs one wake-up per burst and writes while the game
// goes on. A write the kernel has no room for is left to the link's own
// writer goroutine, which waits.
type flusher struct {
	wake chan struct{} // one slot: due links, or stop
	done chan struct{} // closed when the goroutine returns

	mu      sync.Mutex // guards the fields below
	due     []*link    // links whose queue the goroutine is to write, in order
	spare   []*link    // the other list, so steady state allocates nothing
	running bool       // the goroutine is awake, or woken: no need to wake it
	stop    bool       // return once due is empty
}

func newFlusher() *flusher {
	f := &flusher{wake: make(chan struct{}, 1), done: make(chan struct{})}
	go f.run()
	return f
}

// add makes l's queue due; the caller owns l's write (l.writer is
// aFlusher) and passes it to the flusher.
func (f *flusher) add(l *link) {
	f.mu.Lock()
	f.due = append(f.due, l)
	wake := !f.running
	f.running = true
	f.mu.Unlock()
	if wake {
		f.wake <- struct{}{}
	}
}

// close writes what is due and stops the goroutine. Call it once no link
// can become due: after the listener's links are over.
func (f *flusher) close() {
	f.mu.Lock()
	f.stop = true
	wake := !f.running
	f.running = true
	f.mu.Unlock()
	if wake {
		f.wake <- struct{}{}
	}
	<-f.done
}

func (f *flusher) run() {
	defer close(f.done)
	for {
		f.mu.Lock()
		for len(f.due) == 0 && !f.stop {
			f.running = false
			f.mu.Unlock()
			<-f.wake
			f.mu.Lock()
		}
		if len(f.due) == 0 { // stop
			f.mu.Unlock()
			return
		}
		due := f.due
		f.due, f.spare = f.spare[:0], nil
		f.mu.Unlock()
		for i, l := range due {
			l.flush()
			due[i] = nil
		}
		f.mu.Lock()
		f.spare = due[:0]
		f.mu.Unlock()
	}
}
