package guard

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/alert"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
)

// ProblemLedger is the part of the ledger that keeps open problems;
// *ledger.Store is one. A Ledger without it tells problems but never
// their end.
type ProblemLedger interface {
	OpenProblems(ctx context.Context, ps []ledger.Problem, now time.Time) error
	Resolve(ctx context.Context, p ledger.Problem, a *ledger.Alert, now time.Time) error
}

// openProblems records the problems needing a person that the recorded
// alert told (the groups sent, ledger.NeedsPerson), with the alert's ID as
// their dedup key and its chat thread. One already open keeps its first
// message and start. One write, on runs that told such a problem only.
func (h *Handler) openProblems(ctx context.Context, log *slog.Logger, d ledger.Decisions, told *ledger.Alert, thread string, open []ledger.Problem) {
	pl, ok := h.Ledger.(ProblemLedger)
	if !ok || told == nil {
		return
	}
	now := h.now()
	seen := map[string]bool{}
	for _, p := range open {
		seen[p.Item+"#"+p.Kind] = true
	}
	var ps []ledger.Problem
	for _, g := range d.Groups {
		if !g.Send {
			continue
		}
		for _, s := range g.Signals {
			k := s.Item + "#" + s.Kind
			if seen[k] || !ledger.NeedsPerson(s, g.Flap != nil) {
				continue
			}
			seen[k] = true
			ps = append(ps, ledger.Problem{Item: s.Item, Kind: s.Kind, AlertID: told.ID, Thread: thread, Since: now, Severity: s.Severity})
		}
	}
	if len(ps) == 0 {
		return
	}
	lctx, cancel := h.publishContext(ctx)
	defer cancel()
	if err := pl.OpenProblems(lctx, ps, now); err != nil {
		log.WarnContext(ctx, "recording open problems: their resolution will not be told", "error", err)
	}
}

// resolve tells, once each, the open problems this run verified compliant
// (ledger.Resolved): the RESOLVED message is recorded in the outbox as the
// problem closes (one transaction), then published and marked delivered;
// one not published stays in the outbox for the next run, like any alert.
// fullScope is whether the run read every enabled Region (a sweep).
func (h *Handler) resolve(ctx context.Context, log *slog.Logger, r *dhmc.Report, open []ledger.Problem, fullScope bool) {
	pl, ok := h.Ledger.(ProblemLedger)
	if !ok || len(open) == 0 {
		return
	}
	now := h.now()
	for _, p := range ledger.Resolved(open, ledger.CheckedOf(r, fullScope)) {
		m := alert.ResolvedMessage(alert.Resolution{
			Account: h.AccountID, Item: p.Item, Kind: p.Kind, DedupKey: p.AlertID, Thread: p.Thread,
			Severity: p.Severity, Since: p.Since, At: now, Trigger: r.Cause.Trigger,
		})
		a := &ledger.Alert{Subject: m.Subject, Body: m.Body, Attributes: m.Attributes, Severity: m.Severity}
		pctx, cancel := h.publishContext(ctx)
		err := pl.Resolve(pctx, p, a, now)
		if err != nil {
			cancel()
			if errors.Is(err, ledger.ErrDuplicate) {
				log.InfoContext(ctx, "problem already resolved", "item", p.Item, "kind", p.Kind)
			} else {
				log.WarnContext(ctx, "recording a resolution: the problem stays open", "item", p.Item, "kind", p.Kind, "error", err)
			}
			continue
		}
		m.Attributes = a.Attributes // with the resolution's own alert ID
		id, err := alert.SendID(pctx, h.Publisher, h.TopicARN, m)
		if err == nil {
			h.alertMetric(ctx, log, true, m.Severity)
			err = h.Ledger.Delivered(pctx, *a, id, h.now())
		} else if ferr := h.Ledger.Failed(pctx, *a, err); ferr != nil {
			log.WarnContext(ctx, "recording the failed resolution", "error", ferr)
		}
		cancel()
		if err != nil {
			log.WarnContext(ctx, "publishing a resolution: the outbox keeps it for the next run", "item", p.Item, "kind", p.Kind, "error", err)
			continue
		}
		log.InfoContext(ctx, "problem resolved", "item", p.Item, "kind", p.Kind, "dedupKey", p.AlertID, "lasted", now.Sub(p.Since).String())
	}
}
