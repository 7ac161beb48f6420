package game

import (
	"fmt"
	"iter"
	"math"
)

// Grid is interest management on a plane: entities (E: an entity id) and
// watchers (W: typically a *net.Conn) have positions, the plane is cut
// into square cells, and a watcher sees the entities in its own cell and
// in the cells within the grid's radius of it (1: the 3×3 cells around it).
// Cell (i, j) holds the points with i ≤ x/cell < i+1 and j ≤ y/cell < j+1,
// negative coordinates included.
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

	cells    map[cellKey]*gridCell[E, W] // the occupied cells
	entities map[E]slot[E, W]            // where each entity is
	watchers map[W]slot[E, W]            // where each watcher is
	watched  []*gridCell[E, W]           // the cells with watchers, for Views
	free     []*gridCell[E, W]           // emptied cells, to reuse
}

// cellKey is a cell's coordinates: floor(x/cell), floor(y/cell).
type cellKey struct{ x, y int64 }

// slot is a member's cell and its index in that cell's slice.
type slot[E, W comparable] struct {
	c *gridCell[E, W]
	i int
}

// gridCell is one occupied cell. An emptied cell goes to the grid's free
// list, to be reused with its slices' capacity.
type gridCell[E, W comparable] struct {
	key      cellKey
	entities []E
	watchers []W
	wi       int // index in Grid.watched, -1 when the cell has no watcher
}

// far bounds cell coordinates, so that a huge, infinite or NaN coordinate
// lands in a far cell instead of overflowing the arithmetic on keys.
const far = 1 << 40

// NewGrid returns an empty grid with square cells of side cell, in which a
// watcher sees radius cells around its own (1 for 3×3, 2 for 5×5). cell
// must be positive and finite, radius between 0 and 1024. Coordinates
// beyond 2⁴⁰ cells from the origin, infinite or NaN, land in the cells at
// that bound.
func NewGrid[E, W comparable](cell float64, radius int) (*Grid[E, W], error) {
	if !(cell > 0) || math.IsInf(cell, 1) {
		return nil, fmt.Errorf("game: NewGrid: cell side %v: it must be positive and finite (about a view's width divided by 2·radius+1)", cell)
	}
	if radius < 0 || radius > 1<<10 {
		return nil, fmt.Errorf("game: NewGrid: radius %d: it must be between 0 (a watcher's own cell) and 1024 (1 for the 3×3 cells around it)", radius)
	}
	g := &Grid[E, W]{
		cell:     cell,
		radius:   radius,
		cells:    make(map[cellKey]*gridCell[E, W]),
		entities: make(map[E]slot[E, W]),
		watchers: make(map[W]slot[E, W]),
	}
	return g, nil
}

// key is the cell of (x, y): floor, not truncation, so that -0.5 is in
// cell -1 and not in cell 0 with 0.5.
func (g *Grid[E, W]) key(x, y float64) cellKey {
	return cellKey{coord(x / g.cell), coord(y / g.cell)}
}

func coord(v float64) int64 {
	v = math.Floor(v)
	switch {
	case v >= far:
		return far
	case v > -far:
		return int64(v)
	default: // -Inf, NaN
		return -far
	}
}

// at returns the cell of key k, making it if needed.
func (g *Grid[E, W]) at(k cellKey) *gridCell[E, W] {
	if c := g.cells[k]; c != nil {
		return c
	}
	var c *gridCell[E, W]
	if n := len(g.free); n > 0 {
		c, g.free = g.free[n-1], g.free[:n-1]
	} else {
		c = &gridCell[E, W]{}
	}
	c.key, c.wi = k, -1
	g.cells[k] = c
	return c
}

// release frees c if it is empty.
func (g *Grid[E, W]) release(c *gridCell[E, W]) {
	if len(c.entities) == 0 && len(c.watchers) == 0 {
		delete(g.cells, c.key)
		g.free = append(g.free, c)
	}
}

// The iterators below are small closures around methods, so that the
// compiler inlines them into the caller's range loop: the loop body is
// then passed to a known method, stays on the stack, and ranging
// allocates nothing. A closure stored and handed out would hide its
// callee, and every range loop over it would allocate its body.

// entitiesNear yields the entities within radius of cell k.
func (g *Grid[E, W]) entitiesNear(k cellKey, yield func(E) bool) {
	r := int64(g.radius)
	for x := k.x - r; x <= k.x+r; x++ {
		for y := k.y - r; y <= k.y+r; y++ {
			if c := g.cells[cellKey{x, y}]; c != nil {
				for _, e := range c.entities {
					if !yield(e) {
						return
					}
				}
			}
		}
	}
}

// watchersNear yields the watchers within radius of cell k: those that
// see an entity in k, since sight is symmetric.
func (g *Grid[E, W]) watchersNear(k cellKey, yield func(W) bool) {
	r := int64(g.radius)
	for x := k.x - r; x <= k.x+r; x++ {
		for y := k.y - r; y <= k.y+r; y++ {
			if c := g.cells[cellKey{x, y}]; c != nil {
				for _, w := range c.watchers {
					if !yield(w) {
						return
					}
				}
			}
		}
	}
}

// Place puts entity e at (x, y), adding it or moving it.
func (g *Grid[E, W]) Place(e E, x, y float64) {
	k := g.key(x, y)
	s, ok := g.entities[e]
	if ok && s.c.key == k {
		return
	}
	if ok {
		g.removeEntity(s)
	}
	c := g.at(k)
	insert(&c.entities, g.entities, c, e)
}

// Remove takes entity e off the grid; it does nothing if e is not there.
func (g *Grid[E, W]) Remove(e E) {
	if s, ok := g.entities[e]; ok {
		g.removeEntity(s)
		delete(g.entities, e)
	}
}

func (g *Grid[E, W]) removeEntity(s slot[E, W]) {
	cut(&s.c.entities, g.entities, s)
	g.release(s.c)
}

// Watch puts watcher w at (x, y), adding it or moving it.
func (g *Grid[E, W]) Watch(w W, x, y float64) {
	k := g.key(x, y)
	s, ok := g.watchers[w]
	if ok && s.c.key == k {
		return
	}
	if ok {
		g.removeWatcher(s)
	}
	c := g.at(k)
	insert(&c.watchers, g.watchers, c, w)
	if c.wi < 0 {
		c.wi = len(g.watched)
		g.watched = append(g.watched, c)
	}
}

// Unwatch takes watcher w off the grid; it does nothing if w is not there.
func (g *Grid[E, W]) Unwatch(w W) {
	if s, ok := g.watchers[w]; ok {
		g.removeWatcher(s)
		delete(g.watchers, w)
	}
}

// removeWatcher is removeEntity for a watcher; a cell left without
// watchers also leaves Grid.watched.
func (g *Grid[E, W]) removeWatcher(s slot[E, W]) {
	c := s.c
	cut(&c.watchers, g.watchers, s)
	if len(c.watchers) == 0 {
		end := len(g.watched) - 1
		if c.wi != end {
			g.watched[c.wi] = g.watched[end]
			g.watched[c.wi].wi = c.wi
		}
		g.watched[end] = nil
		g.watched = g.watched[:end]
		c.wi = -1
	}
	g.release(c)
}

// insert appends v to a cell's list (its entities or its watchers) and
// records where it is in index.
func insert[T, E, W comparable](list *[]T, index map[T]slot[E, W], c *gridCell[E, W], v T) {
	*list = append(*list, v)
	index[v] = slot[E, W]{c, len(*list) - 1}
}

// cut takes the item at s out of a cell's list: the last one takes its
// index, and index is told.
func cut[T, E, W comparable](list *[]T, index map[T]slot[E, W], s slot[E, W]) {
	l := *list
	last := len(l) - 1
	if s.i != last {
		l[s.i] = l[last]
		index[l[s.i]] = s
	}
	var zero T
	l[last] = zero
	*list = l[:last]
}

// Watchers yields the watchers that see entity e (none if e is not on the
// grid): for an event only those near it should hear of. It allocates
// nothing.
func (g *Grid[E, W]) Watchers(e E) iter.Seq[W] {
	return func(yield func(W) bool) {
		if s, ok := g.entities[e]; ok {
			g.watchersNear(s.c.key, yield)
		}
	}
}

// Visible yields the entities watcher w sees (none if w is not on the
// grid). It allocates nothing.
func (g *Grid[E, W]) Visible(w W) iter.Seq[E] {
	return func(yield func(E) bool) {
		if s, ok := g.watchers[w]; ok {
			g.entitiesNear(s.c.key, yield)
		}
	}
}

// Views yields one View per cell that has watchers: the entities its
// watchers see, and the watchers. A range loop over it, or over a View's
// iterators, allocates nothing, and neither does passing View.Watchers to
// net.Server.SendTo, which keeps it nowhere; an iterator stored in a
// variable that outlives the call would be allocated.
func (g *Grid[E, W]) Views() iter.Seq[View[E, W]] {
	return func(yield func(View[E, W]) bool) { g.eachView(yield) }
}

func (g *Grid[E, W]) eachView(yield func(View[E, W]) bool) {
	for _, c := range g.watched {
		if !yield(View[E, W]{g, c}) {
			return
		}
	}
}

// View is what the watchers of one cell see. It is valid while Views
// yields it.
type View[E, W comparable] struct {
	g *Grid[E, W]
	c *gridCell[E, W]
}

// Entities yields the entities the view's watchers see.
func (v View[E, W]) Entities() iter.Seq[E] {
	return func(yield func(E) bool) { v.g.entitiesNear(v.c.key, yield) }
}

// Watchers yields the view's watchers, for net.Server.SendTo when W is
// *net.Conn.
func (v View[E, W]) Watchers() iter.Seq[W] {
	return func(yield func(W) bool) { v.c.eachWatcher(yield) }
}

func (c *gridCell[E, W]) eachWatcher(yield func(W) bool) {
	for _, w := range c.watchers {
		if !yield(w) {
			return
		}
	}
}
