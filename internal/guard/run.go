package guard

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/metrics"
	"github.com/dhmc-guard/dhmc-guard/internal/reconcile"
	"github.com/dhmc-guard/dhmc-guard/internal/trigger"
)

// ignored answers an event that asks for no work. A failed call that is
// not a denial changed nothing and pages nobody, but it is counted, so a
// storm of them shows on the dashboard.
func (h *Handler) ignored(ctx context.Context, log *slog.Logger, req trigger.Request) Response {
	if req.Cause.ErrorCode != "" {
		log.InfoContext(ctx, "failed call ignored", "reason", req.Reason, "errorCode", req.Cause.ErrorCode)
		if err := metrics.EmitFailedCall(h.Metrics, req.Cause, h.now()); err != nil {
			log.WarnContext(ctx, "writing metrics", "error", err)
		}
	} else {
		log.DebugContext(ctx, "event ignored", "reason", req.Reason)
	}
	return Response{Status: StatusIgnored, Reason: req.Reason}
}

// denied alerts on a refused attempt against the DHMC role or setting,
// through the windows: attempts by one actor are aggregated. The call
// changed nothing, so nothing is read or repaired.
func (h *Handler) denied(ctx context.Context, log *slog.Logger, req trigger.Request) (any, error) {
	r := &dhmc.Report{
		Cause:     req.Cause,
		AccountID: h.AccountID,
		Mode:      string(dhmc.ModeCheck),
		StartedAt: h.now().UTC().Format(time.RFC3339),
		Calls:     map[string]int{},
	}
	log.InfoContext(ctx, "denied attempt on DHMC", "reason", req.Reason, "errorCode", req.Cause.ErrorCode)
	runCtx, cancel := h.runContext(ctx)
	defer cancel()
	h.flushOutbox(runCtx, ctx, log)
	if err := h.notify(ctx, log, r, nil, nil, nil); err != nil {
		return nil, err
	}
	h.record(ctx, log, r)
	return Response{Status: StatusDenied, Reason: req.Reason, Report: r}, nil
}

func (h *Handler) reconcile(ctx context.Context, log *slog.Logger, req trigger.Request) (any, error) {
	mode := req.Mode
	if mode == "" {
		mode = h.Mode
	}
	runCtx, cancel := h.runContext(ctx)
	defer cancel()
	flush := h.startFlush(runCtx, ctx, log)
	ahead := h.startReadAhead(runCtx, ctx, log, req.Cause)
	defer ahead.get()
	// The alert is recorded as the repair starts, beside it (intent.go).
	var intent *intending
	report, err := h.Runner.Run(runCtx, reconcile.Scope{
		Regions:   req.Regions,
		Policies:  req.Policies,
		Mode:      mode,
		Cause:     req.Cause,
		HoldBack:  flush.holdBack(h.now()),
		Memory:    h.regionsMemory(ctx, log),
		Repairing: h.repairing(ctx, ahead, flush, &intent),
	})
	flush.wait()
	if err != nil {
		if intent != nil {
			h.abandon(ctx, log, intent)
		}
		return nil, fmt.Errorf("reconciling (%s): %w", req.Cause.Trigger, err)
	}
	if report.AccountID == "" {
		report.AccountID = h.AccountID
	}

	if err := metrics.Emit(h.Metrics, report, h.now()); err != nil {
		log.WarnContext(ctx, "writing metrics", "error", err)
	}
	h.logReport(ctx, log, report)

	recorded := h.startRecord(ctx, log, report)
	alertErr := h.notify(ctx, log, report, ahead, flush.box.Open, intent)
	recorded()
	h.resolve(ctx, log, report, flush.box.Open, len(req.Regions) == 0)
	h.toCentral(ctx, log, report)
	h.toSecurityHub(ctx, log, report)
	if why := report.RegionsUnlisted(); why != "" {
		// After the alert and the record: the typed error names the one
		// prerequisite that failed, whatever else the run did.
		return nil, &RegionsUnlistedError{Why: why, Failed: failures(report), Alert: alertErr}
	}
	if report.Failed() {
		// The alert carries the details; the error makes the invocation
		// count as failed for retries, the failure queue and the alarm.
		return nil, &RepairError{Failed: failures(report), Alert: alertErr}
	}
	if alertErr != nil {
		return nil, alertErr
	}
	if req.Manual {
		return report, nil
	}
	return Response{Status: StatusReconciled, Report: report}, nil
}

// logReport writes the run once, whole (removed inline policies' documents
// included, in several lines if one would be cut), before anything is published: if every other channel fails,
// the log still holds what was done. Compliant runs log only the summary.
func (h *Handler) logReport(ctx context.Context, log *slog.Logger, r *dhmc.Report) {
	attrs := []any{
		"mode", r.Mode, "regions", len(r.Regions), "findings", len(r.Results), "failed", r.Failed(),
		"reads", r.Reads, "writes", r.Writes, "durationMs", r.DurationMs,
	}
	if r.Drifted() || r.Failed() {
		logReportParts(ctx, log, r, attrs)
		return
	}
	log.InfoContext(ctx, "run finished", attrs...)
}

// failures lists what failed, one short line each, for the error message.
func failures(r *dhmc.Report) []string {
	var out []string
	for _, e := range r.Errors {
		out = append(out, fmt.Sprintf("reading %s: %s", e.Region, e.Error))
	}
	for _, x := range r.Results {
		if x.Outcome != dhmc.OutcomeFailed {
			continue
		}
		where := x.Region
		if where == "" {
			where = "role"
		}
		out = append(out, fmt.Sprintf("%s %s (%s): %s", x.Action, x.Target, where, x.Error))
	}
	return out
}
