package net_test

import (
	"context"
	"fmt"
	"time"

	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/token"
)

// A game's three parts: the web backend issues a connect token to a
// logged-in player, the client connects with it, and the game server
// admits it with the key it shares with the backend. The connection is
// sealed, and the server's Identity is the token's grant.
func ExampleWithToken() {
	key := token.NewKey() // shared by the backend and the game servers, from their config

	// The game server: only clients with a token the backend issued for
	// "eu-1" get in.
	accepted := make(chan *gnet.Conn, 1)
	srv, err := gnet.Listen(gnet.ServerConfig{
		Config: gnet.Config{Factory: chatFactory(), EventQueue: 8},
		Tokens: &gnet.Tokens{Key: key, Server: "eu-1"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	go func() { // the server's game loop
		for srv.Update(10*time.Millisecond) == nil {
			for ev, ok := srv.Poll(); ok; ev, ok = srv.Poll() {
				if a, isAccepted := ev.(gnet.Accepted); isAccepted {
					accepted <- a.Conn
				}
			}
		}
	}()

	// The backend, once the player logged in: a token for player 42,
	// good for 30 seconds, sent to the client over HTTPS.
	now := time.Now()
	tok, err := token.Issue(key, token.Claims{ClientID: 42, Servers: []string{"eu-1"}, Expires: now.Add(30 * time.Second)}, now)
	if err != nil {
		fmt.Println(err)
		return
	}

	// The client.
	cli, _ := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: chatFactory()}})
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := cli.Dial(ctx, srv.Addr(), nil, gnet.WithToken(tok))
	if err != nil {
		fmt.Println(err)
		return
	}
	sc := <-accepted
	grant := sc.Identity().(*token.Grant)
	fmt.Println("client sealed:", conn.Sealed())
	fmt.Println("server sealed:", sc.Sealed(), "player:", grant.ClientID)
	// Output:
	// client sealed: true
	// server sealed: true player: 42
}
