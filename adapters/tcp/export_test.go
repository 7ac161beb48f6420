package tcp

import "github.com/gonetic/gonetic/net/transport"

// ReceivingBytes is what ln's links hold of frames in progress beyond their
// usual read buffers (Options.MaxReceiving's count).
func ReceivingBytes(ln transport.Listener) int { return ln.(*listener).receive.inUse() }

// QueuedBytes is what ln's links hold queued or being written
// (Options.MaxQueuedTotal's count).
func QueuedBytes(ln transport.Listener) int { return ln.(*listener).queued.inUse() }

// ReadBufferSize is a link's usual read buffer.
const ReadBufferSize = readBufferSize
