//go:build js

package main

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"syscall/js"
)

// In the browser the page is the command line: its query gives the flags
// (?nick=ann&stats), and the server is the page's own, its WebSocket
// endpoint /ws (see demo/chat/server's -http).
const defaultTransport = "websocket"

// args turns the page's query into flags, in a stable order: "?nick=ann"
// is -nick=ann, a key alone ("?stats") is -stats.
func args() []string {
	q, err := url.ParseQuery(trimQuery(location().Get("search").String()))
	if err != nil {
		fmt.Println("window: the page's query:", err)
		return nil
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var a []string
	for _, k := range keys {
		for _, v := range q[k] {
			if v == "" {
				a = append(a, "-"+k)
			} else {
				a = append(a, "-"+k+"="+v)
			}
		}
	}
	return a
}

func trimQuery(s string) string {
	if len(s) > 0 && s[0] == '?' {
		return s[1:]
	}
	return s
}

// defaultAddr is the WebSocket endpoint of the server that served the
// page: ws://host/ws, or wss:// for an https page.
func defaultAddr() string {
	loc := location()
	scheme := "ws"
	if loc.Get("protocol").String() == "https:" {
		scheme = "wss"
	}
	return scheme + "://" + loc.Get("host").String() + "/ws"
}

func location() js.Value { return js.Global().Get("location") }

// defaultNick is "guest" and a number: a browser has no $USER, and two
// tabs should not be refused each other's nickname.
func defaultNick() string { return fmt.Sprintf("guest%d", rand.IntN(1000)) }

// exit says that the client ended and leaves the program running without
// a game: a Go program that exits makes the page's later events throw
// ("Go program has already exited"), and the goroutines still closing the
// connection need to run.
func exit(code int) {
	fmt.Printf("window: the chat client ended (status %d); reload the page to join again\n", code)
	select {}
}
