package json

import "github.com/gonetic/gonetic/message"

// New returns the JSON codec. It holds no state; its Writers and Readers
// each belong to one goroutine.
func New() message.Codec { return codec{} }

type codec struct{}

func (codec) Name() string              { return "json" }
func (codec) NewWriter() message.Writer { return new(writer) }
func (codec) NewReader() message.Reader { return new(reader) }
