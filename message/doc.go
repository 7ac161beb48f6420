// Package message is gonetic's registry of message types.
//
// Both ends of a connection register the same message types in the same
// order; the order is the type id (1, 2, 3, …). A message travels as the
// codec's encoding of the array [id, field1, field2, …]: the chat message
// chat_msg("Tom", "Test message") is 19 bytes of msgpack.
//
// Types are registered in two ways:
//
//   - typed, from a Go struct: [Register] (fields are the exported fields,
//     in order; a `net:"name"` tag renames one, `net:"-"` leaves it out).
//     Values arrive as the struct type. Structs nested in it travel the
//     same way: snapshot(tick, players[]{id,x,y}) is [id, tick, [[id, x,
//     y], …]].
//   - dynamic, by name and field list: [Factory.Define], pygnetic style.
//     Values arrive as a [Value] with fields by name and by index.
//
// A typed and a dynamic registration with the same names and fields are the
// same on the wire, so a Go server and a script can talk.
//
// [Factory.Hash] fingerprints the registry (names, fields with the fields
// of nested structs, order, channels, delivery modes, directions, largest
// sizes and the codec's name); package net compares the two ends' hashes
// in its handshake. [Factory.Freeze] ends registration; net freezes
// a factory when a Server or Client starts using it.
//
// Nothing here panics on input from the network: unknown ids, wrong arity,
// wrong field types, truncated or garbage bytes are errors.
package message
