package request_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gonetic/gonetic/adapters/request"
)

func Example() {
	srv, err := request.NewServer("127.0.0.1:0", request.StringHandler(
		func(ctx context.Context, req string) (string, error) {
			if req == "" {
				return "", errors.New("empty request")
			}
			return strings.ToUpper(req), nil
		}), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	srv.Start()
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	reply, err := request.DoString(ctx, srv.Addr(), "hello")
	fmt.Printf("%q %v\n", reply, err)

	_, err = request.DoString(ctx, srv.Addr(), "")
	var remote *request.RemoteError
	fmt.Println(errors.As(err, &remote), remote.Message)
	// Output:
	// "HELLO" <nil>
	// true empty request
}

// A line-mode server answers nc and telnet users, and DoLineRequest talks
// to it (or to any line-based text server).
func ExampleDoLineRequest() {
	srv, err := request.NewServer("127.0.0.1:0", request.StringHandler(
		func(ctx context.Context, line string) (string, error) {
			return "you said " + line + "\r\n", nil
		}), &request.Options{Lines: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	srv.Start()
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	reply, err := request.DoLineRequest(ctx, srv.Addr(), "hi there")
	fmt.Printf("%q %v\n", reply, err)

	_, err = request.DoLineRequest(ctx, srv.Addr(), "two\nlines")
	fmt.Println(err)
	// Output:
	// "you said hi there\r\n" <nil>
	// request: line mode: the request holds a CR or LF (only one final CRLF is allowed); use binary mode for multi-line requests
}

// Serving on the caller's goroutine, as a game loop would between frames.
func ExampleServer_ServeOne() {
	srv, err := request.NewServer("127.0.0.1:0", func(ctx context.Context, req []byte) ([]byte, error) {
		return append(req, '!'), nil
	}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan string)
	go func() {
		reply, err := request.DoRequest(ctx, srv.Addr(), []byte("ping"))
		done <- fmt.Sprintf("%s %v", reply, err)
	}()
	if err := srv.ServeOne(ctx); err != nil {
		fmt.Println(err)
	}
	fmt.Println(<-done)
	// Output:
	// ping! <nil>
}

// A deadline that passes is an error, never an empty reply.
func ExampleErrTimeout() {
	srv, err := request.NewServer("127.0.0.1:0", func(ctx context.Context, req []byte) ([]byte, error) {
		<-ctx.Done() // never answers; the client's giving up cancels ctx
		return nil, ctx.Err()
	}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	srv.Start()
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = request.DoRequest(ctx, srv.Addr(), []byte("anyone?"))
	fmt.Println(errors.Is(err, request.ErrTimeout), errors.Is(err, context.DeadlineExceeded))
	// Output:
	// true true
}
