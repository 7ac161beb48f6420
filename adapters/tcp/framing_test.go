package tcp_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/net/transport"
)

// wireCase is one framing and how a payload looks on the wire with it.
type wireCase struct {
	framing tcp.Framing
	wire    func(p string) string
}

var wireCases = []wireCase{
	{tcp.Binary{}, func(p string) string { return string(frame([]byte(p))) }},
	{tcp.ByteCount{}, func(p string) string { return fmt.Sprintf("%d %s", len(p), p) }},
	{tcp.Netstring{}, func(p string) string { return fmt.Sprintf("%d:%s,", len(p), p) }},
	{tcp.Lines{}, func(p string) string { return p + "\n" }},
	{tcp.Lines{CRLF: true}, func(p string) string { return p + "\r\n" }},
}

func name(f tcp.Framing) string { return strings.TrimPrefix(fmt.Sprintf("%T%+v", f, f), "tcp.") }

// TestFramingWire checks each framing's bytes both ways against a raw peer,
// and that frames written one byte per write, or many per write, arrive
// the same, a payload of exactly the limit among them.
func TestFramingWire(t *testing.T) {
	const max = 2000
	for _, tc := range wireCases {
		t.Run(name(tc.framing), func(t *testing.T) {
			tr := tcp.New(tcp.Options{Framing: tc.framing})
			srv := listen(t, tr, transport.Config{MaxPayload: max})
			raw := rawDial(t, srv.ln.Addr())
			link, s := srv.accepted(t)

			if err := link.Send(0, transport.Reliable, []byte("hello")); err != nil {
				t.Fatal(err)
			}
			if err := link.Send(0, transport.Reliable, nil); err != nil {
				t.Fatal(err)
			}
			want := tc.wire("hello") + tc.wire("")
			got := make([]byte, len(want))
			raw.SetReadDeadline(time.Now().Add(waitLimit))
			if _, err := io.ReadFull(raw, got); err != nil || string(got) != want {
				t.Fatalf("on the wire: %q, %v; want %q", got, err, want)
			}

			payloads := []string{"one", "", strings.Repeat("m", max), "two words", strings.Repeat("x", 999)}
			var stream string
			for _, p := range payloads {
				stream += tc.wire(p)
			}
			for _, chunk := range []int{1, 7, len(stream)} {
				go func() {
					for b := []byte(stream); len(b) > 0; {
						n := min(chunk, len(b))
						if _, err := raw.Write(b[:n]); err != nil {
							return
						}
						b = b[n:]
					}
				}()
				for i, p := range payloads {
					if got := s.next(t); string(got) != p {
						t.Fatalf("chunks of %d: payload %d is %d bytes, want %d", chunk, i, len(got), len(p))
					}
				}
			}
			if st := link.Stats(); st.BytesReceived != 3*uint64(len(stream)) || st.PayloadsReceived != 3*uint64(len(payloads)) {
				t.Fatalf("stats %+v, want %d bytes in %d payloads", st, 3*len(stream), 3*len(payloads))
			}
		})
	}
}

// TestBadFrameBeforePayload: a prefix that breaks the framing or announces
// a payload over the limit ends the link with a *FrameError while the peer
// has sent nothing more and keeps the connection open: the check does not
// wait for the payload. The server closes gracefully: the peer reads its
// end of stream, and the link is over once the peer ends its own.
func TestBadFrameBeforePayload(t *testing.T) {
	for _, tc := range []struct {
		framing tcp.Framing
		prefix  string
		reason  string
	}{
		{tcp.Binary{}, "\x00\x00\x00\x65", "frame of 101 bytes exceeds the 100-byte limit"},
		{tcp.ByteCount{}, "101", "length of 101 or more bytes exceeds the 100-byte limit"},
		{tcp.ByteCount{}, "5hello", "expected ' ' after the length 5, got 'h'"},
		{tcp.ByteCount{}, "-5 ", "negative length"},
		{tcp.ByteCount{}, "GET / HTTP/1.1\r\n", "expected a decimal length, got 'G'"},
		{tcp.Netstring{}, "1000", "length of 1000 or more bytes exceeds the 100-byte limit"},
		{tcp.Netstring{}, "3:abc;", "expected ',' after a 3-byte netstring, got ';'"},
		{tcp.Lines{}, strings.Repeat("x", 101), "line longer than the 100-byte limit"},
	} {
		t.Run(fmt.Sprintf("%s %.10q", name(tc.framing), tc.prefix), func(t *testing.T) {
			tr := tcp.New(tcp.Options{Framing: tc.framing})
			srv := listen(t, tr, transport.Config{MaxPayload: 100})
			raw := rawDial(t, srv.ln.Addr())
			_, s := srv.accepted(t)
			if _, err := raw.Write([]byte(tc.prefix)); err != nil {
				t.Fatal(err)
			}
			endOfStream(t, raw)
			var fe *transport.FrameError
			if err := s.waitClosed(t); !errors.As(err, &fe) || fe.Reason != tc.reason {
				t.Fatalf("Closed(%v), want a FrameError %q", err, tc.reason)
			}
		})
	}
}

// TestLimitExactly: a payload of exactly Config.MaxPayload bytes passes
// with every framing, sent and received.
func TestLimitExactly(t *testing.T) {
	const max = 70_000 // more than the read buffer
	for _, tc := range wireCases {
		t.Run(name(tc.framing), func(t *testing.T) {
			tr := tcp.New(tcp.Options{Framing: tc.framing})
			srv := listen(t, tr, transport.Config{MaxPayload: max})
			l, _ := dial(t, tr, srv.ln.Addr(), transport.Config{MaxPayload: max})
			_, s := srv.accepted(t)
			p := bytes.Repeat([]byte{'q'}, max)
			if err := l.Send(0, transport.Reliable, p); err != nil {
				t.Fatal(err)
			}
			if err := l.Send(0, transport.Reliable, p[:max-1]); err != nil {
				t.Fatal(err)
			}
			if err := l.Send(0, transport.Reliable, append(p, 'q')); !errors.Is(err, transport.ErrPayloadTooLarge) {
				t.Fatalf("Send over the limit: %v", err)
			}
			if got := s.next(t); len(got) != max {
				t.Fatalf("got %d bytes, want %d", len(got), max)
			}
			if got := s.next(t); len(got) != max-1 {
				t.Fatalf("got %d bytes, want %d", len(got), max-1)
			}
		})
	}
}

func TestLinesSend(t *testing.T) {
	tr := tcp.New(tcp.Options{Framing: tcp.Lines{}})
	srv := listen(t, tr, transport.Config{})
	l, _ := dial(t, tr, srv.ln.Addr(), transport.Config{})
	_, s := srv.accepted(t)
	if err := l.Send(0, transport.Reliable, []byte("two\nlines")); !errors.Is(err, tcp.ErrLineBreak) {
		t.Fatalf("Send of two lines: %v, want ErrLineBreak", err)
	}
	if err := l.Send(0, transport.Reliable, []byte("one line")); err != nil {
		t.Fatal(err)
	}
	if p := s.next(t); string(p) != "one line" {
		t.Fatalf("got %q", p)
	}
}

// farewellSink is a sink that answers a bad frame.
type farewellSink struct {
	*sink
	link   transport.Link
	answer string
	called chan error
}

func (s farewellSink) Farewell(err error) {
	s.called <- err
	if err := s.link.Send(0, transport.Reliable, []byte(s.answer)); err != nil {
		panic(err)
	}
}

// TestFarewell: a Sink that implements transport.Farewell learns why the
// link ends and may answer before the adapter closes it gracefully; one
// that does not gets the same graceful close, so what it queued before the
// bad frame still reaches the peer.
func TestFarewell(t *testing.T) {
	for _, answer := range []string{"too long", ""} {
		t.Run(fmt.Sprintf("answer %q", answer), func(t *testing.T) {
			called := make(chan error, 1)
			s := newSink()
			tr := tcp.New(tcp.Options{Framing: tcp.Lines{}})
			ln, err := tr.Listen("127.0.0.1:0", transport.Config{MaxPayload: 10}, func(l transport.Link) transport.Sink {
				l.Send(0, transport.Reliable, []byte("hi"))
				if answer == "" {
					return s
				}
				return farewellSink{s, l, answer, called}
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ln.Close() })
			raw := rawDial(t, ln.Addr())
			// The bytes after the bad line are discarded, never delivered, and
			// do not make the server reset the connection.
			raw.Write([]byte("fine\nmuch too long a line\nnot delivered\n"))
			if p := s.next(t); string(p) != "fine" {
				t.Fatalf("got %q", p)
			}
			want := "hi\n"
			if answer != "" {
				want += answer + "\n"
				var fe *transport.FrameError
				if err := <-called; !errors.As(err, &fe) || !fe.TooLarge {
					t.Fatalf("Farewell(%v), want a FrameError for a frame too large", err)
				}
			}
			raw.SetReadDeadline(time.Now().Add(waitLimit))
			reply, err := io.ReadAll(raw)
			if err != nil || string(reply) != want {
				t.Fatalf("the peer read %q, %v; want %q", reply, err, want)
			}
			raw.CloseWrite()
			var fe *transport.FrameError
			if err := s.waitClosed(t); !errors.As(err, &fe) {
				t.Fatalf("Closed(%v), want the FrameError", err)
			}
			select {
			case p := <-s.payloads:
				t.Fatalf("delivered %q after the bad frame", p)
			default:
			}
		})
	}
}
