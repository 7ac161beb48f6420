package main

import (
	"fmt"
	"image/color"
	"math"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/text/v2"
	"github.com/hajimehoshi/ebiten/v2/vector"

	"github.com/gonetic/gonetic/demo/arena/arena"
)

// Colors.
var (
	colOutside = color.RGBA{0x10, 0x12, 0x17, 0xff}
	colFloor   = color.RGBA{0x1f, 0x2a, 0x24, 0xff}
	colLines   = color.RGBA{0x2a, 0x38, 0x30, 0xff}
	colWall    = color.RGBA{0x6b, 0x7f, 0x74, 0xff}
	colIt      = color.RGBA{0xff, 0x4d, 0x4d, 0xff}
	colMe      = color.RGBA{0x4d, 0xa6, 0xff, 0xff}
	colOther   = color.RGBA{0xf0, 0xd0, 0x60, 0xff}
	colBot     = color.RGBA{0xb8, 0xc4, 0xcc, 0xff}
	colText    = color.RGBA{0xe8, 0xe8, 0xe8, 0xff}
	colDim     = color.RGBA{0x9a, 0xa4, 0xae, 0xff}
	colPanel   = color.RGBA{0x00, 0x00, 0x00, 0xa0}
	colRTT     = color.RGBA{0x3d, 0xd6, 0x8c, 0xff}
	colJitter  = color.RGBA{0xff, 0xb3, 0x47, 0xff}
)

// game is the ebiten.Game.
type game struct {
	opts     options
	c        *arena.Client
	face     *text.GoTextFace
	small    *text.GoTextFace
	width    int
	height   int
	frames   int
	stats    updateStats
	stop     <-chan struct{}
	deadline time.Time
	failure  string
	shoot    bool
	shot     bool
	hud      arena.HUD
	onScreen int // other players drawn inside the window, last frame
}

func newGame(o options, c *arena.Client, src *text.GoTextFaceSource) *game {
	return &game{
		opts:  o,
		c:     c,
		face:  &text.GoTextFace{Source: src, Size: 15},
		small: &text.GoTextFace{Source: src, Size: 12},
		stats: updateStats{d: make([]time.Duration, 0, 1<<16)},
	}
}

// keys reads the movement keys: WASD or the arrows.
func keys() arena.Keys {
	var k arena.Keys
	if ebiten.IsKeyPressed(ebiten.KeyW) || ebiten.IsKeyPressed(ebiten.KeyArrowUp) {
		k |= arena.Up
	}
	if ebiten.IsKeyPressed(ebiten.KeyS) || ebiten.IsKeyPressed(ebiten.KeyArrowDown) {
		k |= arena.Down
	}
	if ebiten.IsKeyPressed(ebiten.KeyA) || ebiten.IsKeyPressed(ebiten.KeyArrowLeft) {
		k |= arena.Left
	}
	if ebiten.IsKeyPressed(ebiten.KeyD) || ebiten.IsKeyPressed(ebiten.KeyArrowRight) {
		k |= arena.Right
	}
	return k
}

// Update runs one frame: the network, the inputs due, the prediction and
// the interpolation, all inside the arena Client's Frame.
func (g *game) Update() error {
	start := time.Now()
	defer func() { g.stats.add(time.Since(start)) }()
	if err := g.c.Frame(start, keys()); err != nil {
		g.failure = err.Error()
		return ebiten.Termination
	}
	g.frames++
	if g.frames%6 == 1 {
		g.hud = g.c.HUD(start) // ten times a second is plenty for reading
	}
	select {
	case <-g.stop:
		return ebiten.Termination
	default:
	}
	if ebiten.IsKeyPressed(ebiten.KeyEscape) || g.shot {
		return ebiten.Termination
	}
	switch o := g.opts; {
	case o.screenshot != "" && g.frames >= o.frames && g.hud.RTT > 0 && g.onScreen >= 3:
		g.shoot = true
	case o.screenshot == "" && o.frames > 0 && g.frames >= o.frames:
		return ebiten.Termination
	}
	if !g.deadline.IsZero() && start.After(g.deadline) {
		g.failure = fmt.Sprintf("no screenshot after %v (frames %d, rtt %v, %d on screen)", g.opts.timeout, g.frames, g.hud.RTT, g.onScreen)
		return ebiten.Termination
	}
	return nil
}

// Layout follows the window: one logical pixel is one world unit.
func (g *game) Layout(w, h int) (int, int) {
	g.width, g.height = w, h
	return w, h
}

// Draw draws the arena around the local player, the players, and the HUD.
func (g *game) Draw(screen *ebiten.Image) {
	_, score := g.c.Me()
	me := g.c.Smooth(time.Now())
	// The camera: the local player at the centre of the screen.
	ox, oy := me.X-float64(g.width)/2, me.Y-float64(g.height)/2
	screen.Fill(colOutside)
	vector.DrawFilledRect(screen, float32(-ox), float32(-oy), arena.Width, arena.Height, colFloor, false)
	const step = 200.0
	for x := math.Ceil(ox/step) * step; x < ox+float64(g.width); x += step {
		if x > 0 && x < arena.Width {
			vector.StrokeLine(screen, float32(x-ox), float32(max(0, -oy)), float32(x-ox), float32(min(float64(g.height), arena.Height-oy)), 1, colLines, false)
		}
	}
	for y := math.Ceil(oy/step) * step; y < oy+float64(g.height); y += step {
		if y > 0 && y < arena.Height {
			vector.StrokeLine(screen, float32(max(0, -ox)), float32(y-oy), float32(min(float64(g.width), arena.Width-ox)), float32(y-oy), 1, colLines, false)
		}
	}
	vector.StrokeRect(screen, float32(-ox), float32(-oy), arena.Width, arena.Height, 4, colWall, false)

	g.onScreen = 0
	for _, p := range g.c.Others() {
		x, y := float64(p.X)-ox, float64(p.Y)-oy
		if x < -60 || y < -60 || x > float64(g.width)+60 || y > float64(g.height)+60 {
			continue
		}
		if x > 0 && y > 0 && x < float64(g.width) && y < float64(g.height) {
			g.onScreen++
		}
		col := colOther
		if p.It {
			col = colIt
		} else if g.c.Bot(p.ID) {
			col = colBot
		}
		g.player(screen, x, y, col, false, fmt.Sprintf("%s %d", g.c.Name(p.ID), p.Score))
	}
	g.stats.onScreen += g.onScreen
	g.stats.drawn++
	col := colMe
	if me.It {
		col = colIt
	}
	g.player(screen, me.X-ox, me.Y-oy, col, true, fmt.Sprintf("you %d", score))
	g.drawHUD(screen, me)
	g.drawMap(screen, me, ox, oy)

	if g.shoot && !g.shot {
		g.shot = true
		if err := writePNG(g.opts.screenshot, screen); err != nil {
			g.failure = "screenshot: " + err.Error()
			return
		}
		b := screen.Bounds()
		fmt.Printf("window: screenshot written to %s (%dx%d); %s\n", g.opts.screenshot, b.Dx(), b.Dy(), arena.StatusLine(g.c, g.opts.name, time.Now()))
	}
}

// player draws one player and its label.
func (g *game) player(dst *ebiten.Image, x, y float64, col color.RGBA, me bool, label string) {
	vector.DrawFilledCircle(dst, float32(x), float32(y), arena.Radius, col, true)
	if me {
		vector.StrokeCircle(dst, float32(x), float32(y), arena.Radius+4, 2, colText, true)
	}
	w := text.Advance(label, g.small)
	g.text(dst, label, x-w/2, y+arena.Radius+6, g.small, colText)
}

// drawHUD draws the figures and the graph, top left.
func (g *game) drawHUD(dst *ebiten.Image, me arena.State) {
	h := g.hud
	lines := []string{
		fmt.Sprintf("round trip %.2f ms   clock offset %+.2f ms ±%.2f ms", ms(h.RTT), ms(h.Clock.Offset), ms(h.Clock.Uncertainty)),
		fmt.Sprintf("snapshots %d/s   interpolation delay %.0f ms   jitter %.2f ms", h.SnapRate, ms(h.Delay), ms(h.Jitter)),
		fmt.Sprintf("%d players, %d in view   unacknowledged inputs %d", g.c.Players(), len(g.c.Others()), h.Pending),
	}
	if me.It {
		lines = append(lines, "you are IT: touch someone!")
	}
	const pad, lh = 10, 19
	const graphW, graphH = 300, 70
	panelH := float32(pad + lh*len(lines) + 8 + graphH + 20)
	vector.DrawFilledRect(dst, 6, 6, graphW+2*pad, panelH, colPanel, false)
	y := 6.0 + pad/2
	for i, l := range lines {
		c := colText
		if i == 3 {
			c = colIt
		}
		g.text(dst, l, 6+pad, y, g.small, c)
		y += lh
	}
	g.drawGraph(dst, 6+pad, float32(y)+4, graphW, graphH)
}

// drawGraph plots the round trip and the snapshots' jitter over the last
// ten seconds, on one scale.
func (g *game) drawGraph(dst *ebiten.Image, x0, y0, w, h float32) {
	gr := g.c.Graph()
	n := gr.Len()
	vector.StrokeRect(dst, x0, y0, w, h, 1, colDim, false)
	top := time.Millisecond
	for i := range n {
		r, j := gr.At(i)
		top = max(top, r, j)
	}
	total := arena.GraphSpan / arena.GraphStep
	px := func(i int) float32 { return x0 + w*float32(int(total)-n+i)/float32(total) }
	py := func(d time.Duration) float32 { return y0 + h - h*float32(d)/float32(top)*0.9 }
	for i := 1; i < n; i++ {
		r0, j0 := gr.At(i - 1)
		r1, j1 := gr.At(i)
		vector.StrokeLine(dst, px(i-1), py(r0), px(i), py(r1), 1.5, colRTT, true)
		vector.StrokeLine(dst, px(i-1), py(j0), px(i), py(j1), 1.5, colJitter, true)
	}
	g.text(dst, "latency", float64(x0), float64(y0+h+2), g.small, colRTT)
	g.text(dst, "jitter", float64(x0)+60, float64(y0+h+2), g.small, colJitter)
	g.text(dst, fmt.Sprintf("10 s, top %.1f ms", ms(top)), float64(x0)+150, float64(y0+h+2), g.small, colDim)
}

// drawMap draws the whole arena small, bottom right: the players this
// client sees (the server sends only those near it) and the window.
func (g *game) drawMap(dst *ebiten.Image, me arena.State, ox, oy float64) {
	const scale = 0.06
	w, h := float32(arena.Width*scale), float32(arena.Height*scale)
	x0, y0 := float32(g.width)-w-10, float32(g.height)-h-10
	vector.DrawFilledRect(dst, x0, y0, w, h, colPanel, false)
	vector.StrokeRect(dst, x0, y0, w, h, 1, colWall, false)
	vector.StrokeRect(dst, x0+float32(ox*scale), y0+float32(oy*scale), float32(float64(g.width)*scale), float32(float64(g.height)*scale), 1, colDim, false)
	for _, p := range g.c.Others() {
		col := colOther
		if p.It {
			col = colIt
		} else if g.c.Bot(p.ID) {
			col = colBot
		}
		vector.DrawFilledCircle(dst, x0+p.X*scale, y0+p.Y*scale, 2, col, false)
	}
	col := colMe
	if me.It {
		col = colIt
	}
	vector.DrawFilledCircle(dst, x0+float32(me.X*scale), y0+float32(me.Y*scale), 3, col, false)
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func (g *game) text(dst *ebiten.Image, s string, x, y float64, face text.Face, c color.Color) {
	op := &text.DrawOptions{}
	op.GeoM.Translate(x, y)
	op.ColorScale.ScaleWithColor(c)
	text.Draw(dst, s, face, op)
}
