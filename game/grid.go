package game

import "iter"

// Grid is interest management on a plane: entities (E: an entity id) and
// watchers (W: typically a *net.Conn) have positions, the plane is cut
// into square cells, and a watcher sees the entities in its own cell and
// in the cells within Radius of it (Radius 1: the 3×3 cells around it).
//
// Watchers in the same cell see the same entities, so a server builds one
// snapshot per View and sends it to the view's watchers with
// net.Server.SendTo, which encodes it once: the encoding cost follows the
// number of occupied cells, not the number of connections.
//
// A Grid is for one goroutine, the game loop's. Its iterators yield from
// the grid's own storage: do not Place, Remove, Watch or Unwatch while
// ranging over one.
type Grid[E, W comparable] struct {
	cell   float64
	radius int
}

// NewGrid returns an empty grid with square cells of side cell, in which a
// watcher sees radius cells around its own (1 for 3×3, 2 for 5×5). cell
// must be positive and radius at least 0.
func NewGrid[E, W comparable](cell float64, radius int) (*Grid[E, W], error) {
	panic("unimplemented")
}

// Place puts entity e at (x, y), adding it or moving it.
func (g *Grid[E, W]) Place(e E, x, y float64) {
	panic("unimplemented")
}

// Remove takes entity e off the grid; it does nothing if e is not there.
func (g *Grid[E, W]) Remove(e E) {
	panic("unimplemented")
}

// Watch puts watcher w at (x, y), adding it or moving it.
func (g *Grid[E, W]) Watch(w W, x, y float64) {
	panic("unimplemented")
}

// Unwatch takes watcher w off the grid; it does nothing if w is not there.
func (g *Grid[E, W]) Unwatch(w W) {
	panic("unimplemented")
}

// Watchers yields the watchers that see entity e (none if e is not on the
// grid): for an event only those near it should hear of.
func (g *Grid[E, W]) Watchers(e E) iter.Seq[W] {
	panic("unimplemented")
}

// Visible yields the entities watcher w sees.
func (g *Grid[E, W]) Visible(w W) iter.Seq[E] {
	panic("unimplemented")
}

// Views yields one View per cell that has watchers: the entities its
// watchers see, and the watchers. It allocates nothing.
func (g *Grid[E, W]) Views() iter.Seq[View[E, W]] {
	panic("unimplemented")
}

// View is what the watchers of one cell see. It is valid while Views
// yields it.
type View[E, W comparable] struct {
	g *Grid[E, W]
}

// Entities yields the entities the view's watchers see.
func (v View[E, W]) Entities() iter.Seq[E] {
	panic("unimplemented")
}

// Watchers yields the view's watchers, for net.Server.SendTo when W is
// *net.Conn.
func (v View[E, W]) Watchers() iter.Seq[W] {
	panic("unimplemented")
}
