package reliability

import (
	"context"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/gonetic/gonetic/net/nettest"
)

// TestMatrix is the short form: every condition on every adapter it
// applies to, in parallel, then no goroutine, descriptor or memory left
// behind.
func TestMatrix(t *testing.T) {
	goroutines, fds, heap := runtime.NumGoroutine(), openFDs(t), heapInUse()
	t.Cleanup(func() { // after every case below
		nettest.CheckGoroutines(t, goroutines)
		end := time.Now().Add(nettest.Deadline)
		for openFDs(t) > fds && time.Now().Before(end) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := openFDs(t); n > fds {
			t.Errorf("%d file descriptors open after the matrix, %d before", n, fds)
		}
		h := heapInUse()
		if h > heap+32<<20 {
			t.Errorf("heap in use grew from %d to %d MiB", heap>>20, h>>20)
		}
		t.Logf("before → after the matrix: %d → %d goroutines, %d → %d descriptors, %.1f → %.1f MiB heap in use",
			goroutines, runtime.NumGoroutine(), fds, openFDs(t), float64(heap)/(1<<20), float64(h)/(1<<20))
	})
	for _, c := range Matrix() {
		t.Run(c.Name(), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			rep, err := Run(ctx, c, Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Log(rep)
			for _, v := range rep.Violations() {
				t.Error(v)
			}
		})
	}
}

func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}
