package chat

import "time"

// LineKind says what a Line is.
type LineKind uint8

// Kinds of Line.
const (
	ChatLine  LineKind = iota // From said Text
	InfoLine                  // joins, leaves, renames, connection state
	ErrorLine                 // something went wrong or was refused
)

// Line is one line of a chat's history, as a Session reports it.
type Line struct {
	Time time.Time
	Kind LineKind
	From string // the speaker of a ChatLine
	Text string
}

// String is the line as the terminal client prints it: "<ann> hello",
// "*** bob joined", "!!! nickname refused: …".
func (l Line) String() string {
	switch l.Kind {
	case ChatLine:
		return "<" + l.From + "> " + l.Text
	case ErrorLine:
		return "!!! " + l.Text
	}
	return "*** " + l.Text
}
