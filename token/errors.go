package token

import "errors"

// Refusals. [Open], [Parse] and [Guard.Admit] wrap them with the detail of
// the case, so match with errors.Is. Only ErrForged is proved by the seal:
// the others are read from the token's public fields before it is opened
// (so a flood of forgeries is refused cheaply), and a forger can choose
// which of them he gets; a token that passes every check is authentic.
var (
	// ErrMalformed: the bytes are not a token of this package (wrong
	// length, bad magic, fields out of range, trailing bytes).
	ErrMalformed = errors.New("token: malformed connect token")
	// ErrVersion: the token declares a layout version this code does not
	// read; update the server or the backend so that both speak the same.
	ErrVersion = errors.New("token: unknown connect token version")
	// ErrExpired: the token's expiry has passed; the client must ask the
	// backend for a new one.
	ErrExpired = errors.New("token: connect token expired")
	// ErrWrongServer: the token does not list this server's address; the
	// client connected to a server it was not sent to, or the backend and
	// the server spell the address differently.
	ErrWrongServer = errors.New("token: connect token is for another server")
	// ErrForged: the sealed part does not open with the key: the token was
	// altered, or sealed under another key (check that the backend and the
	// game servers were given the same key).
	ErrForged = errors.New("token: connect token altered or sealed with another key")
	// ErrInUse: the token is already in use from another address; each
	// client needs its own token.
	ErrInUse = errors.New("token: connect token already in use from another address; each client needs its own token")
	// ErrGuardFull: the [Guard] holds as many live tokens as it may; the
	// server refuses new tokens until some expire. Give the Guard a larger
	// size or issue tokens with a shorter life.
	ErrGuardFull = errors.New("token: too many connect tokens in use")
)
