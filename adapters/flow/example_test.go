package flow_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gonetic/gonetic/adapters/flow"
	"github.com/gonetic/gonetic/message"
	gnet "github.com/gonetic/gonetic/net"
)

// A dedicated flow listener: the client streams numbers, the handler sums
// them, reports progress mid-flow and returns the total.
func Example() {
	srv, err := flow.Listen(flow.ServerConfig{Addr: "127.0.0.1:0"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	srv.HandleFunc("sum", func(f *flow.Flow, r *flow.Reply) (any, error) {
		var label string
		if err := f.Header().Decode(&label); err != nil {
			return nil, err
		}
		total := 0
		for n, err := range flow.Decode[int](f.Packets()) {
			if err != nil {
				return nil, err
			}
			total += n
			if n == 3 {
				r.Send(fmt.Sprintf("halfway, %d so far", total))
			}
		}
		return fmt.Sprintf("%s: %d", label, total), nil
	})

	ctx := context.Background()
	cl, err := flow.Dial(ctx, srv.Addr(), flow.ClientConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cl.Close()

	numbers := slices.Values([]int{1, 2, 3, 4, 5})
	for p, err := range flow.Call(ctx, cl, flow.Request{Name: "sum", Header: "numbers"}, numbers) {
		if err != nil {
			fmt.Println("failed:", err)
			break
		}
		var s string
		p.Decode(&s)
		if p.Final() {
			fmt.Println("done:", s)
		} else {
			fmt.Println("message:", s)
		}
	}
	// Output:
	// message: halfway, 6 so far
	// done: numbers: 15
}

// regionLoader is a handler struct: one is built for each flow, with the
// flow and the channel back to the caller.
type regionLoader struct {
	f *flow.Flow
	r *flow.Reply
}

func (h *regionLoader) HandleFlow() (any, error) {
	n := 0
	for _, err := range h.f.Packets() {
		if err != nil {
			return nil, err
		}
		if n++; n == 2 {
			return nil, errors.New("region is read-only")
		}
	}
	return n, nil
}

// A handler's error ends the flow at both ends: the caller gets its text.
func ExampleServer_Handle() {
	srv, _ := flow.Listen(flow.ServerConfig{})
	defer srv.Close()
	srv.Handle("region", func(f *flow.Flow, r *flow.Reply) flow.Handler { return &regionLoader{f, r} })

	ctx := context.Background()
	cl, _ := flow.Dial(ctx, srv.Addr(), flow.ClientConfig{})
	defer cl.Close()

	packets := func(yield func([]byte) bool) { // raw bytes: the fast path
		for yield([]byte("entity")) {
		}
	}
	_, err := flow.Wait(flow.Call(ctx, cl, flow.Request{Name: "region"}, packets))
	var fe *flow.Error
	if errors.As(err, &fe) && errors.Is(err, flow.ErrHandler) {
		fmt.Println("handler said:", fe.Message)
	}
	// Output:
	// handler said: region is read-only
}

// Chat is a game message of the examples.
type Chat struct{ Player, Msg string }

// Flows over a game connection: register the flow types on both ends,
// Attach a Station to the Server and to the Client, and call through the
// connection, while Update runs on the game's goroutines.
func ExampleAttach() {
	newFactory := func() *message.Factory {
		f := gnet.NewFactory()
		message.MustRegister[Chat](f, message.Name("chat_msg")) // the game's types
		if err := flow.Register(f); err != nil {                // then the flow frames
			panic(err)
		}
		return f
	}
	fs, fc := newFactory(), newFactory()

	srv, err := gnet.Listen(gnet.ServerConfig{Config: gnet.Config{Factory: fs}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	sst, _ := flow.Attach(srv, fs, flow.Config{})
	defer sst.Close()
	sst.HandleFunc("snapshot", func(f *flow.Flow, r *flow.Reply) (any, error) {
		size := 0
		for p, err := range f.Packets() {
			if err != nil {
				return nil, err
			}
			size += p.Len()
		}
		return size, nil
	})

	cl, _ := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: fc}})
	defer cl.Close()
	cst, _ := flow.Attach(cl, fc, flow.Config{})
	defer cst.Close()

	stop := make(chan struct{})
	serverLoop := run(srv, stop)
	ctx := context.Background()
	conn, err := cl.Dial(ctx, srv.Addr(), nil) // runs the client's Update meanwhile
	if err != nil {
		fmt.Println(err)
		return
	}
	clientLoop := run(cl, stop)
	defer func() { close(stop); <-serverLoop; <-clientLoop }()

	snapshot := func(yield func([]byte) bool) {
		for range 100 {
			if !yield(make([]byte, 1000)) {
				return
			}
		}
	}
	final, err := flow.Wait(flow.Call(ctx, cst.Over(conn), flow.Request{Name: "snapshot"}, snapshot))
	if err != nil {
		fmt.Println(err)
		return
	}
	var n int
	final.Decode(&n)
	fmt.Println("the server took", n, "bytes")
	// Output: the server took 100000 bytes
}

// run calls Update on u until stop is closed.
func run(u interface{ Update(time.Duration) error }, stop chan struct{}) chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				if u.Update(10*time.Millisecond) != nil {
					return
				}
			}
		}
	}()
	return done
}
