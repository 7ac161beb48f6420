package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/gonetic/gonetic/adapters/flow"
	gnet "github.com/gonetic/gonetic/net"
)

// install is a region the flow handler hands to B's game loop.
type install struct {
	entities []Entity
	done     chan int // the world's size once installed
}

// world is B's game state; only the game loop touches it.
type world struct {
	entities map[string][]Entity // by region
	size     int
}

// runB is server B: a game server whose Station (or dedicated listener,
// or with -carrier nats its node's flow server: runBNode) takes regions;
// the handler decodes on its own goroutine, the game loop installs the
// result at its next tick.
func runB(ctx context.Context, o options, out io.Writer) error {
	if err := o.check(); err != nil {
		return err
	}
	if o.carrier == "nats" {
		return runBNode(ctx, o, out)
	}
	f := newFactory()
	tr, err := newTransport(o.transport)
	if err != nil {
		return err
	}
	tr, simulator, err := simulate(tr, o, out)
	if err != nil {
		return err
	}
	srv, err := gnet.Listen(gnet.ServerConfig{Config: gnet.Config{Factory: f, Transport: tr}, Addr: o.addr})
	if err != nil {
		return err
	}
	defer srv.Close()
	st, err := flow.Attach(srv, f, o.flowCfg)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := gnet.On(srv, func(c *gnet.Conn, p Ping) { _ = c.Send(&p) }); err != nil {
		return err
	}

	installs := make(chan install)
	served := make(chan struct{}, 1)
	if err := st.HandleFunc("region", regionHandler(o, out, installs, served, "the station")); err != nil {
		return err
	}
	flowAddr := "-"
	var fs *flow.Server
	if o.carrier == "listener" {
		// Under -sim, a relay on -flow-addr puts the dedicated listener,
		// plain TCP, under the same conditions.
		listenAt := o.flowAddr
		if simulator != nil {
			listenAt = "127.0.0.1:0"
		}
		fs, err = flow.Listen(flow.ServerConfig{Config: o.flowCfg, Addr: listenAt})
		if err != nil {
			return err
		}
		defer fs.Close()
		if err := fs.HandleFunc("region", regionHandler(o, out, installs, served, "the listener")); err != nil {
			return err
		}
		flowAddr = fs.Addr()
		if simulator != nil {
			r, err := simulator.Relay("tcp", o.flowAddr, flowAddr)
			if err != nil {
				return err
			}
			defer r.Close()
			flowAddr = r.Addr()
		}
	}
	printf(out, "READY game=%s flow=%s\n", srv.Addr(), flowAddr)

	// The game loop: network, then whatever the flow handlers hand over.
	// Stopping lets running flows end first, with Update still running
	// (a flow over the Station needs it).
	w := &world{entities: make(map[string][]Entity)}
	var stopped chan struct{}
	stop := func() {
		if stopped != nil {
			return
		}
		stopped = make(chan struct{})
		go func() {
			defer close(stopped)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = st.Shutdown(ctx)
			if fs != nil {
				_ = fs.Shutdown(ctx)
			}
		}()
	}
	for {
		select {
		case <-ctx.Done():
			// Interrupted: end running flows now (their callers get an
			// error saying B is closing), then say goodbye.
			st.Close()
			if fs != nil {
				fs.Close()
			}
			sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			return srv.Shutdown(sctx, "B was interrupted")
		case in := <-installs:
			w.entities["north"] = in.entities
			w.size = len(in.entities)
			in.done <- w.size
		case <-served:
			if o.once {
				stop()
			}
		case <-stopped:
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return srv.Shutdown(ctx, "B is done")
		default:
		}
		if err := srv.Update(5 * time.Millisecond); err != nil {
			return err
		}
	}
}

// regionHandler serves a region flow arriving over over ("the station",
// "NATS"); it decodes on the flow's goroutine, hands the region to the
// game loop (installs) and says when it is done (served). What it prints
// is what arrived (carrier, kind of packets), not what was asked for.
func regionHandler(o options, out io.Writer, installs chan<- install, served chan<- struct{}, over string) flow.HandlerFunc {
	return func(fl *flow.Flow, r *flow.Reply) (any, error) {
		defer func() { served <- struct{}{} }()
		var h RegionHeader
		if err := fl.Header().Decode(&h); err != nil {
			return nil, err
		}
		start := time.Now()
		staged := make([]Entity, 0, min(h.Entities, 1<<24))
		var sum checksum
		kind := "raw records"
		for p, err := range fl.Packets() {
			if err != nil {
				printf(out, "region %q from %s aborted after %s entities: %v\n", h.Region, fl.RemoteAddr(), ints(int64(len(staged))), err)
				return nil, err
			}
			var e Entity
			if p.IsValue() {
				kind = "typed values"
				err = p.Decode(&e)
			} else {
				err = parseRecord(p.Bytes(), &e)
			}
			if err != nil {
				return nil, fmt.Errorf("entity %d: %w", len(staged), err)
			}
			sum.add(&e)
			staged = append(staged, e)
			for t := time.Now(); o.cost > 0 && time.Since(t) < o.cost; {
			}
			if len(staged)%100_000 == 0 {
				if err := r.Send(Progress{Applied: len(staged)}); err != nil {
					return nil, err
				}
			}
		}
		done := make(chan int, 1)
		select {
		case installs <- install{staged, done}:
		case <-fl.Context().Done():
			return nil, fl.Context().Err()
		}
		size := <-done
		c := Confirm{Entities: len(staged), Checksum: sum.sum, WorldSize: size, Millis: time.Since(start).Milliseconds()}
		printf(out, "region %q: %s entities (%s) applied in %d ms over %s (checksum %016x)\n", h.Region, ints(int64(c.Entities)), kind, c.Millis, over, c.Checksum)
		return c, nil
	}
}
