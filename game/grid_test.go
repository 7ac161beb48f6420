package game_test

import (
	"fmt"
	"iter"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gonetic/gonetic/game"
)

func newGrid(t testing.TB, cell float64, radius int) *game.Grid[int, string] {
	t.Helper()
	g, err := game.NewGrid[int, string](cell, radius)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func sorted[T int | string](seq func(func(T) bool)) []T {
	var s []T
	for v := range seq {
		s = append(s, v)
	}
	slices.Sort(s)
	return s
}

func TestNewGridRejects(t *testing.T) {
	for _, c := range []struct {
		cell   float64
		radius int
	}{{0, 1}, {-1, 1}, {math.NaN(), 1}, {math.Inf(1), 1}, {10, -1}} {
		if _, err := game.NewGrid[int, string](c.cell, c.radius); err == nil {
			t.Errorf("NewGrid(%v, %d): no error", c.cell, c.radius)
		}
	}
	if _, err := game.NewGrid[int, string](10, 0); err != nil {
		t.Errorf("NewGrid(10, 0): %v", err)
	}
}

// TestGridNegativeCoordinates: cells are floor(x/cell), so -0.5 and 0.5
// are in different cells (truncation would put both in cell 0).
func TestGridNegativeCoordinates(t *testing.T) {
	g := newGrid(t, 10, 0)
	g.Watch("w", -0.5, -0.5)
	g.Place(1, -9.9, -0.1) // cell (-1, -1), the watcher's
	g.Place(2, 0.1, -0.1)  // cell (0, -1)
	g.Place(3, -0.1, 0.1)  // cell (-1, 0)
	g.Place(4, -10, -10)   // cell (-1, -1): the border belongs to the cell above it
	g.Place(5, -10.01, -5) // cell (-2, -1)
	if got := sorted(g.Visible("w")); !slices.Equal(got, []int{1, 4}) {
		t.Errorf("radius 0, watcher at (-0.5, -0.5): sees %v, want [1 4]", got)
	}
	// Far, infinite and NaN coordinates go to the cells at the bound, not
	// into the watcher's.
	g.Place(6, math.NaN(), math.Inf(1))
	g.Place(7, -1e300, 1e300)
	g.Watch("far", math.Inf(-1), math.MaxFloat64)
	if got := sorted(g.Visible("w")); !slices.Equal(got, []int{1, 4}) {
		t.Errorf("after far placements: w sees %v, want [1 4]", got)
	}
	if got := sorted(g.Visible("far")); !slices.Equal(got, []int{6, 7}) {
		t.Errorf("a watcher at (-Inf, MaxFloat64) sees %v, want [6 7]", got)
	}
}

// TestGridCrossingBorders: an entity walking east leaves a watcher's
// sight when it is more than radius cells away, and a watcher moving
// takes its sight with it.
func TestGridCrossingBorders(t *testing.T) {
	g := newGrid(t, 10, 1)
	g.Watch("w", 5, 5) // cell (0, 0): sees cells -1…1
	for _, c := range []struct {
		x    float64
		sees bool
	}{{5, true}, {15, true}, {19.99, true}, {20, false}, {35, false}, {-10, true}, {-10.5, false}} {
		g.Place(1, c.x, 5)
		if got := len(sorted(g.Visible("w"))) == 1; got != c.sees {
			t.Errorf("entity at x=%v: seen %v, want %v", c.x, got, c.sees)
		}
		if got := len(sorted(g.Watchers(1))) == 1; got != c.sees {
			t.Errorf("entity at x=%v: Watchers has w %v, want %v", c.x, got, c.sees)
		}
	}
	g.Place(1, 35, 5) // cell 3
	g.Watch("w", 25, 5)
	if got := sorted(g.Visible("w")); !slices.Equal(got, []int{1}) {
		t.Errorf("watcher moved to cell 2: sees %v, want [1]", got)
	}
	g.Watch("w", 24, 9) // same cell: nothing changes
	if got := sorted(g.Visible("w")); !slices.Equal(got, []int{1}) {
		t.Errorf("watcher moved inside its cell: sees %v, want [1]", got)
	}
}

// TestGridRemoveUnwatch: a removed entity is seen by no one, an unwatched
// watcher has no view; removing what is not there does nothing.
func TestGridRemoveUnwatch(t *testing.T) {
	g := newGrid(t, 10, 1)
	g.Watch("a", 0, 0)
	g.Watch("b", 1, 1)
	g.Place(1, 2, 2)
	g.Place(2, 3, 3)
	g.Remove(1)
	g.Remove(1)
	g.Remove(99)
	if got := sorted(g.Visible("a")); !slices.Equal(got, []int{2}) {
		t.Errorf("after Remove(1): a sees %v, want [2]", got)
	}
	if got := sorted(g.Watchers(1)); len(got) != 0 {
		t.Errorf("Watchers of a removed entity: %v, want none", got)
	}
	g.Unwatch("a")
	g.Unwatch("a")
	g.Unwatch("zz")
	if got := sorted(g.Watchers(2)); !slices.Equal(got, []string{"b"}) {
		t.Errorf("after Unwatch(a): Watchers(2) = %v, want [b]", got)
	}
	if got := sorted(g.Visible("a")); len(got) != 0 {
		t.Errorf("Visible of an unwatched watcher: %v, want none", got)
	}
	g.Unwatch("b")
	n := 0
	for range g.Views() {
		n++
	}
	if n != 0 {
		t.Errorf("no watchers left: %d views, want 0", n)
	}
	// The grid is still usable: cells freed are reused.
	g.Watch("c", -100, -100)
	g.Place(3, -95, -95)
	if got := sorted(g.Visible("c")); !slices.Equal(got, []int{3}) {
		t.Errorf("after emptying the grid: c sees %v, want [3]", got)
	}
}

// TestGridBreak: every iterator stops when the loop breaks.
func TestGridBreak(t *testing.T) {
	g := newGrid(t, 1, 2)
	for i := range 10 {
		g.Place(i, float64(i%3), float64(i/3))
		g.Watch(fmt.Sprint(i), float64(i%3), float64(i/3))
	}
	for range g.Visible("0") {
		break
	}
	for range g.Watchers(0) {
		break
	}
	for v := range g.Views() {
		for range v.Entities() {
			break
		}
		for range v.Watchers() {
			break
		}
		break
	}
}

// brute is the reference: positions, and visibility from its definition.
type brute struct {
	cell     float64
	radius   int
	entities map[int][2]float64
	watchers map[string][2]float64
}

func (b *brute) sees(w, e [2]float64) bool {
	c := func(v float64) float64 { return math.Floor(v / b.cell) }
	r := float64(b.radius)
	return math.Abs(c(w[0])-c(e[0])) <= r && math.Abs(c(w[1])-c(e[1])) <= r
}

func (b *brute) visible(w string) []int {
	var s []int
	for e, p := range b.entities {
		if b.sees(b.watchers[w], p) {
			s = append(s, e)
		}
	}
	slices.Sort(s)
	return s
}

func (b *brute) watchersOf(e int) []string {
	var s []string
	for w, p := range b.watchers {
		if b.sees(p, b.entities[e]) {
			s = append(s, w)
		}
	}
	slices.Sort(s)
	return s
}

// TestGridAgainstBruteForce: seeded random layouts and moves; after each
// batch, Visible, Watchers and Views agree with the definition: each
// watcher in exactly one view, whose entities are what it sees, and
// visibility is symmetric (w sees e iff w is among e's watchers).
func TestGridAgainstBruteForce(t *testing.T) {
	for seed := range uint64(40) {
		r := rand.New(rand.NewPCG(seed, 18))
		ref := &brute{cell: 1 + r.Float64()*20, radius: r.IntN(3), entities: map[int][2]float64{}, watchers: map[string][2]float64{}}
		g := newGrid(t, ref.cell, ref.radius)
		pt := func() [2]float64 { return [2]float64{r.Float64()*200 - 100, r.Float64()*200 - 100} }
		for batch := range 30 {
			for range 20 {
				switch r.IntN(6) {
				case 0, 1:
					e, p := r.IntN(60), pt()
					g.Place(e, p[0], p[1])
					ref.entities[e] = p
				case 2:
					e := r.IntN(60)
					g.Remove(e)
					delete(ref.entities, e)
				case 3, 4:
					w, p := fmt.Sprint("w", r.IntN(40)), pt()
					g.Watch(w, p[0], p[1])
					ref.watchers[w] = p
				case 5:
					w := fmt.Sprint("w", r.IntN(40))
					g.Unwatch(w)
					delete(ref.watchers, w)
				}
			}
			where := fmt.Sprintf("seed %d batch %d (cell %.2f, radius %d)", seed, batch, ref.cell, ref.radius)
			for w := range ref.watchers {
				if got, want := sorted(g.Visible(w)), ref.visible(w); !slices.Equal(got, want) {
					t.Fatalf("%s: Visible(%s) = %v, want %v", where, w, got, want)
				}
			}
			for e := range ref.entities {
				if got, want := sorted(g.Watchers(e)), ref.watchersOf(e); !slices.Equal(got, want) {
					t.Fatalf("%s: Watchers(%d) = %v, want %v", where, e, got, want)
				}
			}
			seen := map[string]int{}
			for v := range g.Views() {
				ents := sorted(v.Entities())
				ws := sorted(v.Watchers())
				if len(ws) == 0 {
					t.Fatalf("%s: a view without watchers", where)
				}
				for _, w := range ws {
					seen[w]++
					if want := ref.visible(w); !slices.Equal(ents, want) {
						t.Fatalf("%s: view of %v yields %v, but %s sees %v", where, ws, ents, w, want)
					}
				}
			}
			if !maps.Equal(seen, func() map[string]int {
				m := map[string]int{}
				for w := range ref.watchers {
					m[w] = 1
				}
				return m
			}()) {
				t.Fatalf("%s: views cover %v, want each of the %d watchers once", where, seen, len(ref.watchers))
			}
		}
	}
}

// arena is a 1,000 × 1,000 world with 100 players, each an entity and a
// watcher, in cells of 100 with radius 1.
func arena(t testing.TB) *game.Grid[int, string] {
	g := newGrid(t, 100, 1)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 100 {
		x, y := r.Float64()*1000, r.Float64()*1000
		g.Place(i, x, y)
		g.Watch(fmt.Sprint(i), x, y)
	}
	return g
}

func rangeViews(g *game.Grid[int, string]) (views, ents, watchers int) {
	for v := range g.Views() {
		views++
		for range v.Entities() {
			ents++
		}
		for range v.Watchers() {
			watchers++
		}
	}
	return
}

func TestGridViewsAllocateNothing(t *testing.T) {
	g := arena(t)
	if n := testing.AllocsPerRun(100, func() { rangeViews(g) }); n != 0 {
		t.Errorf("ranging over Views, their entities and watchers: %v allocations, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() {
		for range g.Visible("7") {
		}
		for range g.Watchers(7) {
		}
	}); n != 0 {
		t.Errorf("Visible and Watchers: %v allocations, want 0", n)
	}
}

// sendTo stands for net.Server.SendTo: it calls the set it is given and
// keeps it nowhere, so a View's Watchers passed to it stay on the stack.
// Like SendTo, its yield is bound once (here: captures nothing).
//
//go:noinline
func sendTo(to iter.Seq[string]) { to(countSent) }

var sent int

func countSent(string) bool { sent++; return true }

func TestGridViewsToSendToAllocateNothing(t *testing.T) {
	g := arena(t)
	if n := testing.AllocsPerRun(100, func() {
		for v := range g.Views() {
			sendTo(v.Watchers())
		}
	}); n != 0 || sent == 0 {
		t.Errorf("SendTo(snapshot, view.Watchers()) for each view: %v allocations, want 0", n)
	}
}

// BenchmarkGridViews: one server tick's interest work in the arena: every
// view, its entities and its watchers.
func BenchmarkGridViews(b *testing.B) {
	g := arena(b)
	b.ReportAllocs()
	var views, ents int
	for b.Loop() {
		views, ents, _ = rangeViews(g)
	}
	b.ReportMetric(float64(views), "views")
	b.ReportMetric(float64(ents), "entities/tick")
}

// BenchmarkGridMove: players moving, a third of the moves across a cell
// border.
func BenchmarkGridMove(b *testing.B) {
	names := make([]string, 100)
	for i := range names {
		names[i] = fmt.Sprint(i)
	}
	g := arena(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p := i % 100
		x := float64(p*10) + float64(i%3)*50
		g.Place(p, x, 500)
		g.Watch(names[p], x, 500)
	}
}
