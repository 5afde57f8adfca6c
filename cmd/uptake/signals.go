package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// abandonKey carries the context that, once done, abandons a publish in
// flight (see etl.Options.Abandon).
type abandonKey struct{}

// stopOnSignals returns a context cancelled by the first SIGTERM or SIGINT
// (a run stops unless it is publishing; the scheduler fires nothing more)
// and, in it, an abandon context cancelled by the second one (a publish in
// flight is abandoned too). A third exits at once.
func stopOnSignals(parent context.Context, stderr io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	abandon, abandonNow := context.WithCancelCause(context.WithoutCancel(parent))
	ctx = context.WithValue(ctx, abandonKey{}, abandon)
	sigs := make(chan os.Signal, 3)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		for n := 1; ; n++ {
			select {
			case <-done:
				return
			case s := <-sigs:
				sig := "SIGINT"
				if s == syscall.SIGTERM {
					sig = "SIGTERM"
				}
				switch n {
				case 1:
					fmt.Fprintf(stderr, "uptake: %s: stopping (a publish in flight is finished first; send it again to abandon it)\n", sig)
					cancel(fmt.Errorf("stopped by %s", sig))
				case 2:
					fmt.Fprintf(stderr, "uptake: %s again: abandoning the publish in flight\n", sig)
					abandonNow(fmt.Errorf("abandoned by a second %s", sig))
				default:
					os.Exit(130)
				}
			}
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
		abandonNow(nil)
	}
}

// abandonContext is the abandon context stopOnSignals put in ctx (nil
// outside it: a publish is then never abandoned).
func abandonContext(ctx context.Context) context.Context {
	a, _ := ctx.Value(abandonKey{}).(context.Context)
	return a
}
