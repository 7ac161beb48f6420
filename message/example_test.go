package message_test

import (
	"fmt"

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
