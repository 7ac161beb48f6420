package nats

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCutReasonKeepsCharactersWhole(t *testing.T) {
	for _, s := range []string{strings.Repeat("é", 150), strings.Repeat("a", 199) + "€€", "short"} {
		got := cutReason(s)
		if len(got) > maxReason || !utf8.ValidString(got) || !strings.HasPrefix(s, got) {
			t.Errorf("cutReason(%d bytes) = %d bytes, valid %v", len(s), len(got), utf8.ValidString(got))
		}
		if len(s) <= maxReason && got != s {
			t.Errorf("cutReason cut a short reason: %q", got)
		}
	}
}
