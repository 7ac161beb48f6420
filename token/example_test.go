package token_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/gonetic/gonetic/token"
)

// The web backend issues a token, the client reads it and sends its ticket,
// the game server opens the ticket and admits it once per address.
func Example() {
	// Generated once with token.NewKey().Format(), kept in the backend's
	// and the game servers' config, read with token.ParseKey.
	key, err := token.ParseKey("4f1c2a7be9d05386a1b4c7d2e5f80913a6b9ccdf0213f4e5a6b7c8d9e0f1a2b3")
	if err != nil {
		panic(err)
	}
	now := time.Now()

	// Backend, after the player logged in over HTTPS.
	tok, err := token.Issue(key, token.Claims{
		ClientID: 42,
		UserData: []byte("ada"),
		Servers:  []string{"203.0.113.7:4000"},
		Expires:  now.Add(30 * time.Second),
	}, now)
	if err != nil {
		panic(err)
	}

	// Client: read the servers and the connection keys, send the ticket.
	pub, err := token.Parse(tok)
	if err != nil {
		panic(err)
	}
	fmt.Println("client connects to", pub.Servers[0])

	// Game server, on the connect request from 192.0.2.1:51000.
	guard := token.NewGuard(0)
	g, err := token.Open(key, pub.Ticket, "203.0.113.7:4000", now)
	if err == nil {
		err = guard.Admit(g, "192.0.2.1:51000", now)
	}
	if err != nil {
		fmt.Println("refused:", err)
		return
	}
	fmt.Printf("player %d (%s) admitted, same keys: %v\n", g.ClientID, g.UserData,
		g.ClientToServer == pub.ClientToServer && g.ServerToClient == pub.ServerToClient)

	// Someone who captured the ticket on the wire tries it from elsewhere.
	err = guard.Admit(g, "198.51.100.9:40000", now)
	fmt.Println("replay refused:", errors.Is(err, token.ErrInUse))

	// Output:
	// client connects to 203.0.113.7:4000
	// player 42 (ada) admitted, same keys: true
	// replay refused: true
}
