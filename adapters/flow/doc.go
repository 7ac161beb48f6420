// Package flow is the station: game servers stream bulk data to each other
// (a region's entities at a shard border, a replay, a snapshot) as flows.
//
// A flow is a header followed by a Go iterator of packets, sent to a named
// handler on another server. The handler reads the header, ranges over the
// packets, may send messages back at any time, and ends the flow with a
// success value or an error; either reaches both ends.
//
//	// Server side: a function, or a struct built per flow (Handle).
//	srv.HandleFunc("region", func(f *flow.Flow, r *flow.Reply) (any, error) {
//		var h RegionHeader
//		if err := f.Header().Decode(&h); err != nil {
//			return nil, err
//		}
//		n := 0
//		for e, err := range flow.Decode[Entity](f.Packets()) {
//			if err != nil {
//				return nil, err // the client stopped, or its connection dropped
//			}
//			world.Apply(e)
//			if n++; n%10000 == 0 {
//				r.Send(Progress{n}) // reaches the client mid-flow
//			}
//		}
//		return Applied{n}, nil
//	})
//
//	// Client side: lazy; nothing is sent until the result is ranged over.
//	results := flow.Call(ctx, client, flow.Request{Name: "region", Header: h}, entities)
//	for p, err := range results {
//		if err != nil { ... }      // the handler's error, a lost connection, ctx
//		if p.Final() { ... }       // the success value: the last item
//		else { ... }               // a message from the handler, in order
//	}
//
// # Carriers
//
// A flow travels over one of two carriers:
//
//   - a dedicated listener (Listen, Dial): a flow server on its own
//     address, serving only flows. By default it runs over TCP sockets of
//     its own, and chunks go from socket to handler without a copy: it is
//     the fast carrier for bulk data. With ServerConfig.Transport and
//     ClientConfig.Transport it runs over any network adapter that
//     delivers reliably and in order (adapters/tcp, adapters/websocket,
//     adapters/mem): the same protocol, handshake, credits, compression
//     and errors, one flow frame per payload on channel 0, at the cost of
//     the adapter's copies of each chunk. Lossy adapters (transport.Lossy:
//     ENet) are refused; use a Station there.
//   - a net/ connection, beside game messages, over any network adapter
//     (Register, Attach, Station.Over). Flow frames are message types of
//     their own, on their own channel; a flow sends its packets in small
//     chunks (16 KiB), all flows of a connection keep little data in
//     flight (Config.InFlight, 64 KiB), so a game message never queues
//     behind more than that, and they leave CPU to the game
//     (Config.Rate, 100 MB/s). Flows over a Station move only while the
//     game calls Update.
//
// # Goroutines and memory
//
// Every handler runs on a goroutine of its own, one per flow, never on the
// game's Update goroutine: it may block, and must synchronise with game
// state as any goroutine would. Its flow is fed by a queue the connection
// fills (on Update for a Station, on the connection's reader for the
// listener), which never blocks: it is bounded by the flow's credit.
//
// On the calling side, the packet iterator runs on a goroutine of its own
// while the caller ranges over the result. Each flow has a credit window
// (Config.Window) per direction: a sender waits when the receiving code
// has not consumed a window's worth, so a slow handler slows its own flow
// and no other, and the sender holds at most about a window plus two
// chunks, however fast its iterator produces. Concurrent flows are
// limited per endpoint (Config.MaxFlows): the next is refused with
// ErrTooManyFlows.
//
// Close (Server, Client, Station) ends every flow and waits for every
// goroutine this package started; handlers must return once their Flow's
// context is done, and a packet iterator must return when its yield
// returns false (or watch its context when it blocks).
//
// # Errors
//
// A flow never hangs: it ends with success or with an *Error at both
// ends, after what was sent before the failure: the handler's messages
// sent before its error reach the caller first, and the packets yielded
// before a caller's failure (a panic of its iterator, a packet too large)
// reach the handler first. The handler's error reaches the caller with
// its text (ErrHandler);
// the caller's cancelled context, a panic of its iterator, or breaking out
// of the result end the handler's packet range with ErrAborted, as does a
// dropped connection (ErrConnLost, found at once by the listener, within
// DefaultWatchInterval by a Station); a server that dies mid-flow ends the
// caller's result with ErrConnLost. A packet larger than Config.MaxPacket
// is an error at the sender, before any of it is sent.
//
// # Compression
//
// The caller chooses a compression per flow (Request.Compression); it
// applies to each chunk, both ways. S2 for fast links, Zstd for slow
// ones; see Compression for why these two.
//
// # Wire format
//
// Flow frames are six message types, in this order, with these fields:
//
//	flow_open   [flow uint, name str, flags uint, header bin]
//	flow_data   [flow uint, flags uint, chunk bin]
//	flow_credit [flow uint, bytes uint]
//	flow_end    [flow uint, flags uint, value bin]
//	flow_fail   [flow uint, code uint, message str]
//	flow_ack    [bytes uint]
//
// Over a Station they are ordinary messages of the connection
// (docs/PROTOCOL.md): Register adds them to the game's registry after the
// game's own types, so their type ids are the registry's next six, all on
// one channel (the one after the highest the game used, usually 1), all
// reliable; a message is the codec's encoding of [type id, fields…].
//
// The dedicated listener speaks TCP. Every frame is a 4-byte big-endian
// length, then that many bytes (at most 1 048 576) of MessagePack: the
// array [type id, fields…] with the ids 1 to 6 above, plus
//
//	flow_hello  [version uint, codec str]   id 7
//	flow_refuse [reason str]                id 8
//
// The client first sends flow_hello with version 1 and the name of its
// packet codec ("msgpack" by default); the server answers flow_hello with
// its own, or flow_refuse with a reason and closes. Either side closes
// when the versions or codecs differ. Integers use MessagePack's shortest
// form; bytes are bin 8/16/32.
//
// Both carriers then carry the same frames the same way:
//
// Flow ids. The side that dialed the connection opens flows with odd ids
// (1, 3, 5, …), the side that accepted it with even ids (2, 4, …), each
// above the last it opened. A receiver refuses an id of the wrong parity or
// not above the last (flow_fail, code 6). Frames for a flow id that is not
// open at the receiver are ignored: they cross a flow's end.
//
// Flags. flow_open: bits 0–3 are the compression (0 none, 1 S2, 2 Zstd),
// bit 4 (0x10) set means the header is the codec's encoding of a value,
// clear means raw bytes. flow_end: bit 4 likewise for the value. flow_data:
// bit 0 (0x01) set means the chunk is compressed. Other bits are 0.
//
// Chunks. A chunk is a run of records, each
//
//	uvarint(len<<2 | more<<1 | value)  then len bytes
//
// (uvarint as in encoding/binary: 7 bits a byte, low first). value set:
// the bytes are the codec's encoding of one value; clear: raw bytes. more
// set: the packet continues in the flow's next record (a packet larger
// than a chunk is split into consecutive records of one kind, possibly
// across chunks). A compressed chunk is one S2 block (Snappy's block format,
// extended; not the framed stream) or one Zstandard frame, and
// decompresses to at most 1 047 552 bytes (MaxChunkSize); a sender
// compresses a chunk only if that makes it smaller. A chunk, a header and a
// value are at most MaxChunkSize bytes as sent.
//
// Credit. Each direction of each flow starts with 65 536 bytes of credit
// (InitialWindow), counted in chunk bytes as sent (the length of the chunk
// field, after compression). A side may send flow_data while its credit is
// above zero (one chunk may take it below); flow_credit adds bytes to the
// credit of the side that receives it. A receiver that gets flow_data
// when all the credit it gave is already used refuses it (code 6). Each
// side grants more as its code consumes what arrived: in practice the
// handling side sends flow_credit(window − 65 536) right after accepting a
// flow, and the opener the same for replies right after flow_open, then
// each grants again whenever a quarter window has been read.
//
// Pacing (Station only). A side that receives flow_data sends flow_ack
// with the byte count (chunk fields, all flows) every time 16 384 bytes or
// more arrived since its last flow_ack. A sender keeps at most
// Config.InFlight bytes sent and not acknowledged. The listener sends no
// flow_ack. (Config.Rate, on either carrier, is the sender's own affair:
// nothing on the wire.)
//
// A flow's life. The opener sends flow_open (its header), then flow_data
// (packets), then flow_end with flags 0 and no value when its packets are
// done. The handling side refuses with flow_fail alone, or accepts: it
// sends flow_credit, flow_data (messages back to the opener) whenever it
// likes, and ends with flow_end (flags, the success value) or flow_fail.
// The opener aborts with flow_fail (code 2) at any time; the handling side
// may end before the opener's flow_end, and the opener then stops sending.
// A flow is over at a side once it has sent or received flow_fail, or
// (opener) received flow_end, or (handler) sent flow_end. The flow_data
// that came before a flow_fail is still read, then the failure: a side
// that fails after sending data (the opener's iterator panics after
// yielding packets) sends its data, then flow_fail.
//
// Codes of flow_fail: 1 the handler failed (the message is its error's
// text), 2 the opener aborted, 3 too many flows, 4 no handler of that
// name, 5 a packet, header or value too large, 6 protocol error, 7 the
// sender is closing. A receiver treats any other code as 6.
package flow
