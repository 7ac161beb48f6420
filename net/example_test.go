package net_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/gonetic/gonetic/adapters/websocket"

	"github.com/gonetic/gonetic/message"
	gnet "github.com/gonetic/gonetic/net"
)

// ChatMsg is chat_msg(player, msg).
type ChatMsg struct {
	Player string
	Msg    string
}

// ChatServer is the handler of one accepted connection.
type ChatServer struct {
	gnet.Handler
}

// NetChatMsg relays a chat message to everyone else.
func (h *ChatServer) NetChatMsg(m ChatMsg) {
	_ = h.Server().Broadcast(&m, h.Conn())
}

// ChatClient is a client's handler.
type ChatClient struct {
	gnet.Handler
	name string
}

// NetChatMsg prints what others say.
func (h *ChatClient) NetChatMsg(m ChatMsg) {
	fmt.Printf("%s sees %s: %s\n", h.name, m.Player, m.Msg)
}

// OnDisconnect tells why the connection ended.
func (h *ChatClient) OnDisconnect(reason error) {
	fmt.Printf("%s: %v\n", h.name, reason)
}

func chatFactory() *message.Factory {
	f := gnet.NewFactory()
	message.MustRegister[ChatMsg](f) // id 1, "chat_msg"
	return f
}

// The classic chat: a server relays chat_msg between clients that poll
// from their game loop.
func ExampleServer() {
	srv, err := gnet.Listen(gnet.ServerConfig{
		Config:     gnet.Config{Factory: chatFactory()},
		Addr:       "127.0.0.1:0",
		NewHandler: func() any { return &ChatServer{} },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	cli, _ := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: chatFactory()}})
	defer cli.Close()
	tom, ann := &ChatClient{name: "tom"}, &ChatClient{name: "ann"}
	connTom, _ := cli.Connect(srv.Addr(), tom)
	connAnn, _ := cli.Connect(srv.Addr(), ann)

	// The game loop: both ends call Update every frame.
	sent := false
	for frame := 0; frame < 10000; frame++ {
		_ = srv.Update(0)
		_ = cli.Update(time.Millisecond)
		if !sent && connTom.Connected() && connAnn.Connected() && srv.NumConns() == 2 {
			_ = connTom.Send(&ChatMsg{Player: "Tom", Msg: "Test message"})
			sent = true
		}
		if sent && connAnn.Stats().MessagesReceived == 1 {
			break
		}
	}
	// Output: ann sees Tom: Test message
}

// A client connects and the server reads typed events instead of using
// handlers. Both ends are polled from one loop, as a game would.
func ExampleClient() {
	srv, _ := gnet.Listen(gnet.ServerConfig{Config: gnet.Config{Factory: chatFactory(), EventQueue: 64}})
	defer srv.Close()
	cli, _ := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: chatFactory()}})
	defer cli.Close()

	conn, err := cli.Connect(srv.Addr(), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	deadline := time.Now().Add(10 * time.Second)
	sent := false
	for time.Now().Before(deadline) {
		_ = cli.Update(0)
		_ = srv.Update(time.Millisecond)
		if !sent && conn.Connected() {
			_ = conn.Send(&ChatMsg{Player: "Tom", Msg: "hello"})
			sent = true
		}
		for ev, ok := srv.Poll(); ok; ev, ok = srv.Poll() {
			switch ev := ev.(type) {
			case gnet.Accepted:
				fmt.Println("accepted a connection")
			case gnet.Received:
				fmt.Printf("%s: %+v\n", ev.Type.Name(), ev.Msg)
				return
			}
		}
	}
	// Output:
	// accepted a connection
	// chat_msg: {Player:Tom Msg:hello}
}

// Dial blocks until the handshake is done; the server must be running
// its own loop meanwhile, here on a goroutine of its own.
func ExampleClient_Dial() {
	srv, _ := gnet.Listen(gnet.ServerConfig{Config: gnet.Config{Factory: chatFactory()}})
	stop := make(chan struct{})
	served := make(chan struct{})
	go func() {
		defer close(served)
		for {
			select {
			case <-stop:
				return
			default:
				_ = srv.Update(10 * time.Millisecond)
			}
		}
	}()
	cli, _ := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: chatFactory()}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := cli.Dial(ctx, srv.Addr(), nil)
	fmt.Println(conn.State(), err)
	_ = cli.Close()
	close(stop)
	<-served
	_ = srv.Close()
	// Output: open <nil>
}

// SendTo encodes a message once and sends it to any set of connections:
// here the players of one team, kept by the game, as an area of interest
// would be.
func ExampleServer_SendTo() {
	srv, _ := gnet.Listen(gnet.ServerConfig{Config: gnet.Config{Factory: chatFactory()}})
	defer srv.Close()
	cli, _ := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: chatFactory()}})
	defer cli.Close()
	for i, p := range []*ChatClient{{name: "tom"}, {name: "ann"}, {name: "bob"}} {
		_, _ = cli.Connect(srv.Addr(), p) // one after the other: tom opens first
		for srv.NumConns() <= i || cli.NumConns() <= i {
			_ = srv.Update(0)
			_ = cli.Update(time.Millisecond)
		}
	}

	// The game's own set: every server-side connection but the first.
	red := func(yield func(*gnet.Conn) bool) {
		first := true
		for c := range srv.Connections(nil) {
			if !first && !yield(c) {
				return
			}
			first = false
		}
	}
	_ = srv.SendTo(&ChatMsg{Player: "referee", Msg: "red team, go"}, red)

	received := 0
	for received < 2 {
		_ = cli.Update(time.Millisecond)
		received = 0
		for c := range cli.Connections(nil) {
			received += int(c.Stats().MessagesReceived)
		}
	}
	// Unordered output:
	// ann sees referee: red team, go
	// bob sees referee: red team, go
}

// One server for native and browser players: TCP on its own port, and
// WebSocket mounted on /play of the game's HTTP server, beside its pages.
// Both connections share the handlers, MaxConns and Broadcast.
func ExampleServer_AddListener() {
	srv, err := gnet.Listen(gnet.ServerConfig{
		Config:     gnet.Config{Factory: chatFactory()}, // TCP, the default
		NewHandler: func() any { return &ChatServer{} },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	ws := websocket.New(websocket.Options{})
	if _, err := srv.AddListener(ws, ""); err != nil { // "": served by the mux below
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("/play", ws)
	web := httptest.NewServer(mux) // the game's http.Server
	defer web.Close()

	native, _ := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: chatFactory()}})
	defer native.Close()
	browser, _ := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: chatFactory(), Transport: websocket.New(websocket.Options{})}})
	defer browser.Close()
	tom, ann := &ChatClient{name: "tom"}, &ChatClient{name: "ann"}
	connTom, _ := native.Connect(srv.Addr(), tom)
	connAnn, _ := browser.Connect("ws"+strings.TrimPrefix(web.URL, "http")+"/play", ann)

	sent := false
	for frame := 0; frame < 10000 && connAnn.Stats().MessagesReceived == 0; frame++ {
		_ = srv.Update(0)
		_ = native.Update(0)
		_ = browser.Update(time.Millisecond)
		if !sent && connTom.Connected() && connAnn.Connected() && srv.NumConns() == 2 {
			_ = connTom.Send(&ChatMsg{Player: "Tom", Msg: "hello from TCP"})
			sent = true
		}
	}
	// Output: ann sees Tom: hello from TCP
}

// Lobby is the handler of a connection that Approve let in.
type Lobby struct {
	gnet.Handler
	heard chan struct{}
}

// NetChatMsg names the sender by the identity Approve gave it, whatever
// name the message claims.
func (h *Lobby) NetChatMsg(m ChatMsg) {
	fmt.Printf("%v says %s\n", h.Conn().Identity(), m.Msg)
	close(h.heard)
}

// Approval at connect: the client sends a login with its hello, the
// server's Approve checks it off the game loop and names the player, and
// the handler reads the name from the connection. A wrong password is
// refused with a reason the client gets from Dial.
func ExampleServerConfig_approve() {
	passwords := map[string]string{"ann": "s3cret"} // the game's accounts
	heard := make(chan struct{})
	srv, err := gnet.Listen(gnet.ServerConfig{
		Config: gnet.Config{Factory: chatFactory()},
		Approve: func(ctx context.Context, h gnet.Hello) (any, error) {
			name, password, _ := strings.Cut(string(h.Data), ":")
			if want, ok := passwords[name]; !ok || password != want {
				return nil, errors.New("unknown player or wrong password")
			}
			return name, nil // the connection's Identity
		},
		NewHandler: func() any { return &Lobby{heard: heard} },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	go func() { // the server's game loop
		for srv.Update(10*time.Millisecond) == nil {
		}
	}()

	cli, _ := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: chatFactory()}})
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = cli.Dial(ctx, srv.Addr(), nil, gnet.WithHello([]byte("ann:guess")))
	fmt.Println("refused:", errors.Is(err, gnet.ErrRefused), err)
	conn, err := cli.Dial(ctx, srv.Addr(), nil, gnet.WithHello([]byte("ann:s3cret")))
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = conn.Send(&ChatMsg{Player: "admin", Msg: "hi"})
	for waiting := true; waiting; {
		select {
		case <-heard:
			waiting = false
		default:
			_ = cli.Update(10 * time.Millisecond) // the client's game loop
		}
	}
	// Output:
	// refused: true gonetic: disconnected by peer: unknown player or wrong password
	// ann says hi
}
