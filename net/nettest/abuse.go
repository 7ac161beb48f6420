package nettest

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gonetic/gonetic/adapters/json"
	"github.com/gonetic/gonetic/adapters/msgpack"
	"github.com/gonetic/gonetic/message"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/transport"
)

// rawPeer is a hand-made client (handMadePeer) and a way to read what the
// server answers while the test keeps the server updating.
type rawPeer struct {
	t    *testing.T
	ctx  context.Context
	link transport.Link
	sink *rawSink
	s    *gnet.Server
}

func newRawPeer(t *testing.T, a Adapter, s *gnet.Server, f *message.Factory) *rawPeer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Deadline)
	t.Cleanup(cancel)
	link, sink := handMadePeer(ctx, t, a, s.Addr(), f)
	return &rawPeer{t: t, ctx: ctx, link: link, sink: sink, s: s}
}

// next returns the next payload from the server, or nil once the link
// closed without one.
func (p *rawPeer) next() []byte {
	p.t.Helper()
	for {
		select {
		case b := <-p.sink.payloads: // first: Closed comes after the last payload
			return b
		default:
		}
		select {
		case b := <-p.sink.payloads:
			return b
		case <-p.sink.closed:
			p.sink.closed <- nil // keep it seen
			select {
			case b := <-p.sink.payloads: // arrived with the close
				return b
			default:
				return nil
			}
		default:
			if p.ctx.Err() != nil {
				p.t.Fatal("no answer from the server")
			}
			_ = p.s.Update(time.Millisecond)
		}
	}
}

// control returns the next payload and decodes it as a control message:
// its kind and its string argument (a reason), or fails.
func (p *rawPeer) control() (kind, reason string) {
	p.t.Helper()
	b := p.next()
	if len(b) == 0 || b[0] != 0 {
		p.t.Fatalf("want a control message, got %q", b)
	}
	r := msgpack.New().NewReader()
	r.Reset(b[1:])
	if n, err := r.Array(); err != nil || n != 2 {
		p.t.Fatalf("control message %q: %d elements, %v", b, n, err)
	}
	kind, err := r.String()
	if err != nil {
		p.t.Fatalf("control message %q: %v", b, err)
	}
	if kind == "welcome" || kind == "ping" || kind == "pong" {
		return kind, ""
	}
	if reason, err = r.String(); err != nil {
		p.t.Fatalf("%s: %v", kind, err)
	}
	return kind, reason
}

// testMalformedNeverDispatched: a message with bytes after its array
// reaches no handler method, no On function, no OnReceive and no event,
// and the peer is told why.
func testMalformedNeverDispatched(t *testing.T, a Adapter) {
	for _, codec := range []message.Codec{msgpack.New(), json.New()} {
		t.Run(codec.Name(), func(t *testing.T) { malformedNeverDispatched(t, a, codec) })
	}
}

func malformedNeverDispatched(t *testing.T, a Adapter, codec message.Codec) {
	f := NewFactory(codec)
	var (
		mu      sync.Mutex
		methods int
		onSeq   int
		others  int
	)
	s := listen(t, a, gnet.ServerConfig{Config: gnet.Config{Factory: f, EventQueue: 64}, NewHandler: func() any {
		return &recordingHandler{count: func(kind string) {
			mu.Lock()
			defer mu.Unlock()
			switch kind {
			case "method":
				methods++
			default:
				others++
			}
		}}
	}})
	gnet.On(s, func(*gnet.Conn, Seq) { mu.Lock(); onSeq++; mu.Unlock() })
	counts := func() (int, int, int) { mu.Lock(); defer mu.Unlock(); return methods, onSeq, others }
	trailing := byte(0xc0) // msgpack nil
	if codec.Name() == "json" {
		trailing = '1'
	}

	// A second server whose handler has only OnReceive: every message
	// takes that path.
	s2 := listen(t, a, gnet.ServerConfig{Config: gnet.Config{Factory: f, EventQueue: 64}, NewHandler: func() any {
		return &receivingHandler{count: func() { mu.Lock(); others++; mu.Unlock() }}
	}})
	for i, msg := range []any{&Chat{"mallory", "relay me"}, &Seq{N: 1}, &Chat{"mallory", "relay me"}, &Seq{N: 1}} {
		s := s
		if i >= 2 {
			s = s2
		}
		p := newRawPeer(t, a, s, f)
		if kind, _ := p.control(); kind != "welcome" {
			t.Fatalf("answer to a hand-made hello: %s", kind)
		}
		payload, err := f.Pack(msg)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.link.Send(0, transport.Reliable, append(payload, trailing)); err != nil {
			t.Fatal(err)
		}
		kind, reason := p.control()
		if kind != "bye" || !strings.Contains(reason, "bytes after the message") {
			t.Fatalf("answer to %T with a trailing byte: %s %q", msg, kind, reason)
		}
	}
	for _, s := range []*gnet.Server{s, s2} {
		for {
			ev, ok := s.Poll()
			if !ok {
				break
			}
			if r, ok := ev.(gnet.Received); ok {
				t.Fatalf("a malformed message became an event: %v", r.Msg)
			}
		}
	}
	if m, o, x := counts(); m != 0 || o != 0 || x != 0 {
		t.Fatalf("a malformed message reached game code: %d handler methods, %d On functions, %d OnReceive", m, o, x)
	}
}

// recordingHandler counts its calls.
type recordingHandler struct {
	gnet.Handler
	count func(kind string)
}

// NetChatMsg counts a method call.
func (h *recordingHandler) NetChatMsg(Chat) { h.count("method") }

// OnReceive counts messages no method takes.
func (h *recordingHandler) OnReceive(any) { h.count("receive") }

// receivingHandler counts what reaches its OnReceive.
type receivingHandler struct {
	gnet.Handler
	count func()
}

// OnReceive counts.
func (h *receivingHandler) OnReceive(any) { h.count() }

// testReasonBounds: every reason a peer gets is at most MaxReasonBytes of
// valid UTF-8, however large the text it was made from: a huge Disconnect
// reason, a refusal that quotes a hand-made hello's huge fields.
func testReasonBounds(t *testing.T, a Adapter) {
	s, c, set, h := openPair(t, a)
	f := NewFactory(nil) // the server's registry, for a hand-made peer
	set.get(0).Conn().Disconnect(strings.Repeat("é", 1<<20))
	Pump(t, func() bool { return h.gone() != nil && set.get(0).gone() != nil }, s, c)
	for side, err := range map[string]error{"peer": h.gone(), "self": set.get(0).gone()} {
		var de *gnet.DisconnectError
		if !errors.As(err, &de) || de.Remote != (side == "peer") {
			t.Fatalf("%s's reason: %.200v", side, err)
		}
		checkReason(t, "a 2 MB Disconnect reason, at the "+side, de.Reason)
		if !strings.HasPrefix(de.Reason, "éé") {
			t.Fatalf("the reason lost its start: %.20q", de.Reason)
		}
	}

	// A hand-made hello whose type lines differ and are huge: the refusal
	// quotes them, cut.
	huge := message.NewFactory(msgpack.New())
	message.MustRegister[Chat](huge, message.Name(strings.Repeat("x", 600<<10)))
	p := newRawPeer(t, a, s, huge)
	kind, reason := p.control()
	if kind != "refuse" {
		t.Fatalf("answer to a hello with a 600 KB type line: %s", kind)
	}
	checkReason(t, "a refusal quoting a 600 KB type line", reason)
	if !strings.Contains(reason, "registry differs") {
		t.Fatalf("the refusal does not say why: %.200q", reason)
	}

	// A hand-made peer's bye with a 300 KB reason: the side that receives it
	// cuts it too.
	var mu sync.Mutex
	var ends []error
	s2 := listen(t, a, gnet.ServerConfig{Config: gnet.Config{Factory: f}, NewHandler: func() any {
		return &endHandler{end: func(err error) { mu.Lock(); ends = append(ends, err); mu.Unlock() }}
	}})
	p2 := newRawPeer(t, a, s2, f)
	if kind, _ := p2.control(); kind != "welcome" {
		t.Fatalf("answer to a hand-made hello: %s", kind)
	}
	w := msgpack.New().NewWriter()
	w.Reset([]byte{0x00})
	w.Array(2)
	w.String("bye")
	w.String(strings.Repeat("ü", 150<<10))
	w.End()
	if err := p2.link.Send(0, transport.Reliable, w.Buffer()); err != nil {
		t.Fatal(err)
	}
	Pump(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(ends) > 0 }, s2)
	mu.Lock()
	end := ends[0]
	mu.Unlock()
	var de *gnet.DisconnectError
	if !errors.As(end, &de) || !de.Remote {
		t.Fatalf("the server's reason for a peer's bye: %v", end)
	}
	checkReason(t, "a hand-made 300 KB bye", de.Reason)
	if !strings.HasPrefix(de.Reason, "üü") {
		t.Fatalf("the reason lost its start: %.20q", de.Reason)
	}
}

func checkReason(t *testing.T, what, reason string) {
	t.Helper()
	if len(reason) > gnet.MaxReasonBytes || !utf8.ValidString(reason) || !strings.HasSuffix(reason, "…") {
		t.Fatalf("%s: the peer got %d bytes (valid UTF-8 %v, cut %v), want at most %d, cut with …",
			what, len(reason), utf8.ValidString(reason), strings.HasSuffix(reason, "…"), gnet.MaxReasonBytes)
	}
}

// testServerFull: with the server full, every extra connection, however
// many arrive at once, is told "server full" (or, beyond the 64 a host may
// have in their handshake at once, that it has too many), and a
// well-behaved client arriving then gets "server full".
// tooManyHandshakes is in the reason a host gets for a connection beyond
// the handshakes it may have at once.
const tooManyHandshakes = "too many connections in their handshake from your address"

func testServerFull(t *testing.T, a Adapter) {
	f := NewFactory(nil)
	s := listen(t, a, gnet.ServerConfig{Config: gnet.Config{Factory: f}, MaxConns: 1})
	c := client(t, a, gnet.ClientConfig{})
	dial(t, c, s, nil)
	const extra = 80 // more than the half-open links the server keeps
	peers := make([]*rawPeer, extra)
	for i := range peers {
		peers[i] = newRawPeer(t, a, s, f)
	}
	for i, p := range peers {
		kind, reason := p.control()
		if kind != "refuse" || !strings.Contains(reason, "server full") && !strings.Contains(reason, tooManyHandshakes) {
			t.Fatalf("extra connection %d of %d: %s %q, want refuse \"server full\"", i+1, extra, kind, reason)
		}
	}
	h := &ConnHandler{}
	if _, err := c.Connect(s.Addr(), h); err != nil {
		t.Fatal(err)
	}
	Pump(t, func() bool { return h.gone() != nil }, s, c)
	if !errors.Is(h.gone(), gnet.ErrRefused) || !strings.Contains(h.gone().Error(), "server full") {
		t.Fatalf("a client arriving at a full server: %v", h.gone())
	}

	// Links that never say hello: the server keeps a bounded number of
	// them waiting for their hello and tells the rest "server full" at
	// once, without waiting for a hello that will not come.
	s2 := listen(t, a, gnet.ServerConfig{Config: gnet.Config{Factory: f, HandshakeTimeout: 2 * time.Second}, MaxConns: 1})
	dial(t, c, s2, nil)
	quiet := make([]*rawPeer, extra)
	for i := range quiet {
		quiet[i] = newQuietPeer(t, a, s2, f)
	}
	full := 0
	for i, p := range quiet {
		kind, reason := p.control()
		switch {
		case kind == "refuse" && (strings.Contains(reason, "server full") || strings.Contains(reason, tooManyHandshakes)):
			full++
		case kind == "refuse" && SaysOrCut(reason, "handshake timed out"):
		default:
			t.Fatalf("silent link %d of %d: %s %q", i+1, extra, kind, reason)
		}
	}
	if full == 0 {
		t.Fatalf("all %d silent links were kept waiting for a hello; the server must bound them", extra)
	}
}

// newQuietPeer dials s on a bare link and sends nothing.
func newQuietPeer(t *testing.T, a Adapter, s *gnet.Server, f *message.Factory) *rawPeer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Deadline)
	t.Cleanup(cancel)
	sink := newRawSink()
	link, err := a.New(t).Dial(ctx, s.Addr(), transport.Config{Channels: f.Channels()}, sink)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(link.Abort)
	return &rawPeer{t: t, ctx: ctx, link: link, sink: sink, s: s}
}

// testSameEnding: the same ending gives the same DisconnectError on every
// adapter, to the peer and to the side that ended it.
func testSameEnding(t *testing.T, a Adapter) {
	var set serverSet
	s := listen(t, a, gnet.ServerConfig{NewHandler: set.newHandler})
	c := client(t, a, gnet.ClientConfig{})
	for i := range 10 { // the link's end races the bye; the result must not
		h := &ChatHandler{}
		conn := dial(t, c, s, h)
		Pump(t, func() bool { return set.len() == i+1 && set.get(i).connects() == 1 }, s, c)
		conn.Disconnect("game over")
		Pump(t, func() bool { return set.get(i).gone() != nil && h.gone() != nil }, s, c)
		want := map[string]struct {
			err   error
			words string
		}{
			"peer": {set.get(i).gone(), "gonetic: disconnected by peer: game over"},
			"self": {h.gone(), "gonetic: disconnected: game over"},
		}
		for side, w := range want {
			var de *gnet.DisconnectError
			if !errors.As(w.err, &de) {
				t.Fatalf("%s: %T %v", side, w.err, w.err)
			}
			if got := de.Error(); got != w.words || de.Err != nil || errors.Is(w.err, io.EOF) || de.Remote != (side == "peer") {
				t.Fatalf("run %d, %s: %q (Remote %v, Err %v), want %q with no Err", i, side, got, de.Remote, de.Err, w.words)
			}
		}
	}
}

// testShutdownBesideTheLoop: Shutdown from another goroutine while the game
// loop runs Update: the endings reach the handlers on the loop's goroutine
// and Shutdown returns once they have.
func testShutdownBesideTheLoop(t *testing.T, a Adapter) {
	s, c, set, h := openPair(t, a)
	loopDone, stop := make(chan error, 1), make(chan struct{})
	go func() { // the game loop
		for {
			select {
			case <-stop:
				loopDone <- nil
				return
			default:
			}
			if err := s.Update(time.Millisecond); err != nil {
				if errors.Is(err, gnet.ErrClosed) {
					loopDone <- nil
				} else {
					loopDone <- err
				}
				return
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), Deadline)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(ctx, "maintenance") }()
	Pump(t, h.isGone(), c)
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown beside the game loop: %v", err)
	}
	close(stop)
	if err := <-loopDone; err != nil {
		t.Fatalf("the game loop's Update: %v", err)
	}
	if set.get(0).gone() == nil {
		t.Fatal("the server handler never heard of the shutdown")
	}
	if !strings.Contains(h.gone().Error(), "maintenance") {
		t.Fatalf("client's reason: %v", h.gone())
	}
}

// testTimeoutIsNotAProtocolError: a silent peer's end says it timed out,
// wraps ErrTimeout, and is reported once.
func testTimeoutIsNotAProtocolError(t *testing.T, a Adapter) {
	f := NewFactory(nil)
	var mu sync.Mutex
	var reasons []error
	s := listen(t, a, gnet.ServerConfig{
		Config: gnet.Config{Factory: f, PingInterval: 10 * time.Millisecond, Timeout: 200 * time.Millisecond},
		NewHandler: func() any {
			return &endHandler{end: func(err error) { mu.Lock(); reasons = append(reasons, err); mu.Unlock() }}
		},
	})
	p := newRawPeer(t, a, s, f)
	if kind, _ := p.control(); kind != "welcome" {
		t.Fatalf("answer to a hand-made hello: %s", kind)
	}
	for { // pings, then the bye
		kind, reason := p.control()
		if kind == "ping" {
			continue
		}
		if kind != "bye" || !strings.Contains(reason, "timed out") || strings.Contains(reason, "protocol error") {
			t.Fatalf("a silent peer got %s %q", kind, reason)
		}
		break
	}
	Pump(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(reasons) > 0 }, s)
	for range 50 { // a few more pings' worth: no second report
		_ = s.Update(time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reasons) != 1 || !errors.Is(reasons[0], gnet.ErrTimeout) || strings.Contains(reasons[0].Error(), "protocol error") {
		t.Fatalf("the server's handler heard %v, want one end wrapping ErrTimeout", reasons)
	}
}

// endHandler reports its connection's end.
type endHandler struct{ end func(error) }

// OnDisconnect reports.
func (h *endHandler) OnDisconnect(err error) { h.end(err) }

// testRTTFromPings: Stats().RTT is gonetic's own ping round trip on every
// adapter: nothing before the first pong, however early the adapter
// measures its own (ENet's is LinkRTT), and a measure once pongs come.
func testRTTFromPings(t *testing.T, a Adapter) {
	quiet := gnet.Config{Factory: NewFactory(nil), PingInterval: -1}
	s := listen(t, a, gnet.ServerConfig{Config: quiet})
	quietClient := quiet
	quietClient.Factory = NewFactory(nil)
	c := client(t, a, gnet.ClientConfig{Config: quietClient})
	conn := dial(t, c, s, nil)
	// A few round trips of messages, which an adapter that measures its
	// own RTT (ENet) learns from.
	for i := range 20 {
		if err := conn.Send(&Seq{N: i}); err != nil {
			t.Fatal(err)
		}
		_ = s.Update(time.Millisecond)
		_ = c.Update(time.Millisecond)
	}
	if st := conn.Stats(); st.RTT != 0 || st.RTTVariance != 0 {
		t.Fatalf("with pings off, Stats().RTT is %v (variance %v): it must come from gonetic's pings alone", st.RTT, st.RTTVariance)
	}

	pinging := gnet.Config{Factory: NewFactory(nil), PingInterval: 10 * time.Millisecond, Timeout: 5 * time.Second}
	c2 := client(t, a, gnet.ClientConfig{Config: pinging})
	conn2 := dial(t, c2, s, nil)
	Pump(t, func() bool { return conn2.Stats().RTT > 0 }, s, c2)
}
