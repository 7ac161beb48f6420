package tcp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/gonetic/gonetic/net/transport"
)

// frame returns payload with its length prefix.
func frame(payload []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(payload))), payload...)
}

// decodeWhole is the reference decoder: it parses a stream held whole.
func decodeWhole(stream []byte, max int) (frames [][]byte, rest int, tooLarge bool) {
	for len(stream) >= headerSize {
		n := binary.BigEndian.Uint32(stream)
		if uint64(n) > uint64(max) {
			return frames, len(stream), true
		}
		if len(stream) < headerSize+int(n) {
			break
		}
		frames = append(frames, stream[headerSize:headerSize+int(n)])
		stream = stream[headerSize+int(n):]
	}
	return frames, len(stream), false
}

// FuzzFrameDecoder feeds a stream to a frameReader in arbitrary chunks and
// checks it against decodeWhole: same frames, the limit enforced as soon as
// a length is known, no panic, no frame over the limit, no buffer over
// max+4 bytes beyond the initial one, and always room to read into.
func FuzzFrameDecoder(f *testing.F) {
	f.Add([]byte{}, []byte{}, uint16(16), uint8(8))
	f.Add(frame([]byte("hello")), []byte{1}, uint16(16), uint8(8))
	f.Add(append(frame([]byte("hello")), frame(nil)...), []byte{3, 2, 200}, uint16(5), uint8(2))
	f.Add(frame(bytes.Repeat([]byte{7}, 300)), []byte{0, 17, 255}, uint16(300), uint8(16))
	f.Add(frame(bytes.Repeat([]byte{7}, 301)), []byte{0}, uint16(300), uint8(16))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"), []byte{5}, uint16(1000), uint8(64))
	f.Add([]byte{0, 0, 0}, []byte{1}, uint16(0), uint8(1))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1, 2}, []byte{2}, uint16(65535), uint8(4))
	many := []byte{}
	for i := range 40 {
		many = append(many, frame(bytes.Repeat([]byte{byte(i)}, i*3))...)
	}
	f.Add(many, []byte{9, 1, 100, 33}, uint16(120), uint8(8))

	f.Fuzz(func(t *testing.T, stream, cuts []byte, limit uint16, size uint8) {
		max := int(limit % 512)
		initial := int(size%64) + 1
		want, wantRest, wantTooLarge := decodeWhole(stream, max)

		fr := newFrameReader(initial, max)
		var got [][]byte
		var gotErr error
		in := stream
		for i := 0; gotErr == nil; i++ {
			for {
				p, ok, err := fr.next()
				if err != nil {
					gotErr = err
					break
				}
				if !ok {
					break
				}
				if len(p) > max {
					t.Fatalf("frame of %d bytes, limit %d", len(p), max)
				}
				got = append(got, bytes.Clone(p))
			}
			if gotErr != nil || len(in) == 0 {
				break
			}
			space := fr.space()
			if len(space) == 0 {
				t.Fatal("space returned no room")
			}
			if len(fr.buf) > initial && len(fr.buf) > max+headerSize {
				t.Fatalf("buffer grew to %d bytes, limit %d", len(fr.buf), max)
			}
			chunk := len(in)
			if len(cuts) > 0 {
				chunk = int(cuts[i%len(cuts)]) + 1
			}
			n := copy(space, in[:min(chunk, len(in))])
			fr.fill(n)
			in = in[n:]
		}

		if len(got) != len(want) {
			t.Fatalf("got %d frames, want %d", len(got), len(want))
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("frame %d differs", i)
			}
		}
		var fe *transport.FrameError
		if wantTooLarge != errors.As(gotErr, &fe) {
			t.Fatalf("error %v, want oversized %v", gotErr, wantTooLarge)
		}
		if !wantTooLarge && fr.buffered() != wantRest {
			t.Fatalf("%d bytes left buffered, want %d", fr.buffered(), wantRest)
		}
	})
}

func TestFrameReaderShrinks(t *testing.T) {
	fr := newFrameReader(64, 1000)
	big, small := frame(make([]byte, 900)), frame([]byte("x"))
	push := func(b []byte) int {
		n := 0
		for len(b) > 0 {
			c := copy(fr.space(), b)
			fr.fill(c)
			b = b[c:]
			for {
				_, ok, err := fr.next()
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					break
				}
				n++
			}
		}
		return n
	}
	if push(big) != 1 || len(fr.buf) <= 64 {
		t.Fatalf("the buffer did not grow for a big frame: %d bytes", len(fr.buf))
	}
	for range shrinkAfter + 1 {
		push(small)
	}
	if len(fr.buf) != 64 {
		t.Fatalf("the buffer did not shrink back: %d bytes", len(fr.buf))
	}
}
