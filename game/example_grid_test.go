package game_test

import (
	"fmt"
	"slices"

	"github.com/gonetic/gonetic/game"
)

// A server keeps its players on a grid: each is an entity (what others
// see) and a watcher (what it sees). Each tick it builds one snapshot per
// View and sends it to that view's watchers at once, with
// net.Server.SendTo when the watchers are *net.Conn; here they are names.
func ExampleGrid() {
	grid, err := game.NewGrid[string, string](100, 1) // cells of 100 units, a watcher sees 3×3 of them
	if err != nil {
		panic(err)
	}
	for _, p := range []struct {
		name string
		x, y float64
	}{{"ann", 10, 10}, {"bob", 50, 20}, {"cat", 150, 90}, {"dan", 900, 900}} {
		grid.Place(p.name, p.x, p.y)
		grid.Watch(p.name, p.x, p.y)
	}

	var lines []string
	for v := range grid.Views() {
		seen := slices.Sorted(v.Entities())
		to := slices.Sorted(v.Watchers())
		lines = append(lines, fmt.Sprintf("snapshot of %v to %v", seen, to))
	}
	slices.Sort(lines) // Views yields in no particular order
	for _, l := range lines {
		fmt.Println(l)
	}
	// dan moved near the others: he sees them, and they him.
	grid.Place("dan", 120, 120)
	grid.Watch("dan", 120, 120)
	fmt.Println("ann is seen by", slices.Sorted(grid.Watchers("ann")))
	// Output:
	// snapshot of [ann bob cat] to [ann bob]
	// snapshot of [ann bob cat] to [cat]
	// snapshot of [dan] to [dan]
	// ann is seen by [ann bob cat dan]
}
