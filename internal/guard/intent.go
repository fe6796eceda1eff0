package guard

import (
	"context"
	"log/slog"

	"github.com/dhmc-guard/dhmc-guard/internal/alert"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
)

// intentLedger is a ledger that records an alert as the repair starts and
// confirms it after (ledger.Intent); *ledger.Store is one. A Ledger without
// it decides the windows after the repair, one round trip later.
type intentLedger interface {
	DecideIntent(ctx context.Context, in ledger.RunInput, a *ledger.Ahead, compose ledger.Compose) (*ledger.Intent, error)
	Confirm(ctx context.Context, it *ledger.Intent, in ledger.RunInput, compose ledger.Compose) (ledger.Outcome, error)
}

// intending is the record of a run's alert as its repair starts, composed
// for the outcome expected (every repair done), running beside the repair:
// the alert path is then reads, repair and record at once, publish. The
// outbox entry is still written before the publish; what the run confirms
// differs only when a repair did not go as planned, and then the entry is
// replaced first (one round trip more, only then).
type intending struct {
	done chan struct{}
	exp  *dhmc.Report
	it   *ledger.Intent
	err  error
}

// wait returns the intent recorded (nil: none) and the ledger's error.
// A nil intending waits for nothing.
func (i *intending) wait() (*ledger.Intent, error) {
	if i == nil {
		return nil, nil
	}
	<-i.done
	return i.it, i.err
}

// repairing is the run's Scope.Repairing: it starts recording the expected
// report's alert and stores the record in *slot. nil when the ledger
// records no intents.
// The run's own outbox read (flush) is over before the record is written:
// this run never re-sends its own intent.
func (h *Handler) repairing(ctx context.Context, ahead *readingAhead, flush *flushing, slot **intending) func(*dhmc.Report) {
	il, ok := h.Ledger.(intentLedger)
	if !ok || h.Ledger == nil {
		return nil
	}
	return func(exp *dhmc.Report) {
		if exp.AccountID == "" {
			exp.AccountID = h.AccountID
		}
		if !alert.Worth(exp) {
			return
		}
		i := &intending{done: make(chan struct{}), exp: exp}
		*slot = i
		now := h.now()
		go func() {
			defer close(i.done)
			<-flush.read // joined by planning already (HoldBack): no wait
			lctx, cancel := h.ledgerContext(ctx)
			defer cancel()
			// An error is logged once, by notifyIntended.
			i.it, i.err = il.DecideIntent(lctx, h.runInput(exp, now), ahead.get(), h.composer(exp, now).compose)
		}()
	}
}

// notifyIntended tells a run whose alert was recorded as its repair
// started (it), or whose record failed (ierr: the ledger unavailable, so
// the alert goes out without the windows, as when deciding after the
// repair fails). The message is composed for the real outcome r; the
// ledger confirms the record when that is what it holds, byte for byte,
// and replaces it first otherwise. The run's duration in the message is the
// expected report's (up to the repair's start): the recorded message could
// not know more, and a confirmed message is the recorded one.
func (h *Handler) notifyIntended(ctx context.Context, log *slog.Logger, r *dhmc.Report, exp *dhmc.Report, it *ledger.Intent, ierr error, open []ledger.Problem) error {
	told := *r
	told.DurationMs = exp.DurationMs
	if ierr != nil {
		if !alert.Worth(&told) {
			return nil
		}
		now := h.now()
		c := h.composer(&told, now)
		log.WarnContext(ctx, "ledger unavailable: alerting without the windows", "error", ierr)
		return h.tell(ctx, log, r, c, ledger.FailOpen(h.runInput(&told, now), c.compose), open)
	}
	now := it.Now()
	in := ledger.RunInput{Now: now, Policy: h.Policy}
	if alert.Worth(&told) {
		in = h.runInput(&told, now)
	}
	c := h.composer(&told, now)
	il := h.Ledger.(intentLedger)
	lctx, cancel := h.ledgerContext(ctx)
	out, err := il.Confirm(lctx, it, in, c.compose)
	cancel()
	if redelivered := decided(ctx, log, r, err); redelivered {
		return nil
	}
	if len(in.Signals) == 0 {
		return nil
	}
	return h.tell(ctx, log, r, c, out, open)
}

// abandon undoes a recorded intent whose run ended without a report.
func (h *Handler) abandon(ctx context.Context, log *slog.Logger, i *intending) {
	it, _ := i.wait()
	if it == nil {
		return
	}
	lctx, cancel := h.ledgerContext(ctx)
	defer cancel()
	if _, err := h.Ledger.(intentLedger).Confirm(lctx, it, ledger.RunInput{Now: it.Now(), Policy: h.Policy}, nil); err != nil {
		log.WarnContext(ctx, "undoing the alert recorded as the repair started", "error", err)
	}
}
