package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gonetic/gonetic/internal/reliability"
)

// runMatrix runs every case of internal/reliability's matrix, one after
// the other, with clients clients each, for d in all: each case gets an
// equal share of what is left, less the time the cases so far took to
// set up and drain. It prints each report and the process after it, and
// returns what failed: a case's violations, an error, and goroutines, fds
// or heap not back where they were before the matrix.
func runMatrix(ctx context.Context, d time.Duration, clients int) []string {
	var failures []string
	cases := reliability.Matrix()
	base := settle(sampleNow(0), 0, 0)
	start := time.Now()
	deadline := start.Add(d)
	var overhead time.Duration // mean time a case took beyond its Duration
	fmt.Println(sampleHeader)
	for i, c := range cases {
		if ctx.Err() != nil {
			return append(failures, "matrix: interrupted")
		}
		per := time.Until(deadline)/time.Duration(len(cases)-i) - overhead
		per = max(per, 4*time.Second) // the short form's
		rep, err := reliability.Run(ctx, c, reliability.Options{Duration: per, Clients: clients})
		if err != nil {
			failures = append(failures, fmt.Sprintf("matrix %s: %v", c.Name(), err))
			continue
		}
		overhead = (overhead*time.Duration(i) + max(rep.Took-per, 0)) / time.Duration(i+1)
		fmt.Printf("%s (ran %v)\n", rep, per.Round(time.Second))
		if len(rep.Reasons) > 0 {
			fmt.Printf("    reasons: %s\n", strings.Join(rep.Reasons, "; "))
		}
		for _, v := range rep.Violations() {
			fmt.Println("    VIOLATION:", v)
			failures = append(failures, fmt.Sprintf("matrix %s: %s", c.Name(), v))
		}
		fmt.Println(sampleNow(time.Since(start)).row())
	}
	after := settle(sampleNow(time.Since(start)), base.goroutines, base.fds)
	fmt.Printf("process before the matrix: %s\n", strings.TrimSpace(base.row()))
	fmt.Printf("process after it:          %s\n", strings.TrimSpace(after.row()))
	for _, l := range leaks(base, after, nil, 0) {
		failures = append(failures, "matrix: leak: "+l)
	}
	if h, b := after.heapLive>>20, base.heapLive>>20; h > b+memSlackMiB {
		failures = append(failures, fmt.Sprintf("matrix: leak: live heap %d MiB before, %d MiB after", b, h))
	}
	return failures
}
