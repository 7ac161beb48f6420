package sim_test

import (
	"bufio"
	"errors"
	"fmt"
	stdnet "net"
	"os"
	"time"

	"github.com/gonetic/gonetic/adapters/sim"
	"github.com/gonetic/gonetic/adapters/tcp"
	"github.com/gonetic/gonetic/message"
	gnet "github.com/gonetic/gonetic/net"
)

// Parse reads the conditions a -sim flag gives; String writes them back.
func ExampleParse() {
	cfg, err := sim.Parse("lag=75ms,jitter=10ms,loss=5%,burst=3,seed=7")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.Up.Lag, cfg.Down.Lag, cfg.Up.Loss, cfg.Seed)
	fmt.Println(cfg)

	// A key starting with up. or down. sets one direction: here a slow
	// download.
	cfg, _ = sim.Parse("lag=20ms,down.rate=64KB/s")
	fmt.Println(cfg.Up.Rate, cfg.Down.Rate)
	fmt.Println(cfg)

	_, err = sim.Parse("loss=150%")
	fmt.Println(err)
	// Output:
	// 75ms 75ms 0.05 7
	// lag=75ms,jitter=10ms,loss=5%,burst=3,seed=7
	// 0 64000
	// up.lag=20ms,down.lag=20ms,down.rate=64000B/s
	// sim: Loss is 1.5; it is a fraction from 0 to 1 (5% is 0.05)
}

// Chat is the message of Example.
type Chat struct{ Text string }

// A gonetic Server plays over a 50 ms lag each way: only its transport is
// wrapped, and the client, which is not, feels it too.
func Example() {
	s, err := sim.New(sim.Both(sim.Conditions{Lag: 50 * time.Millisecond}))
	if err != nil {
		fmt.Println(err)
		return
	}
	tr, err := s.Wrap(tcp.New(tcp.Options{}))
	if err != nil {
		fmt.Println(err)
		return
	}
	factory := func() *message.Factory {
		f := gnet.NewFactory()
		message.MustRegister[Chat](f)
		return f
	}
	srv, err := gnet.Listen(gnet.ServerConfig{Config: gnet.Config{Factory: factory(), Transport: tr}, Addr: "127.0.0.1:0"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	var arrived time.Time
	_ = gnet.On(srv, func(c *gnet.Conn, m Chat) {
		arrived = time.Now()
		fmt.Println("the server got:", m.Text)
	})

	cli, _ := gnet.NewClient(gnet.ClientConfig{Config: gnet.Config{Factory: factory()}})
	defer cli.Close()
	conn, err := cli.Connect(srv.Addr(), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	var sent time.Time
	for end := time.Now().Add(10 * time.Second); arrived.IsZero() && time.Now().Before(end); {
		_ = srv.Update(0)
		_ = cli.Update(time.Millisecond)
		if sent.IsZero() && conn.Connected() {
			_ = conn.Send(&Chat{Text: "hello"})
			sent = time.Now()
		}
	}
	fmt.Println("one way took at least 50 ms:", arrived.Sub(sent) >= 50*time.Millisecond)
	// Output:
	// the server got: hello
	// one way took at least 50 ms: true
}

// A relay puts any server under the conditions, here a plain TCP echo
// server that knows nothing of gonetic: its clients dial the relay.
func ExampleSim_Relay() {
	echo, err := stdnet.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer echo.Close()
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = bufio.NewReader(c).WriteTo(c)
			}()
		}
	}()

	s, _ := sim.New(sim.Both(sim.Conditions{Lag: 30 * time.Millisecond}))
	r, err := s.Relay("tcp", "127.0.0.1:0", echo.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()

	c, err := stdnet.Dial("tcp", r.Addr())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	start := time.Now()
	fmt.Fprintln(c, "ping")
	line, _ := bufio.NewReader(c).ReadString('\n')
	fmt.Printf("echo: %q; round trip at least 60 ms: %v\n", line, time.Since(start) >= 60*time.Millisecond)
	// Output: echo: "ping\n"; round trip at least 60 ms: true
}

// Set changes the conditions while traffic flows: here it cuts the link
// to a UDP echo server with 100% loss, then restores it.
func ExampleSim_Set() {
	echo, err := stdnet.ListenUDP("udp", &stdnet.UDPAddr{IP: stdnet.IPv4(127, 0, 0, 1)})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer echo.Close()
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := echo.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			_, _ = echo.WriteToUDPAddrPort(buf[:n], from)
		}
	}()

	s, _ := sim.New(sim.Config{})
	r, err := s.Relay("udp", "127.0.0.1:0", echo.LocalAddr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	c, err := stdnet.Dial("udp", r.Addr())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	ping := func(wait time.Duration) {
		fmt.Fprint(c, "ping")
		_ = c.SetReadDeadline(time.Now().Add(wait))
		buf := make([]byte, 1500)
		n, err := c.Read(buf)
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			fmt.Println("no answer")
		case err != nil:
			fmt.Println(err)
		default:
			fmt.Println("echo:", string(buf[:n]))
		}
	}

	ping(10 * time.Second)
	_ = s.Set(sim.Both(sim.Conditions{Loss: 1}))
	ping(200 * time.Millisecond)
	_ = s.Set(sim.Config{})
	ping(10 * time.Second)
	fmt.Println("lost:", s.Stats().Up.Lost)
	// Output:
	// echo: ping
	// no answer
	// echo: ping
	// lost: 1
}
