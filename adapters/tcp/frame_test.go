package tcp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/gonetic/gonetic/net/transport"
)

// frame returns payload with its length prefix.
func frame(payload []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(payload))), payload...)
}

// reference is a decoder that parses a stream held whole: the frames, how
// many bytes are left after them, and whether those start a bad frame.
// Each is written independently of the Framing it checks.
type reference func(stream []byte, max int) (frames [][]byte, rest int, bad bool)

// decodeWhole is the reference decoder of Binary.
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

// decodeDecimal is the reference decoder of ByteCount (sep ' ', no
// trailer) and Netstring (sep ':', trailer ',').
func decodeDecimal(sep byte, trailer bool) reference {
	return func(stream []byte, max int) (frames [][]byte, rest int, bad bool) {
		for len(stream) > 0 {
			digits := 0
			for digits < len(stream) && '0' <= stream[digits] && stream[digits] <= '9' {
				digits++
			}
			if digits == 0 || digits > 1 && stream[0] == '0' {
				return frames, len(stream), true
			}
			n, err := strconv.ParseUint(string(stream[:digits]), 10, 64)
			if err != nil || n > uint64(max) {
				return frames, len(stream), true
			}
			if digits == len(stream) {
				break
			}
			if stream[digits] != sep {
				return frames, len(stream), true
			}
			body := stream[digits+1:]
			if uint64(len(body)) < n {
				break
			}
			payload, after := body[:n], body[n:]
			if trailer {
				if len(after) == 0 {
					break
				}
				if after[0] != ',' {
					return frames, len(stream), true
				}
				after = after[1:]
			}
			frames = append(frames, payload)
			stream = after
		}
		return frames, len(stream), false
	}
}

// decodeLines is the reference decoder of Lines.
func decodeLines(stream []byte, max int) (frames [][]byte, rest int, bad bool) {
	for {
		line, after, found := bytes.Cut(stream, []byte("\n"))
		if !found {
			// Too long already if even a '\n' next could not save it.
			if len(bytes.TrimSuffix(stream, []byte("\r"))) > max {
				return frames, len(stream), true
			}
			return frames, len(stream), false
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) > max {
			return frames, len(stream), true
		}
		frames = append(frames, line)
		stream = after
	}
}

// framings are the framings under test and their reference decoders.
var framings = []struct {
	name    string
	framing Framing
	ref     reference
}{
	{"binary", Binary{}, decodeWhole},
	{"bytecount", ByteCount{}, decodeDecimal(' ', false)},
	{"netstring", Netstring{}, decodeDecimal(':', true)},
	{"lines", Lines{}, decodeLines},
}

// decodeChunked feeds stream to a frameReader whose buffer starts at
// initial bytes, in chunks of the sizes cuts gives in turn (all of it at
// once if cuts is empty). It checks, as it goes, that no frame is over max,
// that space always has room, and that the buffer stays within the limit.
func decodeChunked(t *testing.T, fr Framing, stream, cuts []byte, max, initial int) (frames [][]byte, rest int, err error) {
	t.Helper()
	overhead, oerr := fr.Overhead(max)
	if oerr != nil {
		t.Fatal(oerr)
	}
	f := newFrameReader(fr, initial, max, overhead, nil)
	in := stream
	for i := 0; ; i++ {
		for {
			p, size, err := f.next()
			if err != nil {
				return frames, f.buffered(), err
			}
			if size == 0 {
				break
			}
			if len(p) > max {
				t.Fatalf("frame of %d bytes, limit %d", len(p), max)
			}
			frames = append(frames, bytes.Clone(p))
		}
		if len(in) == 0 {
			return frames, f.buffered(), nil
		}
		space, serr := f.space()
		if serr != nil {
			t.Fatal(serr)
		}
		if len(space) == 0 {
			t.Fatal("space returned no room")
		}
		if len(f.buf) > initial && len(f.buf) > max+overhead {
			t.Fatalf("buffer grew to %d bytes, limit %d+%d", len(f.buf), max, overhead)
		}
		chunk := len(in)
		if len(cuts) > 0 {
			chunk = int(cuts[i%len(cuts)]) + 1
		}
		n := copy(space, in[:min(chunk, len(in))])
		f.fill(n)
		in = in[n:]
	}
}

// checkDecoder decodes stream in chunks and checks the result against the
// reference: same frames, same bytes left, a bad frame reported alike.
func checkDecoder(t *testing.T, fr Framing, ref reference, stream, cuts []byte, max, initial int) {
	t.Helper()
	want, wantRest, wantBad := ref(stream, max)
	got, gotRest, err := decodeChunked(t, fr, stream, cuts, max, initial)
	if len(got) != len(want) {
		t.Fatalf("got %d frames, want %d (error %v)", len(got), len(want), err)
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("frame %d is %q, want %q", i, got[i], want[i])
		}
	}
	var fe *transport.FrameError
	if wantBad != errors.As(err, &fe) || err != nil && fe == nil {
		t.Fatalf("error %v, want a bad frame: %v", err, wantBad)
	}
	if !wantBad && gotRest != wantRest {
		t.Fatalf("%d bytes left buffered, want %d", gotRest, wantRest)
	}
}

// fuzzFraming runs one framing's fuzz target body.
func fuzzFraming(f *testing.F, fr Framing, ref reference) {
	f.Fuzz(func(t *testing.T, stream, cuts []byte, limit uint16, size uint8) {
		checkDecoder(t, fr, ref, stream, cuts, int(limit%512), int(size%64)+1)
	})
}

// FuzzFrameDecoder feeds a stream to a Binary frameReader in arbitrary
// chunks and checks it against decodeWhole: same frames, the limit enforced
// as soon as a length is known, no panic, no frame over the limit, no
// buffer over max+4 bytes beyond the initial one, and always room to read
// into.
func FuzzFrameDecoder(f *testing.F) {
	f.Add([]byte{}, []byte{}, uint16(16), uint8(8))
	f.Add(frame([]byte("hello")), []byte{1}, uint16(16), uint8(8))
	f.Add(append(frame([]byte("hello")), frame(nil)...), []byte{3, 2, 200}, uint16(5), uint8(2))
	f.Add(frame(bytes.Repeat([]byte{7}, 300)), []byte{0, 17, 255}, uint16(300), uint8(16))
	f.Add(frame(bytes.Repeat([]byte{7}, 301)), []byte{0}, uint16(300), uint8(16))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"), []byte{5}, uint16(1000), uint8(64))
	f.Add([]byte{0, 0, 0}, []byte{1}, uint16(0), uint8(1))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1, 2}, []byte{2}, uint16(65535), uint8(4))
	f.Add(manyFrames(Binary{}), []byte{9, 1, 100, 33}, uint16(120), uint8(8))
	fuzzFraming(f, Binary{}, decodeWhole)
}

// FuzzByteCount does the same for ByteCount.
func FuzzByteCount(f *testing.F) {
	f.Add([]byte{}, []byte{}, uint16(16), uint8(8))
	f.Add([]byte("5 hello"), []byte{0}, uint16(16), uint8(8))
	f.Add([]byte("5 hello0 3 abc"), []byte{1, 0, 4}, uint16(5), uint8(2))
	f.Add([]byte("300 "+string(bytes.Repeat([]byte{7}, 300))), []byte{0, 17, 255}, uint16(300), uint8(16))
	f.Add([]byte("301 "+string(bytes.Repeat([]byte{7}, 301))), []byte{0}, uint16(300), uint8(16))
	f.Add([]byte("3001 "), []byte{0}, uint16(300), uint8(16))
	f.Add([]byte("5hello"), []byte{}, uint16(16), uint8(8))
	f.Add([]byte("-5 hello"), []byte{}, uint16(16), uint8(8))
	f.Add([]byte("05 hello"), []byte{0}, uint16(16), uint8(8))
	f.Add([]byte(" 5 hello"), []byte{}, uint16(16), uint8(8))
	f.Add([]byte("99999999999999999999999 "), []byte{2}, uint16(511), uint8(8))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"), []byte{5}, uint16(1000), uint8(64))
	f.Add(manyFrames(ByteCount{}), []byte{9, 1, 100, 33}, uint16(120), uint8(8))
	fuzzFraming(f, ByteCount{}, decodeDecimal(' ', false))
}

// FuzzNetstring does the same for Netstring.
func FuzzNetstring(f *testing.F) {
	f.Add([]byte{}, []byte{}, uint16(16), uint8(8))
	f.Add([]byte("5:hello,"), []byte{0}, uint16(16), uint8(8))
	f.Add([]byte("5:hello,0:,3:abc,"), []byte{1, 0, 4}, uint16(5), uint8(2))
	f.Add([]byte("5:hello;"), []byte{}, uint16(16), uint8(8))
	f.Add([]byte("5:hell"), []byte{}, uint16(16), uint8(8))
	f.Add([]byte("-5:hello,"), []byte{}, uint16(16), uint8(8))
	f.Add([]byte("05:hello,"), []byte{0}, uint16(16), uint8(8))
	f.Add([]byte("5 hello,"), []byte{}, uint16(16), uint8(8))
	f.Add([]byte("300:"+string(bytes.Repeat([]byte{7}, 300))+","), []byte{0, 17, 255}, uint16(300), uint8(16))
	f.Add([]byte("301:"), []byte{0}, uint16(300), uint8(16))
	f.Add(manyFrames(Netstring{}), []byte{9, 1, 100, 33}, uint16(120), uint8(8))
	fuzzFraming(f, Netstring{}, decodeDecimal(':', true))
}

// FuzzLines does the same for Lines.
func FuzzLines(f *testing.F) {
	f.Add([]byte{}, []byte{}, uint16(16), uint8(8))
	f.Add([]byte("hello\n"), []byte{0}, uint16(16), uint8(8))
	f.Add([]byte("hello\r\n\nabc\r\r\n"), []byte{1, 0, 4}, uint16(5), uint8(2))
	f.Add([]byte("hello\r"), []byte{0}, uint16(5), uint8(2))
	f.Add([]byte("hello\r\r"), []byte{0}, uint16(5), uint8(2))
	f.Add([]byte("hellos"), []byte{0}, uint16(5), uint8(2))
	f.Add(append(bytes.Repeat([]byte{'x'}, 300), "\r\n"...), []byte{0, 17, 255}, uint16(300), uint8(16))
	f.Add(append(bytes.Repeat([]byte{'x'}, 301), '\n'), []byte{0}, uint16(300), uint8(16))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"), []byte{5}, uint16(1000), uint8(64))
	f.Add(manyFrames(Lines{CRLF: true}), []byte{9, 1, 100, 33}, uint16(120), uint8(8))
	fuzzFraming(f, Lines{}, decodeLines)
}

// FuzzRoundTrip frames payloads cut from data with every framing and checks
// that they decode back, whatever the reads.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("hello\x00world\x00\x00x"), []byte{0})
	f.Add([]byte("a\nb\r\x00c\r\n"), []byte{3, 1})
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		payloads := bytes.Split(data, []byte{0})
		for _, fr := range append(framings, struct {
			name    string
			framing Framing
			ref     reference
		}{"lines-crlf", Lines{CRLF: true}, decodeLines}) {
			var stream []byte
			var want [][]byte
			for _, p := range payloads {
				s, err := fr.framing.AppendFrame(stream, p)
				if err != nil {
					if _, lines := fr.framing.(Lines); !lines || !errors.Is(err, ErrLineBreak) || len(s) != len(stream) {
						t.Fatalf("%s: AppendFrame(%q): %v", fr.name, p, err)
					}
					continue
				}
				stream, want = s, append(want, p)
			}
			got, rest, err := decodeChunked(t, fr.framing, stream, cuts, len(data), 16)
			if err != nil || rest != 0 || len(got) != len(want) {
				t.Fatalf("%s: %d frames, %d bytes left, %v; want %d frames", fr.name, len(got), rest, err, len(want))
			}
			for i := range got {
				if !bytes.Equal(got[i], want[i]) {
					t.Fatalf("%s: frame %d is %q, want %q", fr.name, i, got[i], want[i])
				}
			}
		}
	})
}

// manyFrames is 40 frames of 0 to 117 bytes, all without line breaks.
func manyFrames(fr Framing) []byte {
	var b []byte
	for i := range 40 {
		var err error
		b, err = fr.AppendFrame(b, bytes.Repeat([]byte{'a' + byte(i%26)}, i*3))
		if err != nil {
			panic(err)
		}
	}
	return b
}

// TestSplitIndependence decodes, with every framing, one stream of many
// frames (empty ones and ones of exactly the limit among them) whole, byte
// by byte and in random chunks, and expects the same frames each time.
func TestSplitIndependence(t *testing.T) {
	const max = 1000
	for _, fr := range framings {
		t.Run(fr.name, func(t *testing.T) {
			var stream []byte
			var want [][]byte
			for i := range 200 {
				p := bytes.Repeat([]byte{'a' + byte(i%26)}, rand.IntN(max+1))
				switch i % 10 {
				case 0:
					p = p[:0]
				case 1:
					p = bytes.Repeat([]byte{'z'}, max)
				}
				var err error
				if stream, err = fr.framing.AppendFrame(stream, p); err != nil {
					t.Fatal(err)
				}
				want = append(want, p)
			}
			random := make([]byte, 64)
			for i := range random {
				random[i] = byte(rand.IntN(256))
			}
			for _, cuts := range [][]byte{nil, {0}, random} {
				for _, initial := range []int{1, 64, readBufferSize} {
					got, rest, err := decodeChunked(t, fr.framing, stream, cuts, max, initial)
					if err != nil || rest != 0 || len(got) != len(want) {
						t.Fatalf("cuts %v, buffer %d: %d frames, %d bytes left, %v; want %d frames",
							cuts, initial, len(got), rest, err, len(want))
					}
					for i := range got {
						if !bytes.Equal(got[i], want[i]) {
							t.Fatalf("cuts %v, buffer %d: frame %d differs", cuts, initial, i)
						}
					}
				}
			}
		})
	}
}

// TestBadFrames checks, for every framing, which streams are refused and
// why, whole and byte by byte, with a limit of 5 bytes.
func TestBadFrames(t *testing.T) {
	for _, tc := range []struct {
		framing Framing
		stream  string
		frames  int    // good frames before the bad one
		reason  string // "" for no error
	}{
		{Binary{}, "\x00\x00\x00\x05hello", 1, ""},
		{Binary{}, "\x00\x00\x00\x06", 0, "frame of 6 bytes exceeds the 5-byte limit"},
		{ByteCount{}, "5 hello0 ", 2, ""},
		{ByteCount{}, "5 hello6", 1, "length of 6 or more bytes exceeds the 5-byte limit"},
		{ByteCount{}, "10", 0, "length of 10 or more bytes exceeds the 5-byte limit"},
		{ByteCount{}, "5hello", 0, "expected ' ' after the length 5, got 'h'"},
		{ByteCount{}, "5:hello", 0, "expected ' ' after the length 5, got ':'"},
		{ByteCount{}, "-5 hello", 0, "negative length"},
		{ByteCount{}, "05 hello", 0, "length with a leading zero"},
		{ByteCount{}, " 5 hello", 0, "expected a decimal length, got ' '"},
		{ByteCount{}, "+5 hello", 0, "expected a decimal length, got '+'"},
		{Netstring{}, "5:hello,0:,", 2, ""},
		{Netstring{}, "5:hello;", 0, "expected ',' after a 5-byte netstring, got ';'"},
		{Netstring{}, "6:", 0, "length of 6 or more bytes exceeds the 5-byte limit"},
		{Netstring{}, "5 hello,", 0, "expected ':' after the length 5, got ' '"},
		{Lines{}, "hello\nhello\r\n\n", 3, ""},
		{Lines{}, "hello\r", 0, ""},
		{Lines{}, "hello\r\r", 0, "line longer than the 5-byte limit"},
		{Lines{}, "hello!", 0, "line longer than the 5-byte limit"},
		{Lines{}, "ok\nhello!\n", 1, "line longer than the 5-byte limit"},
	} {
		for _, cuts := range [][]byte{nil, {0}} {
			got, _, err := decodeChunked(t, tc.framing, []byte(tc.stream), cuts, 5, 8)
			reason := ""
			if err != nil {
				var fe *transport.FrameError
				if !errors.As(err, &fe) {
					t.Fatalf("%T %q: %v is not a FrameError", tc.framing, tc.stream, err)
				}
				reason = fe.Reason
			}
			if len(got) != tc.frames || reason != tc.reason {
				t.Errorf("%T %q (cuts %v): %d frames, error %q; want %d, %q",
					tc.framing, tc.stream, cuts, len(got), reason, tc.frames, tc.reason)
			}
		}
	}
}

// TestLinesScanOnce: a long line arriving byte by byte is searched for its
// end once, not once per byte.
func TestLinesScanOnce(t *testing.T) {
	counter := &countingLines{}
	line := append(bytes.Repeat([]byte{'x'}, 10000), '\n')
	got, _, err := decodeChunked(t, counter, line, []byte{0}, 10000, 16)
	if err != nil || len(got) != 1 {
		t.Fatalf("%d frames, %v", len(got), err)
	}
	if counter.seen > 2*len(line) {
		t.Fatalf("Split looked at %d bytes for a %d-byte line", counter.seen, len(line))
	}
}

type countingLines struct {
	Lines
	seen int
}

func (c *countingLines) Split(b []byte, scanned, max int) (int, int, int, error) {
	c.seen += len(b) - scanned
	return c.Lines.Split(b, scanned, max)
}

// brokenFraming claims frames larger than its overhead allows.
type brokenFraming struct{ Binary }

func (brokenFraming) Split(b []byte, _, _ int) (int, int, int, error) {
	return 0, 0, len(b) + 1000, nil
}

func TestBrokenFraming(t *testing.T) {
	_, _, err := decodeChunked(t, brokenFraming{}, []byte("abc"), nil, 10, 8)
	var fe *transport.FrameError
	if !errors.As(err, &fe) {
		t.Fatalf("got %v, want a FrameError", err)
	}
}

func TestLinesAppend(t *testing.T) {
	for _, tc := range []struct {
		crlf    bool
		payload string
		want    string // "" for ErrLineBreak
	}{
		{false, "hello", "hello\n"},
		{true, "hello", "hello\r\n"},
		{false, "", "\n"},
		{false, "a\nb", ""},
		{true, "a\nb", ""},
		{false, "a\r", ""},
		{true, "a\r", "a\r\r\n"},
		{false, "a\rb", "a\rb\n"},
	} {
		b, err := Lines{CRLF: tc.crlf}.AppendFrame([]byte("x"), []byte(tc.payload))
		if tc.want == "" {
			if !errors.Is(err, ErrLineBreak) || string(b) != "x" {
				t.Errorf("CRLF %v, %q: %q, %v; want ErrLineBreak", tc.crlf, tc.payload, b, err)
			}
		} else if err != nil || string(b) != "x"+tc.want {
			t.Errorf("CRLF %v, %q: %q, %v; want %q", tc.crlf, tc.payload, b, err, "x"+tc.want)
		}
	}
}

func TestFrameReaderShrinks(t *testing.T) {
	for _, fr := range framings {
		t.Run(fr.name, func(t *testing.T) {
			overhead, _ := fr.framing.Overhead(1000)
			f := newFrameReader(fr.framing, 64, 1000, overhead, nil)
			big, _ := fr.framing.AppendFrame(nil, bytes.Repeat([]byte{'b'}, 900))
			small, _ := fr.framing.AppendFrame(nil, []byte("x"))
			push := func(b []byte) int {
				n := 0
				for len(b) > 0 {
					space, err := f.space()
					if err != nil {
						t.Fatal(err)
					}
					c := copy(space, b)
					f.fill(c)
					b = b[c:]
					for {
						_, size, err := f.next()
						if err != nil {
							t.Fatal(err)
						}
						if size == 0 {
							break
						}
						n++
					}
				}
				return n
			}
			if push(big) != 1 || len(f.buf) <= 64 {
				t.Fatalf("the buffer did not grow for a big frame: %d bytes", len(f.buf))
			}
			for range shrinkAfter + 1 {
				push(small)
			}
			if len(f.buf) != 64 {
				t.Fatalf("the buffer did not shrink back: %d bytes", len(f.buf))
			}
		})
	}
}

// TestFrameReaderGrowsAsBytesArrive: a header announcing a large frame
// costs nothing; the buffer then grows with the bytes that arrive, at most
// to twice what it holds, taking from the budget, and gives it all back.
func TestFrameReaderGrowsAsBytesArrive(t *testing.T) {
	b := newBudget(1 << 30)
	const small, max = 64, 1 << 20
	f := newFrameReader(Binary{}, small, max, headerSize, b)
	stream := frame(make([]byte, max))
	got := 0
	for len(stream) > 0 {
		if _, size, err := f.next(); err != nil {
			t.Fatal(err)
		} else if size > 0 {
			got++
			continue
		}
		space, err := f.space()
		if err != nil {
			t.Fatal(err)
		}
		if held := f.buffered(); len(f.buf) > small && len(f.buf) > 2*held {
			t.Fatalf("the buffer is %d bytes for %d received", len(f.buf), held)
		}
		if b.inUse() != len(f.buf)-small {
			t.Fatalf("the budget counts %d bytes, the buffer holds %d beyond %d", b.inUse(), len(f.buf), small)
		}
		f.fill(copy(space, stream[:min(len(space), 1000)]))
		stream = stream[min(len(space), 1000):]
	}
	if _, size, err := f.next(); err != nil || size == 0 {
		t.Fatalf("no frame at the end: %d, %v", size, err)
	}
	if _, err := f.space(); err != nil || len(f.buf) != small || b.inUse() != 0 {
		t.Fatalf("after the frame: %d-byte buffer, %d bytes taken, %v", len(f.buf), b.inUse(), err)
	}

	// A budget that has not enough left refuses the growth.
	f = newFrameReader(Binary{}, small, max, headerSize, newBudget(small))
	stream = frame(make([]byte, 4*small))
	for {
		if _, _, err := f.next(); err != nil {
			t.Fatal(err)
		}
		space, err := f.space()
		if err == ErrBusy {
			break
		}
		if err != nil || len(stream) == 0 {
			t.Fatalf("no ErrBusy: %v", err)
		}
		n := copy(space, stream)
		f.fill(n)
		stream = stream[n:]
	}
	f.close()
	if f.budget.inUse() != 0 {
		t.Fatalf("%d bytes still taken after close", f.budget.inUse())
	}
}
