package chat_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	stdnet "net"
	"sync"
	"testing"

	"github.com/gonetic/gonetic/adapters/enet"
	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/adapters/websocket"
	"github.com/gonetic/gonetic/demo/chat/chat"
	"github.com/gonetic/gonetic/net/transport"
)

// capture is every byte a relay carried, stream by stream: one per
// direction of each TCP connection, or one for all UDP datagrams.
type capture struct {
	mu      sync.Mutex
	streams []*bytes.Buffer
	// decode, if set, turns a stream into what a reader of the wire sees
	// in it: WebSocket frames unmasked.
	decode func([]byte) []byte
}

// stream returns a new stream's recorder.
func (c *capture) stream() io.Writer {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := new(bytes.Buffer)
	c.streams = append(c.streams, b)
	return writerFunc(func(p []byte) (int, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		return b.Write(p)
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func (c *capture) contains(s string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range c.streams {
		p := b.Bytes()
		if c.decode != nil {
			p = c.decode(p)
		}
		if bytes.Contains(p, []byte(s)) {
			return true
		}
	}
	return false
}

func (c *capture) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, b := range c.streams {
		n += b.Len()
	}
	return n
}

// unmaskWebSocket returns a WebSocket stream's payloads as they are
// before the client masks them (RFC 6455 5.3), after the HTTP upgrade: a
// mask is no secret, anyone on the path takes it off.
func unmaskWebSocket(p []byte) []byte {
	i := bytes.Index(p, []byte("\r\n\r\n"))
	if i < 0 {
		return p
	}
	out := append([]byte(nil), p[:i+4]...)
	p = p[i+4:]
	for len(p) >= 2 {
		n, h := uint64(p[1]&0x7f), 2
		switch n {
		case 126:
			if len(p) < 4 {
				return out
			}
			n, h = uint64(binary.BigEndian.Uint16(p[2:])), 4
		case 127:
			if len(p) < 10 {
				return out
			}
			n, h = binary.BigEndian.Uint64(p[2:]), 10
		}
		var mask []byte
		if p[1]&0x80 != 0 {
			if len(p) < h+4 {
				return out
			}
			mask, h = p[h:h+4], h+4
		}
		if uint64(len(p)-h) < n {
			n = uint64(len(p) - h) // a frame cut short: what arrived
		}
		for j, c := range p[h : h+int(n)] {
			if mask != nil {
				c ^= mask[j%4]
			}
			out = append(out, c)
		}
		p = p[h+int(n):]
	}
	return out
}

// tcpRelay relays TCP connections on 127.0.0.1 to server, recording every
// byte before it passes it on; it returns the address to dial.
func tcpRelay(t *testing.T, server string, rec *capture) string {
	ln, err := stdnet.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []stdnet.Conn
	)
	track := func(c stdnet.Conn) {
		mu.Lock()
		defer mu.Unlock()
		conns = append(conns, c)
	}
	pipe := func(dst, src stdnet.Conn, rec io.Writer) {
		defer wg.Done()
		_, _ = io.Copy(dst, io.TeeReader(src, rec))
		dst.Close()
		src.Close()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := stdnet.Dial("tcp", server)
			if err != nil {
				c.Close()
				continue
			}
			track(c)
			track(up)
			wg.Add(2)
			go pipe(up, c, rec.stream())
			go pipe(c, up, rec.stream())
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// udpRelay relays UDP datagrams on 127.0.0.1 to server, one upstream
// socket per client address, recording every byte before it passes it
// on; it returns the address to send to.
func udpRelay(t *testing.T, server string, rec *capture) string {
	pc, err := stdnet.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := stdnet.ResolveUDPAddr("udp", server)
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		up   = make(map[string]*stdnet.UDPConn)
		save = rec.stream()
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 64<<10)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = save.Write(buf[:n])
			mu.Lock()
			u := up[from.String()]
			if u == nil {
				if u, err = stdnet.DialUDP("udp", nil, srv); err != nil {
					mu.Unlock()
					continue
				}
				up[from.String()] = u
				wg.Add(1)
				go func() { // the server's answers, back to the client
					defer wg.Done()
					b := make([]byte, 64<<10)
					for {
						n, err := u.Read(b)
						if errors.Is(err, stdnet.ErrClosed) {
							return
						}
						if err != nil {
							continue // an ICMP refusal, while the server starts or stops
						}
						_, _ = save.Write(b[:n])
						_, _ = pc.WriteTo(b[:n], from)
					}
				}()
			}
			mu.Unlock()
			_, _ = u.Write(buf[:n])
		}
	}()
	t.Cleanup(func() {
		pc.Close()
		mu.Lock()
		for _, u := range up {
			u.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return pc.LocalAddr().String()
}

// TestWireCapture puts a relay that records every byte between a client
// and the chat server, over TCP, ENet and WebSocket: with -auth (connect tokens) no
// line of chat, either way, nor the logged-in nickname, ever crosses in
// clear; without it they do, which shows the capture would see them.
// What crosses in clear with -auth is the hello: the message registry
// (type names such as "chat_msg"), and the ticket's public part (the
// server's name and the expiry).
func TestWireCapture(t *testing.T) {
	const (
		up   = "the eagle lands at midnight 7f3a" // the captured client says it
		down = "the owl sleeps at dawn 91c2"      // another client says it to the captured one
		nick = "zanzibarfox"                      // the captured client's nickname
	)
	transports := []struct {
		name  string
		tr    func(t *testing.T) transport.Transport
		relay func(t *testing.T, server string, rec *capture) string
	}{
		{"tcp", func(*testing.T) transport.Transport { return tcp.New(tcp.Options{}) }, tcpRelay},
		{"enet", func(t *testing.T) transport.Transport {
			tr, err := enet.New(nil)
			if err != nil {
				t.Fatal(err)
			}
			return tr
		}, udpRelay},
		{"websocket", func(*testing.T) transport.Transport { return websocket.New(websocket.Options{}) },
			func(t *testing.T, server string, rec *capture) string {
				rec.decode = unmaskWebSocket
				return tcpRelay(t, server, rec)
			}},
	}
	for _, tc := range transports {
		for _, auth := range []bool{false, true} {
			name := tc.name + "/plain"
			if auth {
				name = tc.name + "/auth"
			}
			t.Run(name, func(t *testing.T) {
				var r *rig
				if auth {
					r = newAuthRigOn(t, tc.tr(t)).rig
				} else {
					r = startRigWith(t, tc.tr(t), "127.0.0.1:0", nil, nil)
				}
				server := r.srv.Addr()
				rec := new(capture)
				r.addr = tc.relay(t, server, rec)
				captured := r.join(nick) // through the relay
				r.pump("the captured client online", captured.online())
				if sealed := captured.saw("connected to " + r.addr + ", sealed:")(); sealed != auth {
					t.Fatalf("the captured connection sealed: %v, want %v:\n%s", sealed, auth, captured.text())
				}
				r.addr = server
				other := r.join("owl") // straight to the server
				r.pump("the other online", other.online())

				if err := captured.s.Say(up); err != nil {
					t.Fatal(err)
				}
				r.pump("the line relayed, and back to its sender", func() bool {
					return other.saw("<"+nick+"> "+up)() && captured.saw("<"+nick+"> "+up)()
				})
				if err := other.s.Say(down); err != nil {
					t.Fatal(err)
				}
				r.pump("the other's line reaches the captured client", captured.saw("<owl> "+down))

				if captured.s.State() != chat.Online || rec.len() == 0 {
					t.Fatalf("nothing captured (%d bytes)", rec.len())
				}
				if !rec.contains("chat_msg") {
					t.Fatal("the hello's registry is not in the capture: is the relay recording?")
				}
				for _, s := range []string{up, down, nick} {
					if got := rec.contains(s); got != !auth {
						t.Errorf("%q in the capture of %d bytes: %v, want %v", s, rec.len(), got, !auth)
					}
				}
			})
		}
	}
}
