package msgpack_test

import (
	"fmt"

	"github.com/gonetic/gonetic/adapters/msgpack"
)

// The chat message [1, "Tom", "Test message"]: type id 1, then the fields.
func Example() {
	codec := msgpack.New()

	w := codec.NewWriter()
	w.Reset(nil) // or a previous buffer cut to zero length, to reuse it
	w.Array(3)
	w.Uint(1)
	w.String("Tom")
	w.String("Test message")
	w.End()
	msg := w.Buffer()
	fmt.Printf("%d bytes: % x\n", len(msg), msg)

	r := codec.NewReader()
	r.Reset(msg)
	n, _ := r.Array()
	id, _ := r.Uint()
	name, _ := r.String()
	text, _ := r.String()
	err := r.End()
	fmt.Println(n, id, name, text, err)
	// Output:
	// 19 bytes: 93 01 a3 54 6f 6d ac 54 65 73 74 20 6d 65 73 73 61 67 65
	// 3 1 Tom Test message <nil>
}
