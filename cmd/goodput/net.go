package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/gonetic/gonetic/adapters/enet"
	"github.com/gonetic/gonetic/message"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/net/transport"
)

// Data is the net level's payload: a registered message, reliable on
// channel 0 (the defaults). Its Seq and Payload are the -size bytes
// counted, as the transport level's payload is.
type Data struct {
	Seq     uint32
	Payload []byte
}

func netFactory() *message.Factory {
	f := gnet.NewFactory()
	message.MustRegister[Data](f, message.SentBy(message.ClientToServer))
	return f
}

// netReceiver is the server's handler of the one sender.
type netReceiver struct {
	gnet.Handler
	start          time.Time
	warmup, d      time.Duration
	next           uint32
	bytes, packets int64
	bad, gone      bool
}

func (h *netReceiver) OnConnect() { h.start = time.Now() }

func (h *netReceiver) OnDisconnect(err error) {
	h.gone = true
	fmt.Fprintf(os.Stderr, "goodput net-recv: the link ended early: %v\n", err)
}

func (h *netReceiver) NetData(m Data) {
	if m.Seq != h.next && !h.bad {
		fmt.Fprintf(os.Stderr, "goodput net-recv: message %d where %d was due\n", m.Seq, h.next)
		h.bad = true
	}
	h.next = m.Seq + 1
	if at := time.Since(h.start); at >= h.warmup && at < h.warmup+h.d {
		h.bytes += int64(4 + len(m.Payload))
		h.packets++
	}
}

// netRecvMain is recvMain on package net: a Server whose Update loop runs
// the handler, as a game's would.
func netRecvMain(args []string) int {
	fs := flag.NewFlagSet("goodput net-recv", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen at")
	warmup := fs.Duration("warmup", 2*time.Second, "time after the connect that is not measured")
	d := fs.Duration("d", 20*time.Second, "measured time")
	fs.Parse(args)
	t, err := enet.New(nil)
	if err != nil {
		return fail(2, "%v", err)
	}
	var h *netReceiver
	srv, err := gnet.Listen(gnet.ServerConfig{
		Config: gnet.Config{Factory: netFactory(), Transport: t},
		Addr:   *addr,
		NewHandler: func() any {
			// Listen's call serves the first connection: the sender.
			if h != nil {
				return &netReceiver{warmup: *warmup, d: *d}
			}
			h = &netReceiver{warmup: *warmup, d: *d}
			return h
		},
	})
	if err != nil {
		return fail(2, "%v", err)
	}
	defer srv.Close()
	fmt.Printf("ready %s\n", srv.Addr())
	give := time.Now().Add(10 * time.Second)
	for h.start.IsZero() {
		if time.Now().After(give) {
			return fail(1, "net-recv: nobody connected")
		}
		srv.Update(10 * time.Millisecond)
	}
	end := h.start.Add(*warmup + *d)
	for !h.gone && time.Now().Before(end) {
		srv.Update(min(10*time.Millisecond, time.Until(end)))
	}
	fmt.Printf("RESULT goodput %.0f B/s\n", float64(h.bytes)/d.Seconds())
	fmt.Printf("RESULT packets %d packets\n", h.packets)
	if h.gone {
		fmt.Printf("RESULT ended %.1f s\n", time.Since(h.start).Seconds())
	}
	if h.bad {
		return 1
	}
	return 0
}

type netSender struct {
	gnet.Handler
	gone bool
}

func (h *netSender) OnDisconnect(error) { h.gone = true }

// netSendMain is sendMain on package net: a Client that sends Data
// whenever the adapter's queue has room, calling Update between.
func netSendMain(args []string) int {
	fs := flag.NewFlagSet("goodput net-send", flag.ExitOnError)
	addr := fs.String("addr", "", "the receiver's address (or a relay's)")
	size := fs.Int("size", 1000, "bytes per message: Seq and the payload")
	fs.Parse(args)
	if *size < 4 {
		return fail(2, "net-send: -size below 4")
	}
	t, err := enet.New(&enet.Options{QueueLimit: 4 << 20}) // as send's
	if err != nil {
		return fail(2, "%v", err)
	}
	cli, err := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: netFactory(), Transport: t}})
	if err != nil {
		return fail(2, "%v", err)
	}
	defer cli.Close()
	h := &netSender{}
	conn, err := cli.Connect(*addr, h)
	if err != nil {
		return fail(1, "net-send: %v", err)
	}
	m := Data{Payload: make([]byte, *size-4)}
	for i := range m.Payload {
		m.Payload[i] = 0xA5
	}
	for !h.gone {
		cli.Update(0)
		if !conn.Connected() {
			cli.Update(time.Millisecond)
			continue
		}
		for {
			err := conn.Send(&m)
			if err == nil {
				m.Seq++
				continue
			}
			if !errors.Is(err, transport.ErrQueueFull) {
				h.gone = true // the link is ending: OnDisconnect follows
			}
			break
		}
		cli.Update(time.Millisecond)
	}
	return 0
}
