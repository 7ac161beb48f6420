package json_test

import (
	"fmt"

	"github.com/gonetic/gonetic/adapters/json"
)

// The chat message [1, "Tom", "Test message"]: type id 1, then the fields.
func Example() {
	codec := json.New()

	w := codec.NewWriter()
	w.Reset(nil) // or a previous buffer cut to zero length, to reuse it
	w.Array(3)
	w.Uint(1)
	w.String("Tom")
	w.String("Test message")
	w.End()
	msg := w.Buffer()
	fmt.Printf("%s\n", msg)

	r := codec.NewReader()
	r.Reset(msg)
	n, _ := r.Array()
	id, _ := r.Uint()
	name, _ := r.String()
	text, _ := r.String()
	err := r.End()
	fmt.Println(n, id, name, text, err)
	// Output:
	// [1,"Tom","Test message"]
	// 3 1 Tom Test message <nil>
}
