package lossrelay

import (
	"encoding/binary"
	stdnet "net"
	"sync"
	"testing"
	"time"
)

const deadline = 20 * time.Second

// echoServer echoes every datagram back to its sender.
func echoServer(t *testing.T) (addr string, got <-chan uint32) {
	t.Helper()
	c, err := stdnet.ListenUDP("udp", &stdnet.UDPAddr{IP: stdnet.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadBuffer(4 << 20)
	ch := make(chan uint32, 1<<16)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 2048)
		for {
			n, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if n >= 4 {
				ch <- binary.BigEndian.Uint32(buf)
			}
			c.WriteToUDPAddrPort(buf[:n], from)
		}
	}()
	t.Cleanup(func() { c.Close(); wg.Wait() })
	return c.LocalAddr().String(), ch
}

// verdicts counts the copies the relay decided to forward, per direction.
type verdicts struct {
	mu     sync.Mutex
	n      [2]int // datagrams decided
	copies [2]int
	seen   chan struct{}
}

func (v *verdicts) trace(d Direction, copies int) {
	v.mu.Lock()
	v.n[d]++
	v.copies[d] += copies
	v.mu.Unlock()
	select {
	case v.seen <- struct{}{}:
	default:
	}
}

// waitDecided waits until the relay decided n datagrams in direction d and
// returns how many copies it forwards.
func (v *verdicts) waitDecided(t *testing.T, d Direction, n int) int {
	t.Helper()
	timeout := time.After(deadline)
	for {
		v.mu.Lock()
		done, copies := v.n[d] >= n, v.copies[d]
		v.mu.Unlock()
		if done {
			return copies
		}
		select {
		case <-v.seen:
		case <-timeout:
			t.Fatalf("relay decided %d of %d datagrams", v.n[d], n)
		}
	}
}

func run(t *testing.T, cfg Config, n int) (up, down []uint32, st Stats) {
	t.Helper()
	addr, atServer := echoServer(t)
	v := &verdicts{seen: make(chan struct{}, 1)}
	cfg.Target = addr
	cfg.trace = v.trace
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	client, err := stdnet.Dial("udp", r.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	client.(*stdnet.UDPConn).SetReadBuffer(4 << 20)
	backs := make(chan uint32, 1<<16)
	go func() {
		buf := make([]byte, 2048)
		for {
			k, err := client.Read(buf)
			if err != nil {
				close(backs)
				return
			}
			backs <- binary.BigEndian.Uint32(buf[:k])
		}
	}()
	var b [16]byte
	for i := range n {
		binary.BigEndian.PutUint32(b[:], uint32(i))
		if _, err := client.Write(b[:]); err != nil {
			t.Fatal(err)
		}
		if i%16 == 15 { // keep the socket buffers (about 100 datagrams) from overflowing
			v.waitDecided(t, ClientToServer, i+1)
		}
	}
	timeout := time.After(deadline)
	upCopies := v.waitDecided(t, ClientToServer, n)
	for len(up) < upCopies {
		select {
		case s := <-atServer:
			up = append(up, s)
		case <-timeout:
			t.Fatalf("server got %d of %d copies; %+v", len(up), upCopies, r.Stats())
		}
	}
	downCopies := v.waitDecided(t, ServerToClient, upCopies)
	for len(down) < downCopies {
		select {
		case s := <-backs:
			down = append(down, s)
		case <-timeout:
			t.Fatalf("client got %d of %d copies", len(down), downCopies)
		}
	}
	return up, down, r.Stats()
}

func TestForwardsEverything(t *testing.T) {
	up, down, st := run(t, Config{Seed: 1}, 500)
	if len(up) != 500 || len(down) != 500 {
		t.Fatalf("up %d down %d, want 500", len(up), len(down))
	}
	for i := range up {
		if up[i] != uint32(i) || down[i] != uint32(i) {
			t.Fatalf("datagram %d out of order without jitter: up %d down %d", i, up[i], down[i])
		}
	}
	if st.Up.Received != 500 || st.Down.Received != 500 || st.Up.Dropped+st.Down.Dropped != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestImpairs(t *testing.T) {
	const n = 2000
	up, down, st := run(t, Config{Seed: 7, Drop: 0.2, Duplicate: 0.1, Delay: 4 * time.Millisecond, Jitter: 3 * time.Millisecond}, n)
	if d := float64(st.Up.Dropped) / n; d < 0.15 || d > 0.25 {
		t.Errorf("dropped %.3f of upstream, want about 0.2", d)
	}
	if st.Up.Duplicated == 0 || st.Down.Duplicated == 0 {
		t.Errorf("no duplicates: %+v", st)
	}
	if want := st.Up.Received - st.Up.Dropped + st.Up.Duplicated; uint64(len(up)) != want {
		t.Errorf("server got %d copies, want %d", len(up), want)
	}
	if want := st.Down.Received - st.Down.Dropped + st.Down.Duplicated; uint64(len(down)) != want {
		t.Errorf("client got %d copies, want %d", len(down), want)
	}
	reordered := 0
	for i := 1; i < len(up); i++ {
		if up[i] < up[i-1] {
			reordered++
		}
	}
	if reordered == 0 {
		t.Error("jitter reordered nothing")
	}
	t.Logf("%+v, %d reorderings upstream", st, reordered)
}

func TestSeedDecides(t *testing.T) {
	// The verdicts depend on the seed and the order of datagrams only.
	// Sent is not compared: the relay counts a copy once its write
	// returns, which may be after the receiver read it and run returned.
	_, _, a := run(t, Config{Seed: 3, Drop: 0.3}, 300)
	_, _, b := run(t, Config{Seed: 3, Drop: 0.3}, 300)
	a.Up.Sent, b.Up.Sent = 0, 0
	if a.Up != b.Up {
		t.Fatalf("same seed, different upstream verdicts: %+v vs %+v", a.Up, b.Up)
	}
}

func TestBadConfig(t *testing.T) {
	for _, c := range []Config{
		{Target: "127.0.0.1:1", Drop: 2},
		{Target: "127.0.0.1:1", Delay: time.Millisecond, Jitter: 2 * time.Millisecond},
		{Target: "nowhere:x"},
	} {
		if r, err := New(c); err == nil {
			r.Close()
			t.Errorf("New(%+v) succeeded", c)
		}
	}
}

func TestCloseIdempotent(t *testing.T) {
	addr, _ := echoServer(t)
	r, err := New(Config{Target: addr, Delay: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := stdnet.Dial("udp", r.Addr())
	c.Write([]byte("held for a second"))
	c.Close()
	r.Close()
	r.Close()
}
