package main

import (
	"fmt"
	"hash/fnv"
	"image/color"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/inpututil"
	"github.com/hajimehoshi/ebiten/v2/text/v2"
	"github.com/hajimehoshi/ebiten/v2/vector"

	"github.com/gonetic/gonetic/demo/chat/chat"
)

// Layout, in pixels.
const (
	fontSize   = 16
	lineHeight = 22
	barHeight  = 34
	inputH     = 38
	sideWidth  = 190
	pad        = 10
	maxHistory = 2000 // lines kept
)

// Colors.
var (
	colBackground = color.RGBA{0x17, 0x19, 0x1f, 0xff}
	colPanel      = color.RGBA{0x20, 0x23, 0x2b, 0xff}
	colBar        = color.RGBA{0x2a, 0x2f, 0x3a, 0xff}
	colText       = color.RGBA{0xe8, 0xe8, 0xe8, 0xff}
	colDim        = color.RGBA{0x88, 0x90, 0x9e, 0xff}
	colInfo       = color.RGBA{0x8f, 0xb4, 0xe8, 0xff}
	colError      = color.RGBA{0xff, 0x6b, 0x6b, 0xff}
	colOnline     = color.RGBA{0x3d, 0xd6, 0x8c, 0xff}
	colBusy       = color.RGBA{0xff, 0xb3, 0x47, 0xff}
	colCursor     = color.RGBA{0xe8, 0xe8, 0xe8, 0xc0}
	nickColors    = []color.RGBA{
		{0xff, 0x9f, 0x43, 0xff}, {0x54, 0xa0, 0xff, 0xff}, {0xa2, 0x9b, 0xfe, 0xff},
		{0x1d, 0xd1, 0xa1, 0xff}, {0xfe, 0xca, 0x57, 0xff}, {0xff, 0x6b, 0x81, 0xff},
		{0x48, 0xdb, 0xfb, 0xff}, {0xf7, 0x8f, 0xb3, 0xff},
	}
)

// entry is one line of history and its rows, wrapped for a width.
type entry struct {
	line   chat.Line
	prefix string   // "12:04 ann" for a chat line, "12:04" otherwise
	rows   []string // the text wrapped to wrapW
	wrapW  float64
}

// game is the ebiten.Game.
type game struct {
	opts    options
	sess    *chat.Session
	face    *text.GoTextFace
	small   *text.GoTextFace
	history []entry
	input   []rune
	chars   []rune       // reused by AppendInputChars
	keys    []ebiten.Key // reused by AppendJustPressedKeys
	scroll  int          // rows scrolled back from the newest
	width   int
	height  int
	frames  int
	quit    bool
	failure string // why the run failed (-timeout)
	script  script
	stats   updateStats
	echo    chan string
	stop    <-chan struct{} // closed on SIGINT or SIGTERM

	// Drawing text is what costs, so Draw redraws only when something
	// shown changed; the screen keeps the last frame otherwise.
	// History lines arriving make the screen dirty at most every
	// redrawEvery frames: a busy room then costs 20 redraws a second, not
	// one per line.
	dirty      bool
	linesDirty bool
	drawnAt    int    // the frame of the last redraw
	status     string // the bar's right side, refreshed ten times a second
	state      chat.State
}

// redrawEvery is the fewest frames between two redraws for new lines.
const redrawEvery = 3

func newGame(o options, src *text.GoTextFaceSource) *game {
	g := &game{
		opts:  o,
		face:  &text.GoTextFace{Source: src, Size: fontSize},
		small: &text.GoTextFace{Source: src, Size: fontSize - 3},
		echo:  make(chan string, 4096),
		stats: updateStats{d: make([]time.Duration, 0, 1<<16)},
		dirty: true,
	}
	if o.timeout > 0 {
		g.script.deadline = time.Now().Add(o.timeout)
	}
	return g
}

// addLine is the Session's Output: it runs inside Update.
func (g *game) addLine(l chat.Line) {
	e := entry{line: l, prefix: l.Time.Format("15:04")}
	if l.Kind == chat.ChatLine {
		e.prefix += " " + l.From
	}
	if len(g.history) >= maxHistory {
		n := copy(g.history, g.history[maxHistory/4:])
		clear(g.history[n:])
		g.history = g.history[:n]
	}
	g.history = append(g.history, e)
	g.linesDirty = true
	if g.scroll > 0 {
		g.scroll++ // keep the view where the reader left it
	}
	if g.opts.echo {
		select {
		case g.echo <- l.String():
		default: // stdout is not keeping up: drop rather than stall a frame
		}
	}
	if l.Kind == chat.ChatLine && g.sess != nil {
		mine := l.From == g.sess.Nick()
		if mine && g.script.said && l.Text == chat.CleanText(g.opts.say) {
			g.script.echoed = true
		}
		if !mine && g.opts.until != "" && strings.Contains(l.Text, g.opts.until) {
			g.script.heard = true
		}
	}
}

// Update runs one tick: the network (never waiting), the keyboard, the
// script.
func (g *game) Update() error {
	start := time.Now()
	defer func() { g.stats.add(time.Since(start)) }()

	if err := g.sess.Update(0); err != nil {
		return ebiten.Termination
	}
	if g.opts.stats {
		g.stats.addRTT(start, g.sess.RTT())
	}
	g.handleInput()
	g.frames++
	if g.frames%30 == 0 {
		g.dirty = true // the cursor blinks
	}
	if g.linesDirty && g.frames-g.drawnAt >= redrawEvery {
		g.dirty, g.linesDirty = true, false
	}
	if st := g.sess.State(); st != g.state || g.frames%6 == 0 {
		g.state = st
		if s := g.statusText(); s != g.status {
			g.status, g.dirty = s, true
		}
	}

	s := &g.script
	if g.opts.say != "" && !s.said && g.sess.State() == chat.Online {
		if err := g.sess.Say(g.opts.say); err == nil {
			s.said = true
		}
	}
	select {
	case <-g.stop:
		g.quit = true
	default:
	}
	switch {
	case g.quit, s.shot:
		return ebiten.Termination
	case g.scriptDone():
		if g.opts.screenshot == "" {
			return ebiten.Termination
		}
		s.shoot, g.dirty = true, true
		g.status = g.statusText() // the shot shows the round trip
	case !s.deadline.IsZero() && start.After(s.deadline):
		g.failure = fmt.Sprintf("timed out after %v (said %v, echoed %v, heard %q %v, frames %d)",
			g.opts.timeout, s.said, s.echoed, g.opts.until, s.heard, g.frames)
		return ebiten.Termination
	}
	return nil
}

// handleInput edits the input line and scrolls the history.
func (g *game) handleInput() {
	g.chars = ebiten.AppendInputChars(g.chars[:0])
	n, scroll := len(g.input), g.scroll
	defer func() {
		if len(g.input) != n || g.scroll != scroll || len(g.chars) > 0 || len(g.keys) > 0 {
			g.dirty = true
		}
	}()
	for _, r := range g.chars {
		if len(g.input) < chat.MaxText {
			g.input = append(g.input, r)
		}
	}
	if repeating(ebiten.KeyBackspace) && len(g.input) > 0 {
		g.input = g.input[:len(g.input)-1]
	}
	page := max(1, (g.height-barHeight-inputH)/lineHeight-2)
	g.keys = inpututil.AppendJustPressedKeys(g.keys[:0])
	for _, k := range g.keys {
		switch k {
		case ebiten.KeyEnter, ebiten.KeyNumpadEnter:
			line := string(g.input)
			g.input = g.input[:0]
			g.scroll = 0
			if g.sess.Input(line) {
				g.quit = true
			}
		case ebiten.KeyEscape:
			g.input = g.input[:0]
		case ebiten.KeyPageUp:
			g.scroll += page
		case ebiten.KeyPageDown:
			g.scroll = max(0, g.scroll-page)
		case ebiten.KeyEnd:
			g.scroll = 0
		}
	}
	if _, dy := ebiten.Wheel(); dy != 0 {
		g.scroll = max(0, g.scroll+int(dy*3))
	}
}

// repeating reports a key press, then its repeats while held.
func repeating(k ebiten.Key) bool {
	d := inpututil.KeyPressDuration(k)
	return d == 1 || (d >= 30 && (d-30)%3 == 0)
}

// Layout makes one logical pixel one screen pixel: the layout follows the
// window.
func (g *game) Layout(outsideWidth, outsideHeight int) (int, int) {
	if outsideWidth != g.width || outsideHeight != g.height {
		g.width, g.height, g.dirty = outsideWidth, outsideHeight, true
	}
	return outsideWidth, outsideHeight
}

// Draw draws the frame, and the screenshot when the script asks for it.
func (g *game) Draw(screen *ebiten.Image) {
	if !g.dirty {
		return // the screen still shows the last frame
	}
	g.dirty = false
	g.drawnAt = g.frames
	screen.Fill(colBackground)
	g.drawBar(screen)
	g.drawUsers(screen)
	g.drawHistory(screen)
	g.drawInput(screen)
	if g.script.shoot && !g.script.shot {
		g.script.shot = true
		if err := writePNG(g.opts.screenshot, screen); err != nil {
			g.failure = "screenshot: " + err.Error()
		} else {
			b := screen.Bounds()
			g.print(fmt.Sprintf("window: screenshot written to %s (%dx%d); bar: %s", g.opts.screenshot, b.Dx(), b.Dy(), g.status))
		}
	}
}

func (g *game) print(s string) {
	select {
	case g.echo <- s:
	default:
	}
}

// drawBar draws the top bar: who and where, the state, the round trip.
func (g *game) drawBar(screen *ebiten.Image) {
	w := float32(g.width)
	vector.DrawFilledRect(screen, 0, 0, w, barHeight, colBar, false)
	s := g.sess
	title := fmt.Sprintf("gonetic chat · %s @ %s (%s, %s)", s.Nick(), s.Addr(), g.opts.transport, g.opts.codec)
	g.text(screen, title, pad, (barHeight-lineHeight)/2+2, g.face, colText)

	dot := colBusy
	switch s.State() {
	case chat.Online:
		dot = colOnline
	case chat.Offline, chat.Refused, chat.Closed:
		dot = colError
	}
	status := g.status
	sw := text.Advance(status, g.small)
	x := float64(g.width) - pad - sw
	g.text(screen, status, x, (barHeight-lineHeight)/2+4, g.small, colDim)
	vector.DrawFilledCircle(screen, float32(x-12), barHeight/2, 5, dot, true)
}

// statusText is the right side of the bar: the state and the round trip.
func (g *game) statusText() string {
	status := g.sess.Status()
	if rtt := g.sess.RTTText(); rtt != "" {
		status += " · " + rtt
	}
	return status
}

// drawUsers draws the panel of users online.
func (g *game) drawUsers(screen *ebiten.Image) {
	x0 := float32(g.width - sideWidth)
	h := float32(g.height - barHeight - inputH)
	vector.DrawFilledRect(screen, x0, barHeight, sideWidth, h, colPanel, false)
	users := g.sess.Users()
	y := float64(barHeight + pad)
	g.text(screen, fmt.Sprintf("Online (%d)", len(users)), float64(x0)+pad, y, g.face, colDim)
	y += lineHeight + 4
	for _, u := range users {
		if y > float64(barHeight)+float64(h)-lineHeight {
			break
		}
		c := nickColor(u)
		vector.DrawFilledCircle(screen, x0+pad+4, float32(y)+lineHeight/2, 4, c, true)
		label := u
		if u == g.sess.Nick() {
			label += " (you)"
		}
		g.text(screen, label, float64(x0)+pad+16, y, g.face, c)
		y += lineHeight
	}
}

// drawHistory draws the newest rows that fit, bottom up, g.scroll rows
// back.
func (g *game) drawHistory(screen *ebiten.Image) {
	const prefixW = 112 // "12:04 nickname" column
	top := float64(barHeight + pad)
	bottom := float64(g.height - inputH - pad)
	wrapW := float64(g.width-sideWidth-2*pad) - prefixW
	if wrapW < 80 {
		wrapW = 80
	}
	y := bottom
	skip := g.scroll
	for i := len(g.history) - 1; i >= 0 && y > top; i-- {
		e := &g.history[i]
		if e.wrapW != wrapW {
			e.rows = wrap(e.line.Text, g.face, wrapW, e.rows[:0])
			e.wrapW = wrapW
		}
		col := colText
		switch e.line.Kind {
		case chat.InfoLine:
			col = colInfo
		case chat.ErrorLine:
			col = colError
		}
		for r := len(e.rows) - 1; r >= 0 && y > top; r-- {
			if skip > 0 {
				skip--
				continue
			}
			y -= lineHeight
			if y < top {
				break
			}
			g.text(screen, e.rows[r], pad+prefixW, y, g.face, col)
			if r == 0 {
				g.text(screen, e.line.Time.Format("15:04"), pad, y+2, g.small, colDim)
				if e.line.Kind == chat.ChatLine {
					g.text(screen, clip(e.line.From, 10), pad+44, y, g.face, nickColor(e.line.From))
				}
			}
		}
	}
	if g.scroll > 0 {
		g.text(screen, fmt.Sprintf("↓ %d rows below (End)", g.scroll), float64(g.width-sideWidth)-200, bottom-lineHeight, g.small, colBusy)
	}
}

// drawInput draws the input line and its cursor.
func (g *game) drawInput(screen *ebiten.Image) {
	y0 := float32(g.height - inputH)
	vector.DrawFilledRect(screen, 0, y0, float32(g.width), inputH, colBar, false)
	ty := float64(y0) + (inputH-lineHeight)/2 + 1
	g.text(screen, ">", pad, ty, g.face, colDim)
	x := float64(pad + 18)
	if len(g.input) == 0 {
		g.text(screen, "Type a message and press Enter · /who · /nick NAME · /move SERVER · /quit", x, ty, g.face, colDim)
	} else {
		s := string(g.input)
		// Show the end of a line too long for the window.
		for text.Advance(s, g.face) > float64(g.width)-x-2*pad && s != "" {
			_, n := utf8.DecodeRuneInString(s)
			s = s[n:]
		}
		g.text(screen, s, x, ty, g.face, colText)
		x += text.Advance(s, g.face)
	}
	if (g.frames/30)%2 == 0 {
		vector.DrawFilledRect(screen, float32(x)+1, y0+8, 2, inputH-16, colCursor, false)
	}
}

func (g *game) text(dst *ebiten.Image, s string, x, y float64, face text.Face, c color.Color) {
	op := &text.DrawOptions{}
	op.GeoM.Translate(x, y)
	op.ColorScale.ScaleWithColor(c)
	text.Draw(dst, s, face, op)
}

// wrap breaks s into rows no wider than w, at spaces where it can.
func wrap(s string, face text.Face, w float64, rows []string) []string {
	for s != "" {
		if text.Advance(s, face) <= w {
			return append(rows, s)
		}
		// The longest prefix that fits, then back to a space.
		end, cut := 0, -1
		for i, r := range s {
			next := i + utf8.RuneLen(r)
			if text.Advance(s[:next], face) > w {
				break
			}
			end = next
			if r == ' ' {
				cut = i
			}
		}
		if end == 0 {
			_, end = utf8.DecodeRuneInString(s)
		}
		if cut > 0 {
			end = cut
		}
		rows = append(rows, s[:end])
		s = strings.TrimLeft(s[end:], " ")
	}
	if len(rows) == 0 {
		rows = append(rows, "")
	}
	return rows
}

// clip shortens s to n characters.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// nickColor gives each nickname its own color.
func nickColor(nick string) color.RGBA {
	h := fnv.New32a()
	h.Write([]byte(nick))
	return nickColors[h.Sum32()%uint32(len(nickColors))]
}
