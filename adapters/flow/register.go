package flow

import (
	"errors"
	"fmt"

	"github.com/gonetic/gonetic/message"
)

// The flow frames, as message types. Register adds them to a factory in
// this order; doc.go gives their wire format.
type (
	openMsg struct {
		Flow   uint64
		Name   string
		Flags  uint64
		Header []byte
	}
	dataMsg struct {
		Flow  uint64
		Flags uint64
		Chunk []byte
	}
	creditMsg struct {
		Flow  uint64
		Bytes uint64
	}
	endMsg struct {
		Flow  uint64
		Flags uint64
		Value []byte
	}
	failMsg struct {
		Flow    uint64
		Code    uint64
		Message string
	}
	ackMsg struct {
		Bytes uint64
	}
)

// Frame names, in registration order.
const (
	nameOpen   = "flow_open"
	nameData   = "flow_data"
	nameCredit = "flow_credit"
	nameEnd    = "flow_end"
	nameFail   = "flow_fail"
	nameAck    = "flow_ack"
)

// Register adds the flow frame types (flow_open, flow_data, flow_credit,
// flow_end, flow_fail, flow_ack, in that order) to f, so that flows can
// travel over connections made with f (see Attach). Both ends must call it
// at the same point of their registrations, so that the registry hash
// covers it. The types go on the channel after the highest one registered
// so far (channel 1 when the game uses channel 0 only): on adapters with
// real channels (ENet) game messages then never queue behind flow chunks.
func Register(f *message.Factory) error {
	ch := f.Channels() // at least 1
	if ch >= message.MaxChannels {
		return fmt.Errorf("flow: no channel left for flow frames (the registry uses %d)", ch)
	}
	return registerOn(f, ch)
}

func registerOn(f *message.Factory, ch int) error {
	opt := message.Channel(ch)
	_, err := message.Register[openMsg](f, message.Name(nameOpen), opt)
	if err == nil {
		_, err = message.Register[dataMsg](f, message.Name(nameData), opt)
	}
	if err == nil {
		_, err = message.Register[creditMsg](f, message.Name(nameCredit), opt)
	}
	if err == nil {
		_, err = message.Register[endMsg](f, message.Name(nameEnd), opt)
	}
	if err == nil {
		_, err = message.Register[failMsg](f, message.Name(nameFail), opt)
	}
	if err == nil {
		_, err = message.Register[ackMsg](f, message.Name(nameAck), opt)
	}
	if err != nil {
		return fmt.Errorf("flow: register: %w", err)
	}
	return nil
}

// errNotRegistered is returned by Attach when Register was not called on
// the factory.
var errNotRegistered = errors.New("flow: the factory has no flow types: call flow.Register(factory) on both ends before creating the Server or Client")

// frameKind is a frame's type.
type frameKind uint8

const (
	kOpen frameKind = iota + 1
	kData
	kCredit
	kEnd
	kFail
	kAck
)

// Flag bits.
const (
	// flagCompressed (flow_data): the chunk is compressed with the flow's
	// compression.
	flagCompressed = 0x01
	// compressionMask (flow_open): the flow's Compression.
	compressionMask = 0x0f
	// flagValue (flow_open, flow_end): the header or value is encoded with
	// the codec; otherwise it is raw bytes.
	flagValue = 0x10
)

// frame is one flow frame, whatever carries it.
type frame struct {
	kind  frameKind
	flow  uint64
	flags uint64
	n     uint64 // credit and ack: bytes; fail: code
	text  string // open: handler name; fail: message
	data  []byte // open: header; data: chunk; end: value
}

// toMsg returns the message a frame travels as on a net/ connection.
func (fr *frame) toMsg() any {
	switch fr.kind {
	case kOpen:
		return &openMsg{Flow: fr.flow, Name: fr.text, Flags: fr.flags, Header: fr.data}
	case kData:
		return &dataMsg{Flow: fr.flow, Flags: fr.flags, Chunk: fr.data}
	case kCredit:
		return &creditMsg{Flow: fr.flow, Bytes: fr.n}
	case kEnd:
		return &endMsg{Flow: fr.flow, Flags: fr.flags, Value: fr.data}
	case kFail:
		return &failMsg{Flow: fr.flow, Code: fr.n, Message: fr.text}
	case kAck:
		return &ackMsg{Bytes: fr.n}
	}
	panic("flow: unknown frame kind")
}
