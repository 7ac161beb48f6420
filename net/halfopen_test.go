package net

import (
	"encoding/binary"
	"io"
	stdnet "net"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestHalfOpenBoundedPerHost: one host holds at most maxHalfOpenPerHost
// connections in their handshake; the next from it is refused at once with
// a reason, while another host's client is welcomed; and once the host's
// handshakes end, it may connect again.
func TestHalfOpenBoundedPerHost(t *testing.T) {
	f := NewFactory()
	if _, err := f.Define("chat_msg", []string{"msg"}); err != nil {
		t.Fatal(err)
	}
	srv, err := Listen(ServerConfig{Config: Config{Factory: f}})
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				_ = srv.Update(5 * time.Millisecond)
			}
		}
	}()
	t.Cleanup(func() { close(stop); wg.Wait(); srv.Close() })

	dial := func(from string) stdnet.Conn {
		t.Helper()
		d := stdnet.Dialer{LocalAddr: &stdnet.TCPAddr{IP: stdnet.ParseIP(from)}, Timeout: 10 * time.Second}
		c, err := d.Dial("tcp", srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// A frame of the TCP adapter's default framing: a 4-byte length, then
	// the payload.
	readFrame := func(c stdnet.Conn) []byte {
		t.Helper()
		_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
		var n [4]byte
		if _, err := io.ReadFull(c, n[:]); err != nil {
			t.Fatalf("no answer from the server: %v", err)
		}
		p := make([]byte, binary.BigEndian.Uint32(n[:]))
		if _, err := io.ReadFull(c, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hello := func(c stdnet.Conn) {
		t.Helper()
		h := f.Hash()
		p := appendControl(ctlCodec.NewWriter(), nil, control{kind: ctlHello, version: ProtocolVersion,
			codec: f.Codec().Name(), hash: h[:], lines: f.Lines()})
		frame := binary.BigEndian.AppendUint32(nil, uint32(len(p)))
		if _, err := c.Write(append(frame, p...)); err != nil {
			t.Fatal(err)
		}
	}

	// Silent connections, each in its handshake until HandshakeTimeout.
	silent := make([]stdnet.Conn, maxHalfOpenPerHost)
	for i := range silent {
		silent[i] = dial("127.0.0.1")
	}
	over := dial("127.0.0.1")
	ctl, err := parseControl(ctlCodec.NewReader(), readFrame(over)[1:])
	if err != nil || ctl.kind != ctlRefuse || !strings.Contains(ctl.reason, "too many connections in their handshake") {
		t.Fatalf("connection %d from one host got %+v (%v), want a refusal for too many handshakes", maxHalfOpenPerHost+1, ctl, err)
	}

	other := dial("127.0.0.2")
	hello(other)
	if ctl, err := parseControl(ctlCodec.NewReader(), readFrame(other)[1:]); err != nil || ctl.kind != ctlWelcome {
		t.Fatalf("another host got %+v (%v), want a welcome", ctl, err)
	}

	// The silent ones end; their host's handshakes are no longer counted.
	for _, c := range silent {
		c.Close()
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		srv.hmu.Lock()
		n := srv.halfOpen["127.0.0.1"]
		srv.hmu.Unlock()
		if n == 0 { // over, refused in accept, was never counted
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d handshakes still counted for 127.0.0.1 after its connections closed", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	again := dial("127.0.0.1")
	hello(again)
	if ctl, err := parseControl(ctlCodec.NewReader(), readFrame(again)[1:]); err != nil || ctl.kind != ctlWelcome {
		t.Fatalf("after its handshakes ended, the host got %+v (%v), want a welcome", ctl, err)
	}
}

// TestHostOf: what counts as one host for maxHalfOpenPerHost and the
// token guard, for each adapter's address form.
func TestHostOf(t *testing.T) {
	for addr, want := range map[string]string{
		"10.0.0.7:5000":         "10.0.0.7", // tcp, enet, websocket
		"[::1]:5000":            "::1",      // IPv6
		"zone-1-n/3k9x2":        "zone-1-n", // adapters/nats: the dialer, then its link
		"client-3":              "client-3", // adapters/mem
		"zone-1-n/3k9x2/excess": "zone-1-n", // only the first part names the peer
	} {
		if got := hostOf(addr); got != want {
			t.Errorf("hostOf(%q) = %q, want %q", addr, got, want)
		}
	}
}
