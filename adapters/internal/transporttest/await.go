package transporttest

import (
	"testing"
	"time"
)

// Await returns the next value c yields, failing the test if none comes
// within the suite's deadline (10 s); what names the value in the failure.
// For the adapters' own tests, which wait on their Sinks' channels.
func Await[T any](t testing.TB, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(timeout):
		t.Fatalf("no %s within %v", what, timeout)
		var zero T
		return zero
	}
}
