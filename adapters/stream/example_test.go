package stream_test

import (
	"context"
	"fmt"
	"io"
	"iter"
	"maps"
	"slices"
	"sync"

	"github.com/gonetic/gonetic/adapters/flow"
	"github.com/gonetic/gonetic/adapters/stream"
)

// Versile's sorted-names recipe: names added in the order 5, 3, 4, 1, 2
// come back sorted, as an entity stream read two ahead.
func ExampleServeEntities() {
	srv, err := flow.Listen(flow.ServerConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	var mu sync.Mutex // guards names
	names := map[string]bool{}
	for _, n := range []string{"name5", "name3", "name4", "name1", "name2"} {
		names[n] = true
	}
	// Each reader gets the names sorted, as they are when it opens.
	sorted := func(ctx context.Context, o stream.Open) (iter.Seq2[string, error], error) {
		mu.Lock()
		snapshot := slices.Sorted(maps.Keys(names))
		mu.Unlock()
		return func(yield func(string, error) bool) {
			for _, n := range snapshot {
				if !yield(n, nil) {
					return
				}
			}
		}, nil
	}
	if err := stream.ServeEntities(srv, "names", sorted); err != nil {
		fmt.Println(err)
		return
	}

	ctx := context.Background()
	cl, err := flow.Dial(ctx, srv.Addr(), flow.ClientConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cl.Close()
	s, err := stream.OpenEntities[string](ctx, cl, "names", stream.EntityConfig{ReadAhead: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	for name, err := range s.All(ctx) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(name)
	}
	// Output:
	// name1
	// name2
	// name3
	// name4
	// name5
}

// Versile's file recipe: write a message to a remote file, seek back to
// the start, read it back.
func ExampleOpenFile() {
	srv, err := flow.Listen(flow.ServerConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	err = stream.ServeFiles(srv, "file", func(ctx context.Context, o stream.Open) (io.ReadWriteSeeker, stream.Mode, error) {
		return &stream.Buffer{}, stream.ReadWrite, nil // or an *os.File
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	ctx := context.Background()
	cl, err := flow.Dial(ctx, srv.Addr(), flow.ClientConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cl.Close()
	f, err := stream.OpenFile(ctx, cl, "file", stream.FileConfig{ReadAhead: 64 << 10})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()

	io.WriteString(f, "This is an important message")
	f.Seek(0, io.SeekStart)
	b, err := io.ReadAll(f)
	fmt.Printf("%s %v\n", b, err)

	// The mode and range are checked before any round trip.
	_, err = f.Seek(-1, io.SeekStart)
	fmt.Println(err)
	// Output:
	// This is an important message <nil>
	// stream: position out of range: seek to -1, before the start
}
