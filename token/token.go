package token

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// Limits of the layout; see the package doc for why.
const (
	// Version is the layout version this code writes and reads.
	Version = 1
	// MaxTicketSize bounds the ticket, the part a client sends to a server.
	MaxTicketSize = 1024
	// MaxTokenSize bounds the token, the ticket followed by the client's
	// copy of the two connection keys.
	MaxTokenSize = MaxTicketSize + 2*KeySize
	// MaxServers bounds the number of server addresses in a token.
	MaxServers = 32
	// MaxAddrLen bounds the length in bytes of one server address.
	MaxAddrLen = 255
	// MaxUserData bounds the user data in a token.
	MaxUserData = 256
)

const (
	magic       = "GNTK"
	headerSize  = 48 // magic, version, servers, sealed length, created, expires, id
	plainFixed  = 8 + 2*KeySize
	sealedFixed = plainFixed + chacha20poly1305.Overhead
)

// ID identifies one token: it is also the XChaCha20 nonce of its seal, 24
// random bytes, so two tokens never share one.
type ID [24]byte

// String returns the ID in hexadecimal, for logs.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// Claims is what the backend vouches for when it issues a token.
type Claims struct {
	// ClientID identifies the player, as the backend knows them. Only the
	// server learns it: it is sealed.
	ClientID uint64
	// UserData is up to MaxUserData bytes for the game server (a name, a
	// team, a session id); sealed, so the client can neither read nor
	// change it. Nil and empty are the same.
	UserData []byte
	// Servers lists the addresses, 1 to MaxServers, of the game servers the
	// client may connect to, in the order it should try them. [Open]
	// compares them byte for byte with the address the server is given, so
	// spell them as the servers do ("203.0.113.7:4000", "wss://eu1.example.com/play").
	// The client reads them, and they are authenticated, not secret.
	Servers []string
	// Expires is when the token stops opening, to the millisecond
	// (truncated). It must be after the time of issue. Keep it short (tens
	// of seconds): it is how long a stolen token is worth anything.
	Expires time.Time
}

// Issue seals a new token for c under key, dated now, with fresh random
// connection keys; the backend sends it to the client over HTTPS. It fails
// only on claims out of the documented bounds. Safe for concurrent use.
func Issue(key Key, c Claims, now time.Time) ([]byte, error) {
	return issueWith(rand.Reader, key, c, now)
}

// issueWith is Issue drawing its random bytes from r, so that the fuzz
// target can issue the same seed tickets in every fuzzing process.
func issueWith(r io.Reader, key Key, c Claims, now time.Time) ([]byte, error) {
	if len(c.Servers) < 1 || len(c.Servers) > MaxServers {
		return nil, fmt.Errorf("token: a token lists 1 to %d server addresses, got %d", MaxServers, len(c.Servers))
	}
	adSize := headerSize
	for _, s := range c.Servers {
		if len(s) < 1 || len(s) > MaxAddrLen {
			return nil, fmt.Errorf("token: a server address is 1 to %d bytes, got %q (%d bytes)", MaxAddrLen, s, len(s))
		}
		adSize += 1 + len(s)
	}
	if len(c.UserData) > MaxUserData {
		return nil, fmt.Errorf("token: user data is at most %d bytes, got %d; store the rest on the backend and put a reference in the token", MaxUserData, len(c.UserData))
	}
	created, expires := now.UnixMilli(), c.Expires.UnixMilli()
	if created < 0 {
		return nil, fmt.Errorf("token: the time of issue %v is before 1970; pass time.Now()", now)
	}
	if expires <= created {
		return nil, fmt.Errorf("token: Expires %v is not after the time of issue %v; set Claims.Expires to now plus the token's life", c.Expires, now)
	}
	sealedSize := sealedFixed + len(c.UserData)
	ticketSize := adSize + sealedSize
	if ticketSize > MaxTicketSize {
		return nil, fmt.Errorf("token: the ticket would take %d bytes, over the %d allowed; list fewer or shorter server addresses, or send less user data", ticketSize, MaxTicketSize)
	}

	t := make([]byte, ticketSize+2*KeySize)
	copy(t, magic)
	t[4] = Version
	t[5] = byte(len(c.Servers))
	binary.LittleEndian.PutUint16(t[6:], uint16(sealedSize))
	binary.LittleEndian.PutUint64(t[8:], uint64(created))
	binary.LittleEndian.PutUint64(t[16:], uint64(expires))
	id := t[24:headerSize]
	if _, err := io.ReadFull(r, id); err != nil {
		return nil, err // unreachable with crypto/rand, which never fails
	}
	p := headerSize
	for _, s := range c.Servers {
		t[p] = byte(len(s))
		p += 1 + copy(t[p+1:], s)
	}

	// The client's copy of the keys goes after the ticket, in clear.
	keys := t[ticketSize:]
	if _, err := io.ReadFull(r, keys); err != nil {
		return nil, err
	}

	plain := t[adSize : adSize+sealedSize-chacha20poly1305.Overhead]
	binary.LittleEndian.PutUint64(plain, c.ClientID)
	copy(plain[8:], keys)
	copy(plain[plainFixed:], c.UserData)
	aead, err := chacha20poly1305.NewX(key[:])
	if err != nil {
		return nil, err // unreachable: the key has the right size
	}
	aead.Seal(plain[:0], id, plain, t[:adSize])
	return t, nil
}

// layout is what the public fields of a ticket say, checked for
// consistency but not yet authenticated.
type layout struct {
	adSize     int // header and server addresses: the AEAD's additional data
	ticketSize int
	created    int64
	expires    int64
}

// readLayout checks the structure of a ticket at the start of b and
// returns where its parts lie; it allocates nothing, so refusing garbage is
// cheap.
func readLayout(b []byte) (layout, error) {
	var l layout
	if len(b) < headerSize {
		return l, fmt.Errorf("%w: %d bytes, under the %d-byte header", ErrMalformed, len(b), headerSize)
	}
	if string(b[:4]) != magic {
		return l, fmt.Errorf("%w: does not start with %q", ErrMalformed, magic)
	}
	if b[4] != Version {
		return l, fmt.Errorf("%w: version %d, this code reads version %d; run the same gonetic version on the backend and the servers", ErrVersion, b[4], Version)
	}
	n := int(b[5])
	if n < 1 || n > MaxServers {
		return l, fmt.Errorf("%w: %d server addresses, not 1 to %d", ErrMalformed, n, MaxServers)
	}
	sealed := int(binary.LittleEndian.Uint16(b[6:]))
	if sealed < sealedFixed || sealed > sealedFixed+MaxUserData {
		return l, fmt.Errorf("%w: sealed part of %d bytes, not %d to %d", ErrMalformed, sealed, sealedFixed, sealedFixed+MaxUserData)
	}
	l.created = int64(binary.LittleEndian.Uint64(b[8:]))
	l.expires = int64(binary.LittleEndian.Uint64(b[16:]))
	if l.created < 0 || l.expires <= l.created {
		return l, fmt.Errorf("%w: expiry not after creation", ErrMalformed)
	}
	p := headerSize
	for i := range n {
		if p >= len(b) {
			return l, fmt.Errorf("%w: truncated in server address %d", ErrMalformed, i)
		}
		size := int(b[p])
		if size == 0 || p+1+size > len(b) {
			return l, fmt.Errorf("%w: server address %d empty or truncated", ErrMalformed, i)
		}
		p += 1 + size
	}
	l.adSize = p
	l.ticketSize = p + sealed
	if l.ticketSize > MaxTicketSize {
		return l, fmt.Errorf("%w: ticket of %d bytes, over the %d allowed", ErrMalformed, l.ticketSize, MaxTicketSize)
	}
	return l, nil
}

// hasServer reports whether the ticket's address list holds server; it
// compares in place rather than build strings for a token not yet opened.
func hasServer(b []byte, l layout, server string) bool {
	for p := headerSize; p < l.adSize; {
		size := int(b[p])
		if string(b[p+1:p+1+size]) == server {
			return true
		}
		p += 1 + size
	}
	return false
}

func servers(b []byte, l layout) []string {
	out := make([]string, 0, b[5])
	for p := headerSize; p < l.adSize; {
		size := int(b[p])
		out = append(out, string(b[p+1:p+1+size]))
		p += 1 + size
	}
	return out
}

// Public is what a client reads from its token.
type Public struct {
	// ID identifies the token; the server sees the same.
	ID ID
	// Created and Expires are the backend's times of issue and expiry.
	Created, Expires time.Time
	// Servers are the addresses the client may connect to, in order.
	Servers []string
	// ClientToServer seals what the client sends, ServerToClient what it
	// receives; the server finds the same keys in the sealed part.
	ClientToServer, ServerToClient Key
	// Ticket is what the client sends to a server to connect: the token
	// without the client's copy of the keys, which must never leave the
	// client.
	Ticket []byte
}

// Parse reads the public part of a token issued by [Issue]; the client calls
// it. It checks the structure, not the seal (the client does not hold the
// backend's key) nor the expiry (compare Expires with the clock). Safe for
// concurrent use; Public shares no memory with token.
func Parse(token []byte) (*Public, error) {
	if len(token) > MaxTokenSize {
		return nil, fmt.Errorf("%w: %d bytes, over the %d allowed", ErrMalformed, len(token), MaxTokenSize)
	}
	l, err := readLayout(token)
	if err != nil {
		return nil, err
	}
	if len(token) != l.ticketSize+2*KeySize {
		return nil, fmt.Errorf("%w: %d bytes where the token's fields say %d; pass the whole token the backend issued", ErrMalformed, len(token), l.ticketSize+2*KeySize)
	}
	p := &Public{
		Created: time.UnixMilli(l.created),
		Expires: time.UnixMilli(l.expires),
		Servers: servers(token, l),
		Ticket:  bytes.Clone(token[:l.ticketSize]),
	}
	copy(p.ID[:], token[24:headerSize])
	copy(p.ClientToServer[:], token[l.ticketSize:])
	copy(p.ServerToClient[:], token[l.ticketSize+KeySize:])
	return p, nil
}

// Grant is what a server learns from a ticket that opened.
type Grant struct {
	// Claims are the backend's, as issued (Expires truncated to the
	// millisecond).
	Claims
	// ID identifies the token; [Guard] keys on it.
	ID ID
	// Created is the backend's time of issue.
	Created time.Time
	// ClientToServer opens what the client sends, ServerToClient seals
	// what the server sends back.
	ClientToServer, ServerToClient Key
}

// Open authenticates a ticket (a client's [Public.Ticket]) under key, for
// the game server whose address is server, at time now; a server calls it
// on every connect request, then [Guard.Admit] with the result. It refuses
// with ErrMalformed, ErrVersion, ErrExpired (now at or after Expires),
// ErrWrongServer or ErrForged; see their docs. Safe for concurrent use;
// the Grant shares no memory with ticket.
func Open(key Key, ticket []byte, server string, now time.Time) (*Grant, error) {
	if len(ticket) > MaxTicketSize {
		return nil, fmt.Errorf("%w: %d bytes, over the %d allowed", ErrMalformed, len(ticket), MaxTicketSize)
	}
	l, err := readLayout(ticket)
	if err != nil {
		return nil, err
	}
	switch {
	case len(ticket) == l.ticketSize+2*KeySize:
		return nil, fmt.Errorf("%w: this is a whole token, with the client's keys in clear; the client must send only Public.Ticket", ErrMalformed)
	case len(ticket) != l.ticketSize:
		return nil, fmt.Errorf("%w: %d bytes where the ticket's fields say %d", ErrMalformed, len(ticket), l.ticketSize)
	}
	if ms := now.UnixMilli(); ms >= l.expires {
		return nil, fmt.Errorf("%w %v ago; the client must ask the backend for a new token", ErrExpired, time.Duration(ms-l.expires)*time.Millisecond)
	}
	if !hasServer(ticket, l, server) {
		return nil, fmt.Errorf("%w: it does not list %q", ErrWrongServer, server)
	}
	aead, err := chacha20poly1305.NewX(key[:])
	if err != nil {
		return nil, err // unreachable: the key has the right size
	}
	plain, err := aead.Open(nil, ticket[24:headerSize], ticket[l.adSize:l.ticketSize], ticket[:l.adSize])
	if err != nil {
		return nil, ErrForged
	}
	g := &Grant{
		Claims: Claims{
			ClientID: binary.LittleEndian.Uint64(plain),
			Servers:  servers(ticket, l),
			Expires:  time.UnixMilli(l.expires),
		},
		Created: time.UnixMilli(l.created),
	}
	if len(plain) > plainFixed {
		g.UserData = plain[plainFixed:]
	}
	copy(g.ID[:], ticket[24:headerSize])
	copy(g.ClientToServer[:], plain[8:])
	copy(g.ServerToClient[:], plain[8+KeySize:])
	return g, nil
}
