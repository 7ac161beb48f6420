package message_test

import (
	"fmt"
	"strings"

	"github.com/gonetic/gonetic/adapters/msgpack"
	"github.com/gonetic/gonetic/message"
)

// Register types in the same order on both ends; pack and unpack them.
func ExampleFactory() {
	type Chat struct {
		Player string
		Msg    string
	}
	f := message.NewFactory(msgpack.New())
	chat := message.MustRegister[Chat](f, message.Name("chat_msg"))
	ping, _ := f.Define("ping", []string{"time"}, message.Deliver(message.Unsequenced))

	b, _ := f.Pack(Chat{Player: "Tom", Msg: "Test message"})
	fmt.Printf("%s #%d: % x (%d bytes)\n", chat.Name(), chat.ID(), b, len(b))

	msg, _ := f.Unpack(b)
	fmt.Printf("%+v\n", msg)

	b, _ = f.PackArgs("ping", 12345)
	v, _ := f.Unpack(b)
	fmt.Println(ping.Name(), v.(message.Value).Get("time"))
	// Output:
	// chat_msg #1: 93 01 a3 54 6f 6d ac 54 65 73 74 20 6d 65 73 73 61 67 65 (19 bytes)
	// {Player:Tom Msg:Test message}
	// ping 12345
}

// Structs nested in a message travel as arrays of their fields, and their
// fields are part of the type line both ends compare.
func ExampleRegister_nested() {
	type Player struct {
		ID   uint16
		X, Y float32
	}
	type Snapshot struct {
		Tick    uint32
		Players []Player
	}
	type Input struct {
		Keys uint8
	}
	f := message.NewFactory(msgpack.New())
	message.MustRegister[Snapshot](f, message.SentBy(message.ServerToClient))
	message.MustRegister[Input](f, message.SentBy(message.ClientToServer), message.MaxSize(16))
	fmt.Println(strings.Join(f.Lines(), "\n"))

	b, _ := f.Pack(&Snapshot{Tick: 7, Players: []Player{{ID: 1, X: 1.5, Y: -2}}})
	fmt.Printf("% x (%d bytes)\n", b, len(b))
	// Output:
	// 1 snapshot(tick,players[]{id,x,y}) 0 reliable from=server
	// 2 input(keys) 0 reliable from=client max=16
	// 93 01 07 91 93 01 ca 3f c0 00 00 ca c0 00 00 00 (16 bytes)
}
