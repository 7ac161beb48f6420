// Package cpuprofile is the demos' -cpuprofile flag.
package cpuprofile

import (
	"os"
	"runtime/pprof"
)

// Start writes a CPU profile to the file path until the returned stop is
// called; with path "" it does nothing. A program calls it once, from
// main, and defers stop.
func Start(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
