// Package token issues and opens connect tokens: the proof, made by a
// game's web backend, that a player may connect to its game servers.
// Modelled on netcode.io's connect tokens. It imports only the standard
// library and golang.org/x/crypto, so a backend imports it without the rest
// of gonetic.
//
// The flow:
//
//  1. The backend logs the player in, then calls [Issue] with a [Key] it
//     shares with the game servers (and nobody else) and sends the token
//     to the client over HTTPS.
//  2. The client reads it with [Parse]: the servers to try, the expiry, and
//     two fresh random connection keys (client to server, server to
//     client). It sends [Public.Ticket] to a server: the token without the
//     keys, which never leave the client in clear.
//  3. The game server calls [Open] on the ticket, with its own address and
//     the time, then [Guard.Admit] with the sender's address. It learns the
//     client id, the user data and the same two keys.
//
// The ticket's private part (client id, connection keys, user data) is
// sealed with XChaCha20-Poly1305 under the shared key; the seal also covers
// every public byte of the ticket (as additional data), so a change to any
// byte of a ticket is refused. [ErrForged] cannot tell an altered token from
// one sealed under another key: both fail the same check.
//
// # Layout
//
// Integers are little-endian, times are milliseconds since the Unix epoch
// (UTC). A token is a ticket followed by the client's copy of the keys:
//
//	ticket:
//	offset  size  field
//	0       4     magic "GNTK" (47 4e 54 4b)
//	4       1     version, 1
//	5       1     n, number of server addresses, 1 to 32
//	6       2     s, size of the sealed part: 88 + user data size (88 to 344)
//	8       8     created, uint64
//	16      8     expires, uint64, greater than created
//	24      24    token id, also the XChaCha20-Poly1305 nonce, random
//	48      ...   n times: length L (1 byte, 1 to 255), then L bytes of address
//	A       s     sealed part (A is where the addresses end)
//	token:
//	0       T     the ticket (T = A + s, at most 1024)
//	T       32    client-to-server key
//	T+32    32    server-to-client key
//
// The sealed part is XChaCha20-Poly1305 (the IETF construction, libsodium's
// crypto_aead_xchacha20poly1305_ietf) of the plaintext below, under the
// shared key, with the token id as nonce and ticket bytes 0 to A as
// additional data; its last 16 bytes are the tag:
//
//	offset  size  field
//	0       8     client id, uint64
//	8       32    client-to-server key
//	40      32    server-to-client key
//	72      s-88  user data, 0 to 256 bytes
//
// No byte is padding: every byte of a ticket is read and authenticated.
//
// # Sizes
//
// A ticket is at most [MaxTicketSize] (1024) bytes and a token
// [MaxTokenSize] (1088). netcode.io pads its tokens to 2048 bytes; gonetic
// sends the ticket in the client's first datagram, which must fit in 1200
// bytes (a UDP payload that crosses the internet unfragmented) with room
// for the hello around it, and sends no padding, so that a server never has
// to read more than a real ticket needs.
//
// # Time
//
// [Issue] and [Open] take the time as an argument (pass time.Now()): tests
// choose it, and the backend's and server's clocks are compared only
// through the expiry, so keep them synchronised (NTP) and tokens short-lived
// (tens of seconds). Expiry is exclusive: a ticket opens at any time before
// Expires, not at Expires.
//
// # Refusals
//
// [Open] checks the cheap things first (size, layout, version, expiry,
// server address), allocating little, then the seal, so a flood of forged
// tickets costs one AEAD open each at most. A ticket that opened may still
// be a copy captured on the wire: [Guard] remembers which address first
// used each live token and refuses it from any other.
package token
