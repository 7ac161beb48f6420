package node_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gonetic/gonetic/message"
	gnet "github.com/gonetic/gonetic/net"
	"github.com/gonetic/gonetic/node"
)

// Handoff is a node message: a player moving to another zone.
type Handoff struct {
	Player string
	X, Y   float64
}

// Where asks a zone where a player is; Here is its reply.
type (
	Where struct{ Player string }
	Here  struct{ X, Y float64 }
)

// zoneRegistry is every zone's registry: the game's node messages in
// order, then node's own.
func zoneRegistry() *message.Factory {
	f := gnet.NewFactory()
	message.MustRegister[Handoff](f)
	message.MustRegister[Where](f)
	message.MustRegister[Here](f)
	if err := node.Register(f); err != nil {
		panic(err)
	}
	return f
}

// ZoneHandler handles one peer zone's messages, inside Update.
type ZoneHandler struct {
	node.Handler
	arrived chan<- string
}

func (h *ZoneHandler) NetHandoff(m Handoff) {
	h.arrived <- fmt.Sprintf("%s arrived from %s at (%g, %g)", m.Player, h.Peer().Name, m.X, m.Y)
}

// Two zones in one process: the first starts an embedded nats-server,
// the second joins it by URL (on several machines, both would be given
// the URLs of a NATS cluster). Each runs its game loop; zone-1 hands a
// player to zone-2 and asks zone-2 a question.
func Example() {
	ctx := context.Background()
	arrived := make(chan string, 1)
	joined := make(chan string, 2)
	cfg := func(name string) node.Config {
		return node.Config{
			Name: name, Kind: "zone", Factory: zoneRegistry(),
			NewHandler: func() any { return &ZoneHandler{arrived: arrived} },
			OnPeer: func(p node.Peer, up bool, reason string) {
				if up {
					joined <- name + " sees " + p.Name
				}
			},
		}
	}
	z1, err := node.Join(ctx, cfg("zone-1"))
	if err != nil {
		panic(err)
	}
	defer z1.Close()
	c2 := cfg("zone-2")
	c2.URLs = []string{z1.ClientURL()}
	z2, err := node.Join(ctx, c2)
	if err != nil {
		panic(err)
	}
	defer z2.Close()
	if err := node.Answer(z2, func(from node.Peer, w Where) (Here, error) {
		return Here{X: 3, Y: 4}, nil
	}); err != nil {
		panic(err)
	}

	stop := make(chan struct{})
	defer close(stop)
	for _, z := range []*node.Node{z1, z2} {
		go func() { // each zone's game loop
			for {
				select {
				case <-stop:
					return
				default:
					z.Update(10 * time.Millisecond)
				}
			}
		}()
	}
	fmt.Println(<-joined)
	fmt.Println(<-joined)

	if err := z1.Send("zone-2", &Handoff{Player: "ann", X: 1, Y: 2}); err != nil {
		panic(err)
	}
	fmt.Println(<-arrived)

	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	here, err := node.Request[Here](ctx, z1, "zone-2", &Where{Player: "ann"})
	fmt.Println(here, err)
	// Unordered output:
	// zone-1 sees zone-2
	// zone-2 sees zone-1
	// ann arrived from zone-1 at (1, 2)
	// {3 4} <nil>
}
