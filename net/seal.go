package net

import (
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math"
	"time"

	"github.com/gonetic/gonetic/net/transport"
	"github.com/gonetic/gonetic/token"
	"golang.org/x/crypto/chacha20poly1305"
)

// Sealed connections (docs/PROTOCOL.md, "Sealed connections"): a client
// with a connect token and a server with ServerConfig.Tokens derive two
// keys from the token's and the connection's randoms, and from the
// server's session message on, every payload in both directions is
// sealed with ChaCha20-Poly1305, in batches of one stream (batch.go):
//
//	channel(u8) delivery(u8) counter(uvarint) ciphertext tag(16)
//
// whose plaintext is one or more records, uvarint(length) payload, with
// the nonce channel, delivery, 0, 0, counter (u64 little-endian), so that
// each (channel, delivery) stream of each direction counts its own sealed
// payloads from 0 and no nonce repeats under a key.

// Sizes of the session's randoms and of the seal's tag.
const (
	randomSize = 32
	tagSize    = chacha20poly1305.Overhead
	// replayWindow is how far behind the newest unsequenced payload of
	// a stream an older one may still arrive (and be taken once).
	replayWindow = 256
)

// The reasons a sealed payload is refused. A connection ends with them
// (a stream adapter, or a reliable payload), or the payload is dropped
// and counted in Stats.Rejected (ENet's sequenced and unsequenced ones).
var (
	errForged   = errors.New("a payload failed authentication: forged or corrupted")
	errReplayed = errors.New("a payload failed authentication: replayed or out of order")
)

// sessionKeys derives a connection's two keys from the token's keys and
// the two randoms: fresh for every connection, even when a token is used
// again from the same address.
func sessionKeys(c2s, s2c token.Key, rc, rs []byte) (kc2s, ks2c []byte) {
	derive := func(key token.Key, label string) []byte {
		m := hmac.New(sha256.New, key[:])
		m.Write([]byte(label))
		m.Write(rc)
		m.Write(rs)
		return m.Sum(nil)
	}
	return derive(c2s, "gonetic c2s"), derive(s2c, "gonetic s2c")
}

// newRandom returns a session random.
func newRandom() []byte {
	b := make([]byte, randomSize)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return b
}

// sealer seals what one end sends. Guarded by its Conn's mu.
type sealer struct {
	aead     cipher.AEAD
	nonce    [chacha20poly1305.NonceSize]byte // a field: a local would escape to the heap
	next     []uint64                         // next counter, by channel*3+delivery
	batches  []batch                          // pending records, by channel*3+delivery (batch.go)
	order    []int                            // the streams with a pending batch, in the order they began
	maxPlain int                              // the largest plaintext whose seal the peer takes (Config.MaxMessageSize)
	lossy    bool                             // the link is transport.Lossy: streams need not keep their order between them
}

// opener opens what one end receives. Used by the link's Sink only, whose
// calls never overlap.
type opener struct {
	aead    cipher.AEAD
	nonce   [chacha20poly1305.NonceSize]byte
	streams []rxStream // by channel*3+delivery
	buf     []byte     // the last payload opened
	skip    int        // records of the next payload to open already taken (TryReceive refused the one after)
	lossy   bool       // the link may lose or reorder unreliable payloads (transport.Lossy)
	dead    bool       // it ended the connection: the rest is dropped
}

// rxStream is what a receiver remembers of one (channel, delivery) stream.
type rxStream struct {
	next   uint64    // reliable: the counter expected; else the highest seen + 1
	window [4]uint64 // unsequenced: bit i set when counter next-1-i was taken
}

// newSession returns the sealer and opener of one end, given the keys it
// seals and opens with and the largest payload the link takes.
func newSession(sealKey, openKey []byte, channels, maxPayload int, lossy bool) (*sealer, *opener) {
	sa, _ := chacha20poly1305.New(sealKey) // the keys are 32 bytes: no error
	oa, _ := chacha20poly1305.New(openKey)
	return &sealer{aead: sa, next: make([]uint64, channels*3), batches: make([]batch, channels*3),
			maxPlain: maxPayload - sealOverhead, lossy: lossy},
		&opener{aead: oa, streams: make([]rxStream, channels*3), lossy: lossy}
}

func setNonce(n *[chacha20poly1305.NonceSize]byte, ch uint8, d transport.Delivery, ctr uint64) {
	n[0], n[1], n[2], n[3] = ch, byte(d), 0, 0
	binary.LittleEndian.PutUint64(n[4:], ctr)
}

// sealedSend seals a plaintext of records into c.sealBuf and sends it;
// the stream's counter moves on only when the link took it, so that a
// failed send (a full queue) leaves no gap in a reliable stream. c.mu is
// held; the stream is valid (sealedAppend checked it).
func (c *Conn) sealedSend(ch uint8, d transport.Delivery, payload []byte) error {
	s := c.tx
	i := int(ch)*3 + int(d)
	ctr := s.next[i]
	b := append(c.sealBuf[:0], ch, byte(d))
	b = binary.AppendUvarint(b, ctr)
	setNonce(&s.nonce, ch, d, ctr)
	c.sealBuf = s.aead.Seal(b, s.nonce[:], payload, nil)
	err := c.link.Send(ch, d, c.sealBuf)
	if err == nil {
		s.next[i]++
	}
	return err
}

// open authenticates a sealed payload and returns its plaintext (valid
// until the next open; records validRecords took), its channel and what
// accept needs. It changes nothing: accept records the payload once it
// was taken.
func (o *opener) open(p []byte) (plain []byte, ch uint8, d transport.Delivery, ctr uint64, err error) {
	if len(p) < 3+tagSize {
		return nil, 0, 0, 0, errForged
	}
	ch, d = p[0], transport.Delivery(p[1])
	i := int(ch)*3 + int(d)
	if !d.Valid() || i >= len(o.streams) {
		return nil, 0, 0, 0, errForged
	}
	ctr, n := binary.Uvarint(p[2:])
	// Only the shortest encoding: another would open too, being outside
	// the seal, and the payload must be exactly what was sealed.
	// Nor the last counter: a stream that took it would expect 0 next
	// and take every older counter again; a sender never gets there.
	if n <= 0 || n != uvarintLen(ctr) || ctr == math.MaxUint64 || len(p)-2-n < tagSize {
		return nil, 0, 0, 0, errForged
	}
	if !o.streams[i].fresh(d, ctr) { // before the AEAD: replays cost nothing
		return nil, 0, 0, 0, errReplayed
	}
	setNonce(&o.nonce, ch, d, ctr)
	plain, err = o.aead.Open(o.buf[:0], o.nonce[:], p[2+n:], nil)
	if err != nil {
		return nil, 0, 0, 0, errForged
	}
	o.buf = plain[:0]
	if !validRecords(plain) { // sealed by a broken or hostile peer: as forged
		return nil, 0, 0, 0, errForged
	}
	return plain, ch, d, ctr, nil
}

// accept records that the payload open returned was taken.
func (o *opener) accept(ch uint8, d transport.Delivery, ctr uint64) {
	st := &o.streams[int(ch)*3+int(d)]
	switch {
	case ctr >= st.next:
		if d == transport.Unsequenced {
			st.shift(ctr + 1 - st.next)
			st.window[0] |= 1
		}
		st.next = ctr + 1
	default: // an unsequenced one inside the window
		back := st.next - 1 - ctr
		st.window[back/64] |= 1 << (back % 64)
	}
}

// fresh reports whether counter ctr may be taken on the stream.
func (st *rxStream) fresh(d transport.Delivery, ctr uint64) bool {
	switch d {
	case transport.Reliable:
		return ctr == st.next
	case transport.Sequenced:
		return ctr >= st.next
	}
	if ctr >= st.next {
		return true
	}
	back := st.next - 1 - ctr
	return back < replayWindow && st.window[back/64]&(1<<(back%64)) == 0
}

// shift moves the window on by s counters.
func (st *rxStream) shift(s uint64) {
	if s >= replayWindow {
		st.window = [4]uint64{}
		return
	}
	ws, bs := int(s/64), s%64
	for i := len(st.window) - 1; i >= 0; i-- {
		var v uint64
		if j := i - ws; j >= 0 {
			v = st.window[j] << bs
			if bs > 0 && j > 0 {
				v |= st.window[j-1] >> (64 - bs)
			}
		}
		st.window[i] = v
	}
}

// Sealed reports whether the connection's traffic is sealed: encrypted
// and authenticated with keys from a connect token (WithToken,
// ServerConfig.Tokens). It is true from OnConnect on for every connection
// that used a token, and false for the others. Any goroutine may call it.
func (c *Conn) Sealed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tx != nil
}

// takeSealed opens a payload on the Sink's goroutine and hands its
// plaintext on as take does; wait is take's. It reports false when the
// inbox had no room (TryReceive): nothing is recorded then, so the same
// payload opens again when the adapter hands it over once more.
func (c *Conn) takeSealed(o *opener, channel uint8, p []byte, wait bool) bool {
	if o.dead {
		return true
	}
	plain, ch, d, ctr, err := o.open(p)
	if err != nil {
		c.rejected(o, p, err)
		return true
	}
	if !c.takeRecords(o, ch, plain, wait) {
		return false
	}
	o.accept(ch, d, ctr)
	if c.accepted() && !c.heardSealed.Load() {
		c.heardSealed.Store(true)
		c.ep.inbox.push(c, itemProven, 0, nil)
	}
	return true
}

// takeRecords hands on each record of an opened payload, in order. It
// reports false when the inbox had no room (TryReceive); o.skip then
// counts those taken, which are not taken again when the same payload
// opens again.
func (c *Conn) takeRecords(o *opener, ch uint8, plain []byte, wait bool) bool {
	for k := 0; len(plain) > 0; k++ {
		var rec []byte
		rec, plain = nextRecord(plain)
		if k < o.skip {
			continue
		}
		if !c.takePlain(ch, rec, wait) {
			o.skip = k
			return false
		}
	}
	o.skip = 0
	return true
}

// rejected drops a payload that did not open, and counts it, where the
// adapter may really lose, delay or repeat it (an unreliable payload on
// ENet); anywhere else it can only be an attack or corruption, and the
// connection ends.
func (c *Conn) rejected(o *opener, p []byte, err error) {
	if o.lossy && len(p) > 1 && transport.Delivery(p[1]) != transport.Reliable {
		c.rejectedN.Add(1)
		return
	}
	o.dead = true
	c.failSealed(err)
}

// failSealed has Update end the connection with err; Sink goroutine only.
func (c *Conn) failSealed(err error) {
	c.sealFail = err
	c.ep.inbox.push(c, itemRejected, 0, nil)
}

// takeBeforeSession is take for a client with a token that has no keys
// yet: it keys the connection on the server's session and passes a clear
// refuse or bye on. Nothing sealed comes before the session from a server
// that keeps the protocol: it opens a sealed connection, and so sends it
// messages, only after the client's first sealed payload, which needs the
// session's keys.
func (c *Conn) takeBeforeSession(channel uint8, p []byte, wait bool) bool {
	if c.early0 {
		return true
	}
	// A clear control payload is 0x00 then a msgpack array; a sealed one
	// on channel 0 is 0x00 then its delivery, 0 to 2.
	if channel == 0 && len(p) > 1 && p[0] == controlMark && p[1] > 2 {
		if _, ok := c.keyClient(p); ok {
			return true
		}
		return c.takePlain(channel, p, wait)
	}
	c.early0 = true
	c.failSealed(errors.New("gonetic: a sealed payload before the server's session"))
	return true
}

// keyClient reads the server's session message: the connection gets its
// keys, and sends its first ping, sealed. It reports false when p is not
// a session message (take passes it on: a refusal, or a malformed one
// Update reports); the opener is nil when the connection is ending.
func (c *Conn) keyClient(p []byte) (*opener, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pingR == nil {
		c.pingR = ctlCodec.NewReader()
	}
	ctl, err := parseControl(c.pingR, p[1:])
	if err != nil || ctl.kind != ctlSession {
		return nil, false
	}
	c.ctlRecvd.Add(1)
	c.heard.Add(1)
	if c.state != Handshaking || c.link == nil {
		return nil, true
	}
	kc2s, ks2c := sessionKeys(c.tok.ClientToServer, c.tok.ServerToClient, c.random, ctl.random)
	_, lossy := c.link.(transport.Lossy)
	tx, rx := newSession(kc2s, ks2c, c.ep.tcfg.Channels, c.ep.tcfg.MaxPayload, lossy)
	c.ep.startFlusher()
	c.tx = tx
	c.rx.Store(rx)
	// The first ping, pings on or off: the server opens the connection
	// only once a sealed payload shows that we received the session at
	// our address; and the server's clock is known from OnConnect on.
	_ = c.sendControl(control{kind: ctlPing, stamp: uint64(time.Since(c.ep.epoch))})
	return rx, true
}

// Tokens makes a server admit only clients with a connect token (package
// token) and seal all their traffic; see ServerConfig.Tokens.
type Tokens struct {
	// Key is the key the backend issues tokens with (token.Issue).
	// Required.
	Key token.Key
	// Server is this server's name as the backend lists it in tokens
	// (token.Claims.Servers): the address clients dial, or any name the
	// two agree on; a token that does not list it, spelt the same, is
	// refused. Required, and fixed before Listen: with Addr's port 0,
	// Server is not the port Listen picks unless you name it so.
	Server string
	// GuardSize bounds the live tokens the server remembers, to refuse a
	// token used from a second address (token.Guard). Default 16 ×
	// MaxConns: room for the token of every open connection and of the
	// clients that left within a token's life.
	GuardSize int
}

// checkToken admits a hello's ticket, or says why not ("" and the grant
// when it is admitted).
func (s *Server) checkToken(c *Conn, h control) (string, *token.Grant) {
	switch {
	case s.cfg.Tokens == nil && h.ticket != nil:
		return "this server does not take connect tokens", nil
	case s.cfg.Tokens == nil:
		return "", nil
	case h.ticket == nil:
		return "a connect token is required (net.WithToken)", nil
	}
	now := time.Now()
	g, err := token.Open(s.cfg.Tokens.Key, h.ticket, s.cfg.Tokens.Server, now)
	if err == nil {
		// By host: a reconnection comes from another port. A copied
		// ticket is no use from the same host either: without the
		// token's keys its connection never opens (admit).
		err = s.guard.Admit(g, hostOf(c.addr), now)
	}
	if err != nil {
		return err.Error(), nil
	}
	return "", g
}

// startSession keys a connection whose ticket was admitted and sends the
// session message, the last in clear. c.mu is not held.
func (s *Server) startSession(c *Conn, g *token.Grant, rc []byte) error {
	rs := newRandom()
	kc2s, ks2c := sessionKeys(g.ClientToServer, g.ServerToClient, rc, rs)
	s.e.startFlusher()
	c.mu.Lock()
	defer c.mu.Unlock()
	_, lossy := c.link.(transport.Lossy)
	tx, rx := newSession(ks2c, kc2s, s.e.tcfg.Channels, s.e.tcfg.MaxPayload, lossy)
	c.rx.Store(rx) // before the session leaves: the client answers at once
	err := c.sendControl(control{kind: ctlSession, random: rs})
	c.tx = tx
	return err
}
