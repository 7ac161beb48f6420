package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	stdnet "net"
	"sync"
	"sync/atomic"
	"time"
)

// tcpRelay passes byte streams between its clients and a target, each
// client over a connection of its own to the target. Streams are delayed
// and rate-limited, never cut, reordered or duplicated.
type tcpRelay struct {
	sim    *Sim
	ln     *stdnet.TCPListener
	target string

	mu       sync.Mutex      // guards first, sessions, dialing and closed
	first    *stdnet.TCPConn // made by Dial: the target connection for its one client
	sessions map[*tcpSession]struct{}
	dialing  int        // connections to the target not yet in sessions
	settled  *sync.Cond // on mu: dialing went down
	closed   bool

	dueClock
	quit   chan struct{}
	ctx    context.Context // ends with quit, for dialing the target
	cancel context.CancelFunc
	once   sync.Once
	wg     sync.WaitGroup
}

// tcpSession is one client's pair of connections.
type tcpSession struct {
	r           *tcpRelay
	front, back *stdnet.TCPConn
	ended       atomic.Int32 // directions that ended cleanly
	done        chan struct{}
	stop        sync.Once
}

// chunk is bytes read from one side, waiting for their release; a chunk
// without buf marks the end of the stream.
type chunk struct {
	due  time.Time
	buf  *[]byte
	n    int
	fail bool // the stream ended with an error: reset the other side
}

// listenTCP starts a relay to target on addr. first, when not nil, is a
// connection to target already made, for the only client (Dial).
func listenTCP(s *Sim, addr, target string, first *stdnet.TCPConn) (*tcpRelay, error) {
	at, err := stdnet.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	ln, err := stdnet.ListenTCP("tcp", at)
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	r := &tcpRelay{sim: s, ln: ln, target: target, first: first,
		sessions: map[*tcpSession]struct{}{}, quit: make(chan struct{})}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.settled = sync.NewCond(&r.mu)
	r.wg.Add(1)
	go r.accept()
	return r, nil
}

func (r *tcpRelay) addr() string { return r.ln.Addr().String() }

// settle has nothing to wait for: a stream's bytes are read until its end.
func (r *tcpRelay) settle() bool { return true }

func (r *tcpRelay) idle() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sessions) == 0 && r.dialing == 0 && r.first == nil
}

// clientOf is the client of the session whose target connection has
// address back, or back itself.
func (r *tcpRelay) clientOf(back string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		for s := range r.sessions {
			if s.back.LocalAddr().String() == back {
				return s.front.RemoteAddr().String()
			}
		}
		if r.dialing == 0 {
			return back
		}
		// The target may accept a connection before its dial returned
		// here: wait for the session.
		r.settled.Wait()
	}
}

// forget does nothing: a TCP session ends with its connections.
func (r *tcpRelay) forget(string) {}

func (r *tcpRelay) close() error {
	r.once.Do(func() {
		close(r.quit)
		r.cancel()
		r.ln.Close()
		r.mu.Lock()
		r.closed = true
		open := make([]*tcpSession, 0, len(r.sessions))
		for s := range r.sessions {
			open = append(open, s)
		}
		first := r.first
		r.first = nil
		r.mu.Unlock()
		for _, s := range open {
			s.abort()
		}
		if first != nil {
			first.Close()
		}
	})
	r.wg.Wait()
	return nil
}

func (r *tcpRelay) accept() {
	defer r.wg.Done()
	pause := 5 * time.Millisecond
	for {
		front, err := r.ln.AcceptTCP()
		if err != nil {
			if errors.Is(err, stdnet.ErrClosed) {
				return
			}
			// Out of descriptors, say: wait, as net/http does.
			select {
			case <-time.After(pause):
				pause = min(2*pause, time.Second)
			case <-r.quit:
				return
			}
			continue
		}
		r.mu.Lock()
		back := r.first
		r.first = nil
		if back != nil {
			r.dialing++
		}
		r.mu.Unlock()
		if back != nil {
			r.ln.Close() // Dial's relay has one client
			r.start(front, back)
			return
		}
		r.mu.Lock()
		r.dialing++
		r.mu.Unlock()
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			ctx, cancel := context.WithTimeout(r.ctx, 10*time.Second)
			defer cancel()
			var d stdnet.Dialer
			c, err := d.DialContext(ctx, "tcp", r.target)
			if err != nil {
				front.Close()
				r.dialed(nil)
				return
			}
			r.start(front, c.(*stdnet.TCPConn))
		}()
	}
}

// dialed ends a dial counted in dialing, with its session or nil.
func (r *tcpRelay) dialed(s *tcpSession) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dialing--
	r.settled.Broadcast()
	if s == nil || r.closed {
		return false
	}
	r.sessions[s] = struct{}{}
	return true
}

func (r *tcpRelay) start(front, back *stdnet.TCPConn) {
	s := &tcpSession{r: r, front: front, back: back, done: make(chan struct{})}
	if !r.dialed(s) {
		front.Close()
		back.Close()
		return
	}
	up, down := r.sim.paths()
	r.wg.Add(2)
	go s.pump(front, back, up, false)
	go s.pump(back, front, down, true)
}

// pump reads src and passes what it reads to dst, through a writer of its
// own when it must wait for its release.
func (s *tcpSession) pump(src, dst *stdnet.TCPConn, pth *path, down bool) {
	defer s.r.wg.Done()
	q := make(chan chunk, 64) // at most 2 MiB on its way
	var pending atomic.Int32  // chunks given to the writer and not yet written
	s.r.wg.Add(1)
	go s.write(dst, q, &pending, down)
	for {
		c := s.r.sim.conditions(down)
		size := streamBuf
		if c.Rate > 0 {
			// Smaller reads at a low rate, so that the first bytes of a
			// large write are not held back for the whole of it.
			size = min(max(int(c.Rate/100), 512), streamBuf)
		}
		b := streamPool.Get().(*[]byte)
		n, err := src.Read((*b)[:size])
		if n > 0 {
			now := time.Now()
			if w := pth.streamWait(c, now, n); w > 0 {
				select {
				case <-time.After(w):
				case <-s.done:
					streamPool.Put(b)
					return
				}
				now = now.Add(w)
			}
			due := pth.stream(c, now, n)
			if !due.After(now) && pending.Load() == 0 {
				// The writer is idle and has nothing queued: write here.
				ok := s.pass(dst, (*b)[:n], down)
				streamPool.Put(b)
				if !ok {
					return
				}
			} else {
				pending.Add(1)
				s.r.note(due)
				select {
				case q <- chunk{due: due, buf: b, n: n}:
				case <-s.done:
					return
				}
			}
		} else {
			streamPool.Put(b)
		}
		if err != nil {
			select {
			case q <- chunk{fail: !errors.Is(err, io.EOF)}:
			case <-s.done:
			}
			return
		}
	}
}

// write writes the chunks of q to dst at their release times.
func (s *tcpSession) write(dst *stdnet.TCPConn, q <-chan chunk, pending *atomic.Int32, down bool) {
	defer s.r.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var ch chunk
		select {
		case ch = <-q:
		case <-s.done:
			return
		}
		if ch.buf == nil {
			if ch.fail {
				s.abort()
			} else {
				dst.CloseWrite() // the end of the stream, after its bytes
				s.halfEnded()
			}
			return
		}
		if wait := time.Until(ch.due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-s.done:
				return
			}
		}
		ok := s.pass(dst, (*ch.buf)[:ch.n], down)
		streamPool.Put(ch.buf)
		pending.Add(-1)
		if !ok {
			return
		}
	}
}

// pass writes p to dst, and ends the session when dst fails.
func (s *tcpSession) pass(dst *stdnet.TCPConn, p []byte, down bool) bool {
	if _, err := dst.Write(p); err != nil {
		s.abort()
		return false
	}
	ctr := &s.r.sim.up
	if down {
		ctr = &s.r.sim.down
	}
	ctr.delivered.Add(1)
	return true
}

// halfEnded closes the session once both directions ended cleanly.
func (s *tcpSession) halfEnded() {
	if s.ended.Add(1) == 2 {
		s.end(false)
	}
}

// abort resets both connections, as a broken middlebox would.
func (s *tcpSession) abort() { s.end(true) }

func (s *tcpSession) end(reset bool) {
	s.stop.Do(func() {
		close(s.done)
		for _, c := range []*stdnet.TCPConn{s.front, s.back} {
			if reset {
				c.SetLinger(0)
			}
			c.Close()
		}
		s.r.mu.Lock()
		delete(s.r.sessions, s)
		s.r.mu.Unlock()
	})
}

const streamBuf = 32 << 10

var streamPool = sync.Pool{New: func() any { b := make([]byte, streamBuf); return &b }}
