// Package daemon runs a gonetic server program as a well-behaved service,
// in the manner of Twisted's twistd in the foreground (twistd -n): an
// optional pidfile, a readiness report, a graceful stop on SIGINT or
// SIGTERM with a deadline, and structured logs with log/slog.
//
// A program hands Run a serve function. Run writes the pidfile, starts
// serve, and logs "ready" and calls Options.OnReady when serve says it is
// ready. At the first SIGINT or SIGTERM it cancels serve's context; serve
// then shuts down with the context that ShutdownContext gives, whose
// deadline is Options.StopTimeout away (a gonetic Server's Shutdown sends
// the reliable messages still queued), and returns. Run removes the pidfile and returns. A second signal makes
// Run return at once.
//
//	func main() {
//		err := daemon.Run(context.Background(), daemon.Options{PIDFile: *pidfile},
//			func(ctx context.Context, ready func(addr string)) error {
//				srv, err := gnet.Listen(cfg)
//				if err != nil {
//					return err
//				}
//				ready(srv.Addr())
//				for ctx.Err() == nil {
//					srv.Update(16 * time.Millisecond)
//				}
//				sctx, cancel := daemon.ShutdownContext(ctx)
//				defer cancel()
//				return srv.Shutdown(sctx, "server stopping")
//			})
//		if err != nil {
//			os.Exit(1) // Run has logged why
//		}
//	}
//
// Run does not detach from the terminal: a service manager (systemd,
// a container runtime, supervisord) runs the program in the foreground and
// restarts it; the pidfile is for the tools that still look for one.
package daemon
