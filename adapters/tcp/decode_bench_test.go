package tcp

import "testing"

// BenchmarkDecode parses 19-byte binary frames from a 64 KiB buffer, without
// the network: the reader's per-frame cost alone.
func BenchmarkDecode(b *testing.B) {
	payload := []byte("\x93\x01\xa3Tom\xacTest message")
	var stream []byte
	for len(stream)+4+len(payload) <= readBufferSize {
		stream = append(stream, frame(payload)...)
	}
	f := newFrameReader(readBufferSize, 1<<20)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	b.ResetTimer()
	n := 0
	for n < b.N {
		f.fill(copy(f.space(), stream))
		for n < b.N {
			_, ok, err := f.next()
			if err != nil {
				b.Fatal(err)
			}
			if !ok {
				break
			}
			n++
		}
	}
}
