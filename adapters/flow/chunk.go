package flow

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// A chunk is a run of records, one after another. A record is
//
//	uvarint(len<<2 | more<<1 | value)  then len bytes
//
// value set: the bytes are a codec encoding; clear: raw bytes. more set:
// the packet continues in the next record of the same flow (a packet larger
// than a chunk is split; its records are consecutive and agree on value).
const (
	recValue = 1 << 0
	recMore  = 1 << 1
	// maxRecordHeader is the longest record header: a uvarint of
	// MaxChunkSize<<2 takes 4 bytes.
	maxRecordHeader = 4
)

// appendRecord appends one record.
func appendRecord(dst, data []byte, value, more bool) []byte {
	h := uint64(len(data)) << 2
	if value {
		h |= recValue
	}
	if more {
		h |= recMore
	}
	dst = binary.AppendUvarint(dst, h)
	return append(dst, data...)
}

var errRecord = errors.New("malformed record")

// nextRecord parses the record at b[pos:] and returns its bytes (a slice of
// b) and the position after it.
func nextRecord(b []byte, pos int) (data []byte, value, more bool, end int, err error) {
	h, n := binary.Uvarint(b[pos:])
	if n <= 0 {
		return nil, false, false, pos, fmt.Errorf("%w: bad header at byte %d", errRecord, pos)
	}
	size := h >> 2
	start := pos + n
	if size > uint64(len(b)-start) {
		return nil, false, false, pos, fmt.Errorf("%w: %d bytes announced at byte %d, %d left", errRecord, size, pos, len(b)-start)
	}
	end = start + int(size)
	return b[start:end:end], h&recValue != 0, h&recMore != 0, end, nil
}
