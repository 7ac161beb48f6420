package nats

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// Frame kinds: the first byte of every message on a link subject.
const (
	kindData   = 1 // [seq][channel][payload]: a whole payload, or the last part of one
	kindFrag   = 2 // [seq][channel][part]: the payload goes on in the next frame
	kindClose  = 3 // [seq][code][reason]: the sender ended the link
	kindTick   = 4 // [seq]: the sender is idle; shows a lost tail
	kindAccept = 5 // [seq]: the listener took the dial (seq 1 towards the dialer)
)

// Close codes, the byte after a close frame's seq.
const (
	codeNormal   = 0 // Close: the peer reports io.EOF
	codeAborted  = 1 // Abort, or an abandoned dial
	codeError    = 2 // the sender saw the link break (a gap, a bad frame)
	codeTooLarge = 3 // the sender refused a payload over its MaxPayload
	codeRefused  = 4 // the listener's Accept refused the link
)

// maxHeader is the longest frame header: kind, seq, channel.
const maxHeader = 1 + binary.MaxVarintLen64 + 1

// maxReason bounds the reason a close frame carries.
const maxReason = 200

// cutReason bounds a close frame's reason to maxReason bytes, cut on a
// character: half of one would be invalid UTF-8 to the peer.
func cutReason(s string) string {
	if len(s) <= maxReason {
		return s
	}
	return strings.ToValidUTF8(s[:maxReason], "")
}

// appendHeader appends a frame's kind and seq.
func appendHeader(b []byte, kind byte, seq uint64) []byte {
	return binary.AppendUvarint(append(b, kind), seq)
}

// frame is a parsed link message; body follows the seq.
type frame struct {
	kind byte
	seq  uint64
	body []byte
}

// parseFrame splits a message into kind, seq and body.
func parseFrame(b []byte) (frame, error) {
	if len(b) == 0 {
		return frame{}, fmt.Errorf("an empty message on a link subject")
	}
	seq, n := binary.Uvarint(b[1:])
	if n <= 0 {
		return frame{}, fmt.Errorf("a frame of kind %d with a malformed sequence number", b[0])
	}
	f := frame{kind: b[0], seq: seq, body: b[1+n:]}
	switch f.kind {
	case kindData, kindFrag:
		if len(f.body) == 0 {
			return f, fmt.Errorf("a data frame without its channel byte")
		}
	case kindClose:
		if len(f.body) == 0 {
			return f, fmt.Errorf("a close frame without its code")
		}
	case kindTick, kindAccept:
	default:
		return f, fmt.Errorf("a frame of unknown kind %d", f.kind)
	}
	return f, nil
}
