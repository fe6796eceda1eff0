package guard

import (
	"context"
	"log/slog"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
)

// aheadLedger is a ledger that can read the alert windows' states before
// the run's findings are known; *ledger.Store is one. A Ledger without it
// reads them when deciding, one round trip later.
type aheadLedger interface {
	ReadAhead(ctx context.Context, candidates []ledger.Signal) (*ledger.Ahead, error)
	DecideAhead(ctx context.Context, in ledger.RunInput, a *ledger.Ahead, compose ledger.Compose) (ledger.Outcome, error)
}

// readingAhead is the read of the window states an event's findings can
// fall in, running beside the run's reads of DHMC: on the alert path the
// group state is then in hand when the repair is done. nil reads nothing.
type readingAhead struct {
	done  chan struct{}
	ahead *ledger.Ahead
}

// roleKinds and settingKinds are the kinds of finding an IAM event's item
// (the role) and an SSM event's item (the setting in its Region) can have.
// A kind missing here costs only speed: Decide reads what Ahead lacks.
var (
	roleKinds = []dhmc.Kind{
		dhmc.KindRoleMissing, dhmc.KindTrustPolicyDrift, dhmc.KindManagedPolicyMissing,
		dhmc.KindUnexpectedManagedPolicy, dhmc.KindUnexpectedInlinePolicy, dhmc.KindPermissionsBoundaryDrift,
		dhmc.KindRolePathMismatch, dhmc.KindTrustPolicyUnrecognised, dhmc.KindAllowedPolicyChanged,
	}
	settingKinds = []dhmc.Kind{
		dhmc.KindSettingDisabled, dhmc.KindSettingWrongRole, dhmc.KindSettingPending,
		dhmc.KindSettingRoleMissing, dhmc.KindManagedElsewhere,
	}
)

// candidates are the signals an event's findings would give: the item the
// event changed (the role, or the setting's Region) in every kind, with the
// event's actor, built by ledger.SignalsOf itself so that their groups are
// the ones the run's signals will name. A sweep has none: who changed a
// setting is known only once it is read.
func candidates(c dhmc.Cause, now time.Time) []ledger.Signal {
	if c.Actor == "" || c.ErrorCode != "" {
		return nil
	}
	region, kinds := "", roleKinds
	switch {
	case c.EventSource == dhmc.EventSourceIAM:
	case c.SettingEvent() && c.Region != "":
		region, kinds = c.Region, settingKinds
	default:
		return nil
	}
	r := &dhmc.Report{Cause: c, StartedAt: now.UTC().Format(time.RFC3339)}
	for _, k := range kinds {
		r.Results = append(r.Results, dhmc.Result{Finding: dhmc.Finding{Kind: k, Region: region}})
	}
	return ledger.SignalsOf(r, nil, now)
}

// startReadAhead starts reading the window states of the event's candidates.
func (h *Handler) startReadAhead(runCtx, ctx context.Context, log *slog.Logger, c dhmc.Cause) *readingAhead {
	al, ok := h.Ledger.(aheadLedger)
	if !ok || h.Ledger == nil {
		return nil
	}
	sigs := candidates(c, h.now())
	if len(sigs) == 0 {
		return nil
	}
	r := &readingAhead{done: make(chan struct{})}
	go func() {
		defer close(r.done)
		lctx, cancel := h.ledgerContext(runCtx)
		defer cancel()
		a, err := al.ReadAhead(lctx, sigs)
		if err != nil {
			// Deciding reads again, and fails open if it must.
			log.DebugContext(ctx, "reading the alert windows ahead", "error", err)
			return
		}
		r.ahead = a
	}()
	return r
}

// get waits for the read and returns what it read (nil: nothing).
func (r *readingAhead) get() *ledger.Ahead {
	if r == nil {
		return nil
	}
	<-r.done
	return r.ahead
}

// decide is Ledger.Decide with the states read ahead, when there are any.
func (h *Handler) decide(ctx context.Context, in ledger.RunInput, ahead *readingAhead, compose ledger.Compose) (ledger.Outcome, error) {
	if al, ok := h.Ledger.(aheadLedger); ok && ahead != nil {
		if a := ahead.get(); a != nil {
			return al.DecideAhead(ctx, in, a, compose)
		}
	}
	return h.Ledger.Decide(ctx, in, compose)
}

// startRecord writes the run to the ledger (record) beside the alert: the
// record depends on the run, not on the publish. The returned func waits.
func (h *Handler) startRecord(ctx context.Context, log *slog.Logger, r *dhmc.Report) (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.record(ctx, log, r)
	}()
	return func() { <-done }
}
