package flow

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync"

	"github.com/gonetic/gonetic/adapters/msgpack"
	"github.com/gonetic/gonetic/message"
	"github.com/gonetic/gonetic/net/transport"
)

// ProtocolVersion is the version of the dedicated listener's protocol,
// exchanged in flow_hello.
const ProtocolVersion = 1

// The handshake of the dedicated listener.
type (
	helloMsg struct {
		Version uint64
		Codec   string
	}
	refuseMsg struct {
		Reason string
	}
)

// linkRegistry is the registry of the dedicated listener: the six flow
// frames (ids 1 to 6, channel 0), then flow_hello (7) and flow_refuse (8),
// always in msgpack.
func linkRegistry() *message.Factory {
	f := message.NewFactory(msgpack.New())
	if err := registerOn(f, 0); err != nil {
		panic(err) // a fresh factory always takes them
	}
	message.MustRegister[helloMsg](f, message.Name("flow_hello"))
	message.MustRegister[refuseMsg](f, message.Name("flow_refuse"))
	f.Freeze()
	return f
}

// linkDataID is flow_data's id in linkRegistry.
const linkDataID = 2

// linkConfig is the transport config of the dedicated listener: one
// channel, frames up to a full chunk plus its header.
var linkConfig = transport.Config{Channels: 1, MaxPayload: MaxChunkSize + 1024}

// linkWire sends frames on a transport link, msgpack-encoded with
// linkRegistry's ids.
type linkWire struct {
	l   transport.Link
	mu  sync.Mutex // guards enc and buf
	enc *message.Encoder
	buf []byte
}

func (w *linkWire) send(fr *frame) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.sendMsg(fr.toMsg())
}

// sendMsg sends any message of linkRegistry; w.mu is held.
func (w *linkWire) sendMsg(msg any) error {
	b, _, err := w.enc.Encode(w.buf[:0], msg)
	w.buf = b
	if err != nil {
		return err
	}
	return w.l.Send(0, transport.Reliable, b)
}

// sendData writes the frame's header in front of the chunk, in the
// headroom, and sends frame and chunk as one payload: the chunk is copied
// once, into the link's queue.
func (w *linkWire) sendData(id, flags uint64, buf []byte) error {
	var h [headroom]byte
	hdr := appendDataHeader(h[:0], id, flags, len(buf)-headroom)
	start := headroom - len(hdr)
	copy(buf[start:], hdr)
	return w.l.Send(0, transport.Reliable, buf[start:])
}

// appendDataHeader appends what precedes n chunk bytes in a flow_data
// frame: the same bytes the msgpack Encoder writes for
// [linkDataID, flow, flags, bin(n)].
func appendDataHeader(dst []byte, id, flags uint64, n int) []byte {
	dst = append(dst, 0x94)
	dst = appendUint(dst, linkDataID)
	dst = appendUint(dst, id)
	dst = appendUint(dst, flags)
	switch {
	case n <= math.MaxUint8:
		return append(dst, 0xc4, byte(n))
	case n <= math.MaxUint16:
		return append(dst, 0xc5, byte(n>>8), byte(n))
	default:
		return binary.BigEndian.AppendUint32(append(dst, 0xc6), uint32(n))
	}
}

// appendUint is msgpack's shortest unsigned integer.
func appendUint(dst []byte, v uint64) []byte {
	switch {
	case v <= 0x7f:
		return append(dst, byte(v))
	case v <= math.MaxUint8:
		return append(dst, 0xcc, byte(v))
	case v <= math.MaxUint16:
		return append(dst, 0xcd, byte(v>>8), byte(v))
	case v <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(dst, 0xce), uint32(v))
	default:
		return binary.BigEndian.AppendUint64(append(dst, 0xcf), v)
	}
}

// decodeLinkFrame decodes one payload of a dedicated link.
func decodeLinkFrame(d *message.Decoder, p []byte) (*frame, any, error) {
	msg, _, err := d.Decode(p)
	if err != nil {
		return nil, nil, err
	}
	switch m := msg.(type) {
	case openMsg:
		return &frame{kind: kOpen, flow: m.Flow, text: m.Name, flags: m.Flags, data: m.Header}, nil, nil
	case dataMsg:
		return &frame{kind: kData, flow: m.Flow, flags: m.Flags, data: m.Chunk}, nil, nil
	case creditMsg:
		return &frame{kind: kCredit, flow: m.Flow, n: m.Bytes}, nil, nil
	case endMsg:
		return &frame{kind: kEnd, flow: m.Flow, flags: m.Flags, data: m.Value}, nil, nil
	case failMsg:
		return &frame{kind: kFail, flow: m.Flow, n: m.Code, text: m.Message}, nil, nil
	case ackMsg:
		return &frame{kind: kAck, n: m.Bytes}, nil, nil
	case helloMsg, refuseMsg:
		return nil, m, nil
	}
	return nil, nil, fmt.Errorf("unexpected %T", msg)
}

// linkSink is the transport.Sink of one dedicated link, at either end. It
// runs the handshake, then hands frames to the session.
type linkSink struct {
	ep       *endpoint
	dec      *message.Decoder // the adapter's goroutine only
	isServer bool
	srv      *Server       // server side
	hs       chan error    // client side: the handshake's outcome
	closed   chan struct{} // closed after Closed
	timer    interface{ Stop() bool }

	mu sync.Mutex // guards l, w and s
	l  transport.Link
	w  *linkWire
	s  *session // set when the handshake is done
}

func (k *linkSink) session() *session {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.s
}

func (k *linkSink) link() (transport.Link, *linkWire) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.l, k.w
}

func (k *linkSink) Receive(_ uint8, p []byte) {
	fr, hs, err := decodeLinkFrame(k.dec, p)
	s := k.session()
	if err == nil && s != nil && fr != nil {
		s.receive(fr)
		return
	}
	l, w := k.link()
	if err != nil || s != nil || hs == nil {
		k.ep.cfg.Logger.Info("flow: bad or misplaced frame from peer; closing the link", "remote", l.RemoteAddr(), "handshake", s == nil, "err", err)
		l.Abort()
		return
	}
	if k.isServer {
		k.srv.hello(k, hs)
		return
	}
	switch m := hs.(type) {
	case helloMsg:
		if m.Version != ProtocolVersion || m.Codec != k.ep.cfg.Codec.Name() {
			k.handshakeDone(fmt.Errorf("flow: the server speaks version %d with codec %q, this client version %d with %q", m.Version, m.Codec, ProtocolVersion, k.ep.cfg.Codec.Name()))
			l.Close()
			return
		}
		k.mu.Lock()
		k.s = newSession(k.ep, w, true, l.RemoteAddr())
		k.mu.Unlock()
		k.handshakeDone(nil)
	case refuseMsg:
		k.handshakeDone(fmt.Errorf("flow: the server refused the connection: %s", m.Reason))
		l.Close()
	}
}

func (k *linkSink) handshakeDone(err error) {
	select {
	case k.hs <- err:
	default:
	}
}

func (k *linkSink) Closed(err error) {
	if k.timer != nil {
		k.timer.Stop()
	}
	if s := k.session(); s != nil {
		s.lost(err)
	} else if !k.isServer {
		if err == nil {
			err = fmt.Errorf("flow: the connection closed during the handshake")
		}
		k.handshakeDone(fmt.Errorf("flow: handshake: %w", err))
	}
	if k.srv != nil {
		k.srv.dropLink(k)
	}
	close(k.closed)
}
