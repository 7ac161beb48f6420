// Package stream is Versile's entity and byte streams, done right, built
// on flows (adapters/flow): a server exposes a sequence of values or a
// file-like object by name; a client reads the sequence with read-ahead, or
// reads, writes and seeks the file, over a dedicated flow listener
// (flow.Listen, flow.Dial) or beside game messages on a net/ connection
// (flow.Register, flow.Attach, Station.Over).
//
// # Entity streams
//
// The serving side registers a Source with ServeEntities; each client that
// opens the stream (OpenEntities) gets the sequence the Source opens for
// it, and reads it with Next or All:
//
//	stream.ServeEntities(srv, "names", stream.SeqSource(slices.Values(names)))
//
//	s, err := stream.OpenEntities[string](ctx, client, "names", stream.EntityConfig{ReadAhead: 16})
//	for name, err := range s.All(ctx) { … }
//
// The source is pulled one value per value asked for, never ahead: with
// ReadAhead 0 each Next asks for one value and waits a round trip; with
// ReadAhead N the source has produced at most k+N values once the reader
// took k, and the client keeps that window full. The end-of-stream Policy
// says what a reader does at the end of a growing source (Log): EndAtEnd
// ends there, Follow waits for more until Log.Finish.
//
// An error yielded by the source ends the client's iteration, after the
// values produced before it, with a *flow.Error that carries its text
// (errors.Is flow.ErrHandler): it travels as the flow's failure, so it
// arrives whatever the read-ahead, as fast as the values do.
//
// # Byte streams
//
// The serving side registers an Opener with ServeFiles: for each client it
// returns an io.ReadWriteSeeker (an *os.File, a Buffer's Cursor) and the
// Mode it allows. The client's File is an io.ReadWriteSeeker and io.Closer,
// with Truncate, Flush and SetDeadline. The mode bits (Readable, Writable,
// SeekForward, SeekBackward, CanGrow, CanShrink) are checked by the client
// first: an operation the mode forbids fails at once, without a round trip,
// with an error that matches ErrMode or ErrSeekRange; the serving side
// checks again. A refused seek leaves the stream usable at its old position.
//
// One direction is active at a time. Reading, the serving side pushes data
// ahead of the reader within FileConfig.ReadAhead bytes (0: each Read asks
// for what it needs). Writing, the client gathers bytes into packets of
// FileConfig.WriteChunk and keeps at most FileConfig.WriteWindow bytes sent
// and not acknowledged. A Read after writes sends them first; a Write
// after reads sends the serving side back to the reader's position. Every
// seek starts a new epoch: pushed data of an older epoch is dropped on
// arrival, so data from before a seek is never returned after it.
//
// # Errors and goroutines
//
// Nothing hangs: a dropped connection or a closed server ends a blocked
// Next or Read with the flow's error (flow.ErrConnLost, flow.ErrClosed…)
// as soon as the flow reports it; Next takes a context, File has
// SetDeadline, OpenEntities and OpenFile take a context for the opening.
// Close ends a stream at once (File.Close flushes first) and waits for its
// goroutines: one per open stream ranges the flow's result, plus the flow's
// own. The serving side runs each stream on its flow's handler goroutine.
//
// # Why flows
//
// A stream is one flow: its header says what to open, its packets carry the
// client's requests, the handler's messages carry the answers, and the
// flow's end carries the verdict. Flows already give what a stream needs
// underneath, on both carriers: ordering, credit-window backpressure per
// stream (a slow reader slows its own stream only), an error that reaches
// both ends, detection of a lost connection, and Close that waits for every
// goroutine. The stream protocol adds only counted demand (entities) and
// epochs (bytes) on top. Building on net/ directly would mean pumping
// Update from the stream's blocking calls and redoing all of that.
//
// # Wire format
//
// A stream is a flow (adapters/flow's wire format) opened with the stream's
// name as the handler name and a raw (not codec-encoded) header:
//
//	version byte = 1, kind byte ('e' = 0x65 entities, 'f' = 0x66 bytes),
//	uvarint a, uvarint b, path bytes (the rest, UTF-8, may be empty)
//
// where for entities a is the Policy (0 EndAtEnd, 1 Follow) and b the
// read-ahead, and for bytes a is the requested Mode (0: all allowed) and b
// is 0. A uvarint is encoding/binary's; a varint is its zig-zag signed form.
// Every packet and message below is raw bytes unless it says otherwise.
//
// Entity streams. The serving side opens the source, then sends the message
// 'h' (0x68, one byte), or fails the flow. The client sends demand packets,
// each a single uvarint n: "produce n more values" (the first, n = the
// read-ahead, may precede the 'h'). For each unit of demand the serving
// side pulls one value and sends it as a message encoded with the flow's
// codec (a []byte value travels raw). When the source ends, the handler
// ends the flow with success (flow_end, no value): the client's end of
// stream. A source error fails the flow (flow_fail, code 1, its text). The
// client leaves by aborting the flow (flow_fail, code 2) or ending its
// packets.
//
// Byte streams. Every packet and message is
//
//	kind byte, uvarint epoch, uvarint arg, payload (the rest)
//
// The serving side first sends hello (kind 1, epoch 0, arg = the mode, the
// payload uvarint size then uvarint position), or fails the flow (refused
// mode, the opener's error). Epochs start at 0. Client packets:
//
//	1 read      arg n: push n more bytes from the position (ignored if the
//	            epoch is not the current one)
//	2 write     arg 0, payload: the bytes to write at the position
//	3 seek      epoch: the new epoch (current + 1); arg: whence (0 start,
//	            1 current, 2 end); payload: varint offset, then uvarint
//	            fallback, the client's position
//	4 truncate  epoch: the new epoch; arg: the size; payload: uvarint
//	            position to go to afterwards (the client's)
//
// Serving-side messages:
//
//	2 data       epoch, arg 0, payload: bytes read (at most 32 KiB)
//	3 eof        epoch: the push reached the end; its remaining credit is
//	             dropped
//	4 ack        arg: the length of one write packet, done (or dropped)
//	5 seeked     epoch, arg: the new position; payload: uvarint size
//	6 truncated  epoch, arg: the new size
//	7 failed     epoch, arg: the operation's kind (1-4); payload: the
//	             error's text. The stream goes on.
//
// The serving side handles packets in order. A seek or truncate sets the
// current epoch and drops the read credit; on failure it moves back to the
// fallback position. After each packet it pushes data while it has credit
// (a read error sends failed, EOF sends eof, both drop the credit). A
// failed write makes it drop (and ack) the epoch's later writes. The client
// drops data and eof of an epoch other than its current one. Failure texts
// of refusals start with ErrMode's or ErrSeekRange's text, so that the
// client's RemoteError matches them. The client ends the stream by ending
// its packets (flow_end); the handler then ends the flow with success.
package stream
