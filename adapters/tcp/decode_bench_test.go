package tcp

import "testing"

// BenchmarkDecode parses 19-byte frames from a 64 KiB buffer with each
// framing, without the network: the reader's per-frame cost alone.
func BenchmarkDecode(b *testing.B) {
	payload := []byte("\x93\x01\xa3Tom\xacTest message")
	for _, fr := range framings {
		b.Run(fr.name, func(b *testing.B) {
			frame, _ := fr.framing.AppendFrame(nil, payload)
			var stream []byte
			for len(stream)+len(frame) <= readBufferSize {
				stream = append(stream, frame...)
			}
			overhead, _ := fr.framing.Overhead(1 << 20)
			f := newFrameReader(fr.framing, readBufferSize, 1<<20, overhead, nil)
			b.ReportAllocs()
			b.SetBytes(int64(len(payload)))
			b.ResetTimer()
			n := 0
			for n < b.N {
				space, _ := f.space()
				f.fill(copy(space, stream))
				for n < b.N {
					_, size, err := f.next()
					if err != nil {
						b.Fatal(err)
					}
					if size == 0 {
						break
					}
					n++
				}
			}
		})
	}
}
