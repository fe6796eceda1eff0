package guard

import (
	"context"
	"log/slog"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
)

// flushing is an outbox flush (flushOutbox) running beside the run's reads:
// a sweep reads the outbox, the Regions, the role and every Region's setting
// in one round trip. Only planning needs the outbox (the items held back),
// so it is joined there; the re-sends it starts are joined before this run
// alerts, so they still go out before anything this run adds.
type flushing struct {
	read chan struct{} // closed once box is read
	done chan struct{} // closed once the re-sends are over
	box  ledger.Outbox
}

// startFlush starts flushOutbox beside the caller.
func (h *Handler) startFlush(runCtx, ctx context.Context, log *slog.Logger) *flushing {
	f := &flushing{read: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(f.done)
		f.box = h.readOutbox(runCtx, ctx, log)
		close(f.read)
		h.resend(runCtx, ctx, log, f.box)
	}()
	return f
}

// holdBack is the run's Scope.HoldBack: it waits for the outbox to be read
// (never for the re-sends), and holds back what it backs off at now.
func (f *flushing) holdBack(now time.Time) func(item string, kind dhmc.Kind) bool {
	return func(item string, kind dhmc.Kind) bool {
		<-f.read
		return f.box.Backoff(item, string(kind), now)
	}
}

// wait returns once the flush is over.
func (f *flushing) wait() { <-f.done }
