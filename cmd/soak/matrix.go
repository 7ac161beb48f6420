package main

import (
	"context"
	"time"
)

// runMatrix runs internal/reliability's matrix for d in all.
// TODO(soak): internal/reliability lands on main; until then, nothing.
func runMatrix(ctx context.Context, d time.Duration) []string {
	_ = ctx
	_ = d
	return nil
}
