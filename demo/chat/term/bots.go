package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/gonetic/gonetic/demo/chat/chat"
)

// phrases are what bots say.
var phrases = []string{
	"anyone up for a match?",
	"gg",
	"brb, getting coffee",
	"nice shot!",
	"which map next?",
	"lag is fine here",
	"who is on red team?",
	"ready when you are",
	"that was close",
	"one more round",
}

// botResult is what one bot reports when it stops.
type botResult struct {
	sent, received int
}

// runBots runs o.bots bots, each with its own Session (its own client and
// connection) on its own goroutine, until ctx is done or o.duration ends.
func runBots(ctx context.Context, o options, stdout io.Writer) int {
	factory, err := chat.NewFactory(o.codec)
	if err != nil {
		fmt.Fprintln(stdout, "term:", err)
		return 2
	}
	tr, err := newTransport(o, stdout)
	if err != nil {
		fmt.Fprintln(stdout, "term:", err)
		return 2
	}
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	prefix := o.nick
	if prefix == "" {
		prefix = "bot"
	}
	var (
		mu      sync.Mutex // guards stdout and results
		results []botResult
		wg      sync.WaitGroup
	)
	print := func(format string, args ...any) {
		mu.Lock()
		fmt.Fprintf(stdout, format+"\n", args...)
		mu.Unlock()
	}
	for i := 1; i <= o.bots; i++ {
		nick := fmt.Sprintf("%s%d", prefix, i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := bot(ctx, o, chat.SessionConfig{
				Addr:      o.addr,
				Nick:      nick,
				Factory:   factory, // frozen, so safe to share
				Transport: tr,
				Login:     login(o),
				Output: func(l chat.Line) {
					if o.verbose {
						print("[%s] %s", nick, l)
					}
				},
			}, print)
			mu.Lock()
			results = append(results, r)
			mu.Unlock()
		}()
	}
	wg.Wait()
	var total botResult
	for _, r := range results {
		total.sent += r.sent
		total.received += r.received
	}
	print("bots: %d bots said %d lines and heard %d", len(results), total.sent, total.received)
	return 0
}

// bot runs one bot until ctx is done: it prints its state changes and says
// a line every o.interval on average.
func bot(ctx context.Context, o options, cfg chat.SessionConfig, print func(string, ...any)) botResult {
	sess, err := chat.NewSession(cfg)
	if err != nil {
		print("[%s] %v", cfg.Nick, err)
		return botResult{}
	}
	interval := max(o.interval, 10*time.Millisecond)
	next := time.Now().Add(jitter(interval))
	state := sess.State()
	for ctx.Err() == nil {
		// Update returns as soon as something arrives; the cap keeps the
		// session's reconnect timer and gonetic's keepalive pings running.
		wait := min(max(time.Until(next), 0), 50*time.Millisecond)
		if err := sess.Update(wait); err != nil {
			break
		}
		if s := sess.State(); s != state {
			state = s
			print("[%s] %s", cfg.Nick, sess.Status())
		}
		if now := time.Now(); now.After(next) {
			next = now.Add(jitter(interval))
			if state == chat.Online {
				_ = sess.Say(phrases[rand.IntN(len(phrases))])
			}
		}
	}
	cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = sess.Close(cctx)
	return botResult{sent: sess.Sent(), received: sess.Received()}
}

// jitter is d ± 50%.
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.5 + rand.Float64()))
}
