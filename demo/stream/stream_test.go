package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gonetic/gonetic/adapters/enet"
	"github.com/gonetic/gonetic/internal/natstest"
	"github.com/gonetic/gonetic/net/nettest"
	natsgo "github.com/nats-io/nats.go"
)

// TestMain lets -self run this test binary as B: the child gets childEnv.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "b" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// run runs B and A in this process and returns A's output and B's. Only
// B plays under o.sim, as with -self.
func run(t *testing.T, o options) (aSaid, bSaid string) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() { nettest.CheckGoroutines(t, before) })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	o.addr, o.flowAddr, o.once, o.progress = "127.0.0.1:0", "127.0.0.1:0", true, false
	pr, pw := io.Pipe()
	bDone := make(chan error, 1)
	go func() {
		err := runB(ctx, o, pw)
		pw.CloseWithError(err)
		bDone <- err
	}()
	lines := bufio.NewScanner(pr)
	var game, fl string
	var bOut strings.Builder
	for lines.Scan() {
		if _, err := fmt.Sscanf(lines.Text(), "READY game=%s flow=%s", &game, &fl); err == nil {
			break
		}
		bOut.WriteString(lines.Text() + "\n")
	}
	if game == "" {
		t.Fatalf("B did not start: %v", <-bDone)
	}
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for lines.Scan() {
			bOut.WriteString(lines.Text() + "\n")
		}
	}()
	var aOut strings.Builder
	a := o
	a.sim = ""
	if err := runA(ctx, a, game, fl, &aOut); err != nil {
		t.Fatalf("A: %v\n%s", err, aOut.String())
	}
	if err := <-bDone; err != nil {
		t.Fatalf("B: %v", err)
	}
	<-drained
	if !strings.Contains(bOut.String(), "entities (") {
		t.Fatalf("B said:\n%s", bOut.String())
	}
	return aOut.String(), bOut.String()
}

func defaults() options {
	return options{transport: "tcp", carrier: "station", entities: 20_000, size: 100, compress: "none", ping: 5 * time.Millisecond}
}

func TestStream(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*options)
	}{
		{"station", func(o *options) {}},
		{"listener", func(o *options) { o.carrier = "listener" }},
		{"typed", func(o *options) { o.typed = true }},
		{"s2", func(o *options) { o.compress = "s2"; o.carrier = "listener" }},
		{"zstd", func(o *options) { o.compress = "zstd" }},
		{"large packets", func(o *options) { o.size, o.entities = 64<<10, 200 }},
		{"nats", func(o *options) { o.carrier, o.cluster = "nats", testCluster() }},
		{"nats large packets", func(o *options) { o.carrier, o.cluster, o.size, o.entities = "nats", testCluster(), 64<<10, 200 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := defaults()
			c.edit(&o)
			out, bSaid := run(t, o)
			if !strings.Contains(out, "checksum matches") || !strings.Contains(out, "game ping") {
				t.Fatalf("A said:\n%s", out)
			}
			// B says what arrived, and how.
			kind := map[bool]string{true: "typed values", false: "raw records"}[o.typed]
			over := map[string]string{"station": "the station", "listener": "the listener", "nats": "NATS"}[o.carrier]
			if want := fmt.Sprintf("entities (%s) applied in ", kind); !strings.Contains(bSaid, want) || !strings.Contains(bSaid, "ms over "+over+" ") {
				t.Fatalf("B said:\n%s\nwant %q over %s", bSaid, want, over)
			}
			// The payload is what the game streamed, whatever the
			// compression did to the bytes on the wire.
			payload := fmt.Sprintf("packets/s): payload %.1f MB at ", float64(o.entities*o.size)/1e6)
			if o.typed {
				payload = "packets/s): payload "
			}
			if !strings.Contains(out, payload) || !strings.Contains(out, "/s, wire ") {
				t.Fatalf("A said:\n%s\nwant %q and the wire rate", out, payload)
			}
			// Compressed, the region's repetitive records take much less
			// on the wire than their payload; uncompressed, a little more.
			if !o.typed {
				var p, rate, w float64
				if _, err := fmt.Sscanf(out[strings.Index(out, payload)+len("packets/s): "):], "payload %f MB at %f MB/s, wire %f MB", &p, &rate, &w); err != nil {
					t.Fatalf("A said:\n%s\n%v", out, err)
				}
				if compressed := o.compress != "none"; compressed != (w < p/2) {
					t.Fatalf("compression %s: payload %.1f MB, wire %.1f MB", o.compress, p, w)
				}
			}
		})
	}
}

func TestStreamENet(t *testing.T) {
	if _, err := enet.New(nil); err != nil {
		t.Skipf("no ENet here (the ENet adapter needs cgo and libenet): %v", err)
	}
	o := defaults()
	o.transport = "enet"
	if out, _ := run(t, o); !strings.Contains(out, "checksum matches") || !strings.Contains(out, "(enet game connection") {
		t.Fatalf("A said:\n%s", out)
	}
}

// TestStreamSimulated runs B under -sim: the region still arrives, over
// either carrier, and the game pings take at least twice the lag.
func TestStreamSimulated(t *testing.T) {
	for _, carrier := range []string{"station", "listener"} {
		t.Run(carrier, func(t *testing.T) {
			o := defaults()
			o.carrier, o.sim = carrier, "lag=20ms"
			out, bSaid := run(t, o)
			if !strings.Contains(out, "checksum matches") || !strings.HasPrefix(bSaid, "network simulator: lag=20ms (seed ") {
				t.Fatalf("A said:\n%s\nB said:\n%s", out, bSaid)
			}
			var p50 float64
			i := strings.Index(out, "idle p50 ")
			if _, err := fmt.Sscanf(out[max(i, 0):], "idle p50 %f ms", &p50); err != nil || p50 < 40 {
				t.Fatalf("A said:\n%s\nwant an idle ping p50 of at least 40 ms (%v)", out, err)
			}
		})
	}
}

// testCluster is a node cluster of its own for a test, so that runs on
// one machine, whose embedded servers meet at node.LocalSeed, stay apart.
func testCluster() string {
	clusters++
	return fmt.Sprintf("stream-test-%d-%d", os.Getpid(), clusters)
}

var clusters int

// TestStreamNATSServer: with -nats, both nodes use that NATS, and the
// region goes through it.
func TestStreamNATSServer(t *testing.T) {
	s := natstest.Server(t)
	o := defaults()
	o.carrier, o.cluster, o.nats = "nats", testCluster(), s.ClientURL()
	// What goes over which subjects, as README.md says: `nats sub 'gonetic.>'`.
	nc, err := natsgo.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	var mu sync.Mutex // guards subjects
	subjects := make(map[string]int)
	end := "gonetic." + o.cluster + ".test-end"
	ended := make(chan struct{})
	sub, err := nc.Subscribe("gonetic.>", func(m *natsgo.Msg) {
		if m.Subject == end {
			close(ended)
			return
		}
		subj := subjectForm(m.Subject, "gonetic."+o.cluster)
		mu.Lock()
		subjects[subj] += len(m.Data)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	out, bSaid := run(t, o)
	// The server took what the nodes sent before this; it reaches the
	// subscription in that order.
	if err := nc.Publish(end, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ended:
	case <-time.After(20 * time.Second):
		t.Fatal("the subscription to gonetic.> did not get its own message")
	}
	_ = sub.Unsubscribe()
	mu.Lock()
	defer mu.Unlock()
	var got []string
	for subj := range subjects {
		got = append(got, subj)
	}
	slices.Sort(got)
	want := []string{
		"P.d.stream-a-E-f.L",
		"P.d.stream-a-E-n.L",
		"P.hb.stream.stream-a",
		"P.hb.stream.stream-b",
		"P.n.stream-b.flow.dial",
		"P.n.stream-b.flow.l.stream-a-E-f.L",
		"P.n.stream-b.net.dial",
		"P.n.stream-b.net.l.stream-a-E-n.L",
		"P.who.stream-a",
		"P.who.stream-b",
	}
	if !slices.Equal(got, want) {
		t.Errorf("subjects:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if payload, chunks := o.entities*o.size, subjects["P.n.stream-b.flow.l.stream-a-E-f.L"]; chunks < payload {
		t.Errorf("the flow's subject carried %d bytes, less than the region's %d", chunks, payload)
	}
	if want := "NATS at " + s.ClientURL(); !strings.Contains(out, "checksum matches") || !strings.Contains(out, want) || !strings.Contains(bSaid, want) {
		t.Fatalf("A said:\n%s\nB said:\n%s\nwant %q in both", out, bSaid, want)
	}
	if !strings.Contains(out, "game ping over the node link") {
		t.Fatalf("A said:\n%s", out)
	}
}

// TestNATSWithoutB: A waits for B's node, and then fails saying so.
func TestNATSWithoutB(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() { nettest.CheckGoroutines(t, before) })
	defer func(d time.Duration) { peerTimeout = d }(peerTimeout)
	peerTimeout = 300 * time.Millisecond
	s := natstest.Server(t)
	o := defaults()
	o.carrier, o.cluster, o.nats, o.progress = "nats", testCluster(), s.ClientURL(), false
	var out strings.Builder
	err := runA(context.Background(), o, "", "", &out)
	if err == nil || !strings.Contains(err.Error(), "node stream-b did not join within 300ms") {
		t.Fatalf("A without B: %v\n%s", err, out.String())
	}
}

// subjectForm is subj with prefix as "P", the ids of a node's run
// ("stream-a-<epoch>-n") with "E" for the epoch, and the link id after
// them as "L".
func subjectForm(subj, prefix string) string {
	tok := strings.Split(strings.TrimPrefix(subj, prefix+"."), ".")
	for i, s := range tok {
		for _, n := range []string{"stream-a-", "stream-b-"} {
			if rest, ok := strings.CutPrefix(s, n); ok && strings.Count(rest, "-") == 1 {
				tok[i] = n + "E-" + rest[strings.Index(rest, "-")+1:]
				if i+1 < len(tok) {
					tok[i+1] = "L"
				}
			}
		}
	}
	return "P." + strings.Join(tok, ".")
}

// TestSelf runs the command's one-command mode: B in a child process.
func TestSelf(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*options)
	}{
		{"station", func(o *options) {}},
		// Two processes, each with its embedded nats-server: they form
		// one NATS cluster through node.LocalSeed.
		{"nats", func(o *options) { o.carrier, o.cluster = "nats", testCluster() }},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := defaults()
			c.edit(&o)
			o.progress = false
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := runSelf(ctx, o); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestRates: the payload's rate and the wire's, each labelled.
func TestRates(t *testing.T) {
	if got, want := rates(100e6, 1e6, 15e6, 2, "%.1f"), "payload 100.0 MB at 50.0 MB/s, wire 15.0 MB at 7.5 MB/s"; got != want {
		t.Errorf("rates = %q, want %q", got, want)
	}
	if got, want := rates(-1, 1e6, 15e6, 2, "%.1f"), "payload 500,000 packets/s, wire 15.0 MB at 7.5 MB/s"; got != want {
		t.Errorf("rates of typed values = %q, want %q", got, want)
	}
}

// TestConsole: a line printed while the progress line is on the screen
// goes below it, not onto it.
func TestConsole(t *testing.T) {
	var b strings.Builder
	c := &console{w: &b}
	for _, s := range []string{"\r 1%", "\r 2%", "B| done\n", "\r 3%", "\n", "\n", "A: done\n"} {
		printf(c, "%s", s)
	}
	if want := "\r 1%\r 2%\nB| done\n\r 3%\nA: done\n"; b.String() != want {
		t.Fatalf("console wrote %q, want %q", b.String(), want)
	}
}

func TestRecords(t *testing.T) {
	for _, size := range []int{minRecord, 100, 4096} {
		rec := make([]byte, size)
		for _, i := range []uint64{0, 7, 999_999, 999_999_999_999} {
			e := regionEntity(i)
			putRecord(rec, &e)
			var got Entity
			if err := parseRecord(rec, &got); err != nil || got != e {
				t.Fatalf("size %d entity %d: %+v, %v", size, i, got, err)
			}
		}
	}
	if err := parseRecord(make([]byte, 10), new(Entity)); err == nil {
		t.Fatal("a short record parsed")
	}
	for _, o := range []options{
		{transport: "udp"},
		{transport: "tcp", carrier: "x"},
		{transport: "tcp", carrier: "nats", size: 100, compress: "none", sim: "lag=20ms"},
		{transport: "enet", carrier: "nats", size: 100, compress: "none"},
	} {
		if o.check() == nil {
			t.Fatalf("bad flags accepted: %+v", o)
		}
	}
}
