package node

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/gonetic/gonetic/message"
	gnet "github.com/gonetic/gonetic/net"
)

// Names of node's own message types (Register).
const (
	nameReq = "node_req"
	nameRep = "node_rep"
)

// reqMsg carries a request: a registered message, encoded.
type reqMsg struct {
	ID   uint64
	Body []byte
}

// repMsg carries its reply: Body (a registered message, encoded) when
// Code is repOK, else Text says why.
type repMsg struct {
	ID   uint64
	Code uint8
	Body []byte
	Text string
}

// Reply codes.
const (
	repOK       = 0
	repError    = 1 // the Answer function returned an error
	repNoAnswer = 2 // no Answer for the request's type
	repBad      = 3 // the request or the reply could not be coded
)

// Register adds node's two message types (node_req, node_rep) to f.
// Call it after registering the game's own node messages, on every node
// alike, before Join.
func Register(f *message.Factory) error {
	if _, err := message.Register[reqMsg](f, message.Name(nameReq)); err != nil {
		return fmt.Errorf("node: register: %w", err)
	}
	if _, err := message.Register[repMsg](f, message.Name(nameRep)); err != nil {
		return fmt.Errorf("node: register: %w", err)
	}
	return nil
}

// RemoteError is the error an Answer function returned on the node asked,
// or why that node could not answer.
type RemoteError struct {
	Node string // who answered
	Text string
}

func (e *RemoteError) Error() string { return fmt.Sprintf("node %s: %s", e.Node, e.Text) }

// answer is one Answer function, untyped.
type answer func(p Peer, req any) (any, error)

// Answer makes the node answer requests of type Req (a registered
// message) with fn, which runs inside Update: what it returns is the
// reply (a registered message), or an error that the asker gets as a
// *RemoteError. Call it before the first Update; one function per type.
func Answer[Req, Rep any](n *Node, fn func(from Peer, req Req) (Rep, error)) error {
	t := reflect.TypeFor[Req]()
	if n.cfg.Factory.TypeOf(*new(Req)) == nil {
		return fmt.Errorf("node: Answer: %v is not a registered message", t)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, dup := n.answers[t]; dup {
		return fmt.Errorf("node: Answer: %v already has an answer", t)
	}
	n.answers[t] = func(p Peer, req any) (any, error) {
		r, ok := asType[Req](req)
		if !ok {
			return nil, fmt.Errorf("a %T is not a %v", req, t)
		}
		return fn(p, r)
	}
	return nil
}

// asType takes a decoded message as T, whether decoding gave T or *T.
func asType[T any](v any) (T, bool) {
	switch x := v.(type) {
	case T:
		return x, true
	case *T:
		if x != nil {
			return *x, true
		}
	}
	var zero T
	return zero, false
}

// pending is a request awaiting its reply.
type pending struct {
	to       string
	timeout  time.Duration
	deadline time.Time            // Ask's; zero for Request, whose ctx bounds it
	ch       chan any             // Request's: the reply or an error
	fn       func(v any, e error) // Ask's, run in Update
	err      error                // set when it failed
}

// done completes p with v (or p.err); inside Update for Ask.
func (p *pending) done(v any) {
	if p.ch != nil {
		if p.err != nil {
			p.ch <- p.err
		} else {
			p.ch <- v
		}
		return
	}
	p.fn(v, p.err)
}

// fail completes a Request with err; Ask callbacks are dropped (Close).
func (p *pending) fail(err error) {
	if p.ch != nil {
		p.ch <- err
	}
}

// ask sends req to the node named to and records p.
func (n *Node) ask(to string, req any, p *pending) (uint64, error) {
	c := n.Conn(to)
	if c == nil {
		return 0, n.noNode(to)
	}
	body, err := n.cfg.Factory.Pack(req)
	if err != nil {
		return 0, fmt.Errorf("node: request to %s: %w", to, err)
	}
	p.to = to
	n.mu.Lock()
	n.nextID++
	id := n.nextID
	n.pending[id] = p
	n.mu.Unlock()
	if err := c.Send(&reqMsg{ID: id, Body: body}); err != nil {
		n.mu.Lock()
		delete(n.pending, id)
		n.mu.Unlock()
		return 0, fmt.Errorf("node: request to %s: %w", to, err)
	}
	return id, nil
}

// Request sends req (a registered message) to the node named to and
// waits for its reply (of type Rep), until ctx is done. The reply is
// taken by the node's Update: call Request from any goroutine but the
// one that calls Update, which must go on calling it (from inside Update
// a Request can only time out; use Ask there). Errors: ErrNoNode,
// ErrNodeGone (the node went before it replied), ErrTimeout (ctx's
// deadline), ErrClosed, a *RemoteError, or ctx's error.
func Request[Rep any](ctx context.Context, n *Node, to string, req any) (Rep, error) {
	var zero Rep
	p := &pending{ch: make(chan any, 1)}
	id, err := n.ask(to, req, p)
	if err != nil {
		return zero, err
	}
	select {
	case v := <-p.ch:
		return replyAs[Rep](to, v)
	case <-ctx.Done():
		n.mu.Lock()
		delete(n.pending, id)
		n.mu.Unlock()
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return zero, fmt.Errorf("%w: no reply from %s (is its game loop calling Update?): %w", ErrTimeout, to, ctx.Err())
		}
		return zero, ctx.Err()
	}
}

// Ask is Request for the game loop: it sends req to the node named to
// and returns at once; fn runs inside a later Update with the reply, or
// with an error (ErrNodeGone, ErrTimeout after timeout, a *RemoteError).
// If Ask itself fails (ErrNoNode, say), fn never runs. After Close, fn
// never runs.
func Ask[Rep any](n *Node, to string, req any, timeout time.Duration, fn func(Rep, error)) error {
	p := &pending{timeout: timeout, deadline: time.Now().Add(timeout), fn: func(v any, err error) {
		if err != nil {
			var zero Rep
			fn(zero, err)
			return
		}
		fn(replyAs[Rep](to, v))
	}}
	_, err := n.ask(to, req, p)
	return err
}

// replyAs turns what completed a request into its result.
func replyAs[Rep any](from string, v any) (Rep, error) {
	var zero Rep
	if err, ok := v.(error); ok {
		return zero, err
	}
	r, ok := asType[Rep](v)
	if !ok {
		return zero, fmt.Errorf("node: %s replied with a %T, not a %v", from, v, reflect.TypeFor[Rep]())
	}
	return r, nil
}

// onReq answers a request, inside Update.
func (n *Node) onReq(c *gnet.Conn, m reqMsg) {
	rep := repMsg{ID: m.ID}
	from := n.peerOf(c)
	req, err := n.cfg.Factory.Unpack(m.Body)
	if err != nil {
		rep.Code, rep.Text = repBad, "cannot decode the request: "+err.Error()
		_ = c.Send(&rep)
		return
	}
	n.mu.Lock()
	fn := n.answers[reflect.TypeOf(req)]
	if fn == nil && reflect.TypeOf(req).Kind() == reflect.Pointer {
		fn = n.answers[reflect.TypeOf(req).Elem()]
	}
	n.mu.Unlock()
	if fn == nil {
		rep.Code, rep.Text = repNoAnswer, fmt.Sprintf("no answer for %T requests (node.Answer)", req)
		_ = c.Send(&rep)
		return
	}
	out, err := fn(from, req)
	if err != nil {
		rep.Code, rep.Text = repError, err.Error()
	} else if rep.Body, err = n.cfg.Factory.Pack(out); err != nil {
		rep.Code, rep.Text = repBad, "cannot encode the reply: "+err.Error()
	}
	_ = c.Send(&rep)
}

// onRep completes a request, inside Update.
func (n *Node) onRep(c *gnet.Conn, m repMsg) {
	n.mu.Lock()
	p := n.pending[m.ID]
	if p != nil && p.to == n.peerOfLocked(c).Name {
		delete(n.pending, m.ID)
	} else {
		p = nil
	}
	n.mu.Unlock()
	if p == nil {
		return // timed out, or not ours
	}
	if m.Code != repOK {
		p.err = &RemoteError{Node: p.to, Text: m.Text}
		p.done(nil)
		return
	}
	v, err := n.cfg.Factory.Unpack(m.Body)
	if err != nil {
		p.err = fmt.Errorf("node: cannot decode %s's reply: %w", p.to, err)
	}
	p.done(v)
}
