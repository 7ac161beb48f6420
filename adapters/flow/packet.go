package flow

import (
	"errors"
	"fmt"
	"iter"

	"github.com/gonetic/gonetic/message"
)

// Packet is one item of a flow as it arrived: a packet the opener sent, a
// message the handler sent back, the flow's header, or the handler's
// success value (Final).
//
// Whatever was sent as a []byte arrives as raw bytes; any other value
// arrives encoded with the codec, to be decoded with Decode (into the same
// type, or into a map[string]any: the generic packet map) or Value.
//
// A Packet from a range over packets or results is valid until the loop
// body returns: its bytes are the receive buffer's, reused for the next
// one. Copy them (or Decode) to keep them. A header and a final value stay
// valid. Decode and Value use the flow's decoder: call them on the
// goroutine that ranges.
type Packet struct {
	data  []byte
	value bool
	final bool
	r     message.Reader
}

// Bytes returns the packet's bytes: what was sent for a []byte packet, the
// codec's encoding otherwise.
func (p Packet) Bytes() []byte { return p.data }

// Len is the length of Bytes.
func (p Packet) Len() int { return len(p.data) }

// IsValue reports whether the packet was a value encoded with the codec
// (not raw bytes).
func (p Packet) IsValue() bool { return p.value }

// Final reports whether this is the handler's success value, the last item
// of a successful flow's result.
func (p Packet) Final() bool { return p.final }

// ErrRawPacket is returned by Packet.Decode when the packet was sent as raw
// bytes and v is not a *[]byte.
var ErrRawPacket = errors.New("flow: packet was sent as raw bytes: read it with Bytes, or Decode into a *[]byte")

// Decode decodes the packet into v, a pointer, with the codec's general
// decoding: into the type that was sent, or into a *map[string]any for a
// struct or map (the generic packet map), or a *any. A raw packet decodes
// only into a *[]byte (a copy); an empty raw packet (a nil header or
// value) decodes into anything as a no-op.
func (p Packet) Decode(v any) error {
	if !p.value {
		if b, ok := v.(*[]byte); ok {
			*b = append([]byte(nil), p.data...)
			return nil
		}
		if len(p.data) == 0 {
			return nil
		}
		return ErrRawPacket
	}
	if p.r == nil {
		return errors.New("flow: zero Packet")
	}
	p.r.Reset(p.data)
	err := p.r.Value(v)
	if err == nil && p.r.Len() != 0 {
		err = fmt.Errorf("%d bytes after the value", p.r.Len())
	}
	p.r.Reset(nil)
	if err != nil {
		return fmt.Errorf("flow: decode packet into %T: %w", v, err)
	}
	return nil
}

// Value decodes the packet as a generic value: nil, bool, int64, uint64,
// float64, string, []byte, []any or map[string]any. A raw packet gives a
// copy of its bytes.
func (p Packet) Value() (any, error) {
	if !p.value {
		return append([]byte(nil), p.data...), nil
	}
	if p.r == nil {
		return nil, errors.New("flow: zero Packet")
	}
	p.r.Reset(p.data)
	v, err := p.r.Any()
	if err == nil && p.r.Len() != 0 {
		err = fmt.Errorf("%d bytes after the value", p.r.Len())
	}
	p.r.Reset(nil)
	if err != nil {
		return nil, fmt.Errorf("flow: decode packet: %w", err)
	}
	return v, nil
}

// String describes the packet (not its bytes), for logs.
func (p Packet) String() string {
	kind := "raw"
	if p.value {
		kind = "value"
	}
	if p.final {
		kind += ", final"
	}
	return fmt.Sprintf("flow.Packet(%s, %d bytes)", kind, len(p.data))
}

// Decode turns an iterator of packets (a handler's Flow.Packets, or a
// result of Call) into one of values of type T, each decoded with
// Packet.Decode. A packet that does not decode ends the iteration with its
// error, as does the error that ends packets.
func Decode[T any](packets iter.Seq2[Packet, error]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for p, err := range packets {
			var v T
			if err == nil {
				err = p.Decode(&v)
			}
			if err != nil {
				yield(v, err)
				return
			}
			if !yield(v, nil) {
				return
			}
		}
	}
}

// Wait ranges over a result of Call to its end and returns the final
// value, or the error the flow ended with. Messages from the handler are
// skipped: see Request.OnMessage to see them.
func Wait(results iter.Seq2[Packet, error]) (Packet, error) {
	for p, err := range results {
		if err != nil {
			return Packet{}, err
		}
		if p.final {
			return p, nil
		}
	}
	return Packet{}, errors.New("flow: result ended without a final value")
}
