//go:build !unix

package tcp

import "syscall"

// writeNonblocking writes nothing where the adapter has no non-blocking
// write: Send hands every batch to the writer goroutine.
func writeNonblocking(syscall.RawConn, []byte) (int, error) { return 0, nil }
