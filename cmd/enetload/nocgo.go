//go:build !cgo

// Command enetload needs the ENet adapter, which needs cgo and libenet;
// this build has no cgo.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "enetload: built without cgo; the ENet adapter needs cgo and libenet (Debian: libenet-dev)")
	os.Exit(2)
}
