package msgpack

import "github.com/gonetic/gonetic/message"

// New returns the MessagePack codec. It holds no state; its Writers and
// Readers each belong to one goroutine.
func New() message.Codec { return codec{} }

type codec struct{}

func (codec) Name() string              { return "msgpack" }
func (codec) NewWriter() message.Writer { return new(writer) }
func (codec) NewReader() message.Reader { return new(reader) }
