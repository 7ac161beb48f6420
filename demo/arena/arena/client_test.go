package arena

import (
	"slices"
	"testing"
	"time"
)

// TestLerp: players in both snapshots move between them (and beyond the
// newest when extrapolating); one that just came into view shows only
// from the newer snapshot's time on; one that left the view is gone.
func TestLerp(t *testing.T) {
	c := &Client{}
	a := []Player{{ID: 1, X: 0, Y: 0}, {ID: 2, X: 100, Y: 100}, {ID: 4, X: 7, Y: 7}}
	b := []Player{{ID: 1, X: 10, Y: -10, It: true}, {ID: 3, X: 50, Y: 50}, {ID: 4, X: 17, Y: 7}}

	got := c.lerp(a, b, 0.5)
	want := []Player{{ID: 1, X: 5, Y: -5, It: true}, {ID: 4, X: 12, Y: 7}}
	if !slices.Equal(got, want) {
		t.Errorf("lerp at 0.5 = %v, want %v", got, want)
	}
	got = c.lerp(a, b, 1.5)
	want = []Player{{ID: 1, X: 15, Y: -15, It: true}, {ID: 3, X: 50, Y: 50}, {ID: 4, X: 22, Y: 7}}
	if !slices.Equal(got, want) {
		t.Errorf("lerp at 1.5 = %v, want %v", got, want)
	}
	if got := c.lerp(nil, b, 1); !slices.Equal(got, b) {
		t.Errorf("lerp from nothing at 1 = %v, want %v", got, b)
	}
}

// TestGraph: the graph keeps one sample per GraphStep, the last
// GraphSpan of them, oldest first.
func TestGraph(t *testing.T) {
	var g Graph
	t0 := time.Unix(0, 0)
	n := int(GraphSpan/GraphStep) + 5
	for i := range 2 * n {
		// Two frames per step: only the first of each step is kept.
		g.sample(t0.Add(time.Duration(i/2)*GraphStep), time.Duration(i/2), 0)
	}
	if g.Len() != int(GraphSpan/GraphStep) {
		t.Fatalf("%d samples kept, want %d", g.Len(), GraphSpan/GraphStep)
	}
	for i := range g.Len() {
		if r, _ := g.At(i); r != time.Duration(5+i) {
			t.Fatalf("sample %d is %v, want %v", i, r, time.Duration(5+i))
		}
	}
}
