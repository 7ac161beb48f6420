//go:build !js

package main

import (
	"os"

	"github.com/gonetic/gonetic/demo/chat/chat"
)

const defaultTransport = "tcp"

// args are the command line's.
func args() []string { return os.Args[1:] }

func defaultAddr() string { return chat.DefaultAddr }

// defaultNick is $USER when that is a valid nickname, else "guest".
func defaultNick() string {
	if u := os.Getenv("USER"); u != "" && chat.CheckNick(u) == "" {
		return u
	}
	return "guest"
}

// exit ends the process with status code.
func exit(code int) { os.Exit(code) }
