package token

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// KeySize is the length in bytes of a [Key].
const KeySize = 32

// Key is a 32-byte XChaCha20-Poly1305 or ChaCha20-Poly1305 key. The token
// key is shared by the web backend (which calls [Issue]) and the game
// servers (which call [Open]); anyone who holds it can mint tokens, so keep
// it out of clients and logs. The per-connection keys in a token are Keys
// too.
type Key [KeySize]byte

// NewKey returns a fresh random key from crypto/rand. Generate the token key
// once, store it with [Key.Format] in the backend's and the servers' config,
// and read it back with [ParseKey].
func NewKey() Key {
	var k Key
	// crypto/rand.Read never fails since Go 1.24: it crashes the program
	// rather than return weak bytes.
	_, _ = rand.Read(k[:])
	return k
}

// ParseKey reads a key written as 64 hexadecimal digits (what [Key.Format]
// writes) or as base64 of 32 bytes (standard or URL alphabet, with or
// without padding). Surrounding spaces are ignored.
func ParseKey(s string) (Key, error) {
	var k Key
	s = strings.TrimSpace(s)
	if len(s) == 2*KeySize {
		if _, err := hex.Decode(k[:], []byte(s)); err == nil {
			return k, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == KeySize {
			copy(k[:], b)
			return k, nil
		}
	}
	// The message never echoes s: it may be a mistyped secret.
	return Key{}, fmt.Errorf("token: a key is 64 hex digits or base64 of 32 bytes, got %d characters; generate one with token.NewKey().Format()", len(s))
}

// Format returns the key as 64 lowercase hexadecimal digits, for config
// files; [ParseKey] reads it back.
func (k Key) Format() string { return hex.EncodeToString(k[:]) }

// String hides the key so that printing a config struct or logging with %v
// does not leak it; use [Key.Format] to write the key on purpose.
func (k Key) String() string { return "token.Key(redacted)" }

// MarshalText writes the key as [Key.Format] does, so that a Key field in a
// JSON or TOML config round-trips.
func (k Key) MarshalText() ([]byte, error) { return []byte(k.Format()), nil }

// UnmarshalText reads the key as [ParseKey] does.
func (k *Key) UnmarshalText(b []byte) error {
	p, err := ParseKey(string(b))
	if err != nil {
		return err
	}
	*k = p
	return nil
}
