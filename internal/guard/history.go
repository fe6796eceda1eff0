package guard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/central"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
	"github.com/dhmc-guard/dhmc-guard/internal/trigger"
)

// ErrNoLedger is returned by history when the deployment has no ledger.
var ErrNoLedger = errors.New("no run ledger is configured (DHMC_LEDGER_TABLE)")

// history answers {"action":"history"} with one page of the ledger's runs,
// newest first; the cursor continues it.
func (h *Handler) history(ctx context.Context, req trigger.Request) (any, error) {
	if h.Ledger == nil {
		return nil, ErrNoLedger
	}
	q := req.History
	page, err := h.Ledger.History(ctx, h.now().Add(-q.Since), q.Limit, q.Cursor)
	switch {
	case errors.Is(err, ledger.ErrBadCursor):
		// The caller's input, not the guard's failure.
		return nil, &trigger.InputError{Msg: "history payload: cursor", Err: err}
	case err != nil:
		return nil, fmt.Errorf("reading the run history: %w", err)
	}
	return page, nil
}

// summaryPages bounds the day's history a summary reads.
const summaryPages = 20

// summary sends the last day's runs, as the ledger has them, to the central
// view as one summary.
func (h *Handler) summary(ctx context.Context, log *slog.Logger, req trigger.Request) (any, error) {
	switch {
	case h.Central == nil:
		return Response{Status: StatusIgnored, Reason: "no central view is configured (CentralEventBusArn / CentralTopicArn)"}, nil
	case h.Ledger == nil:
		return nil, ErrNoLedger
	}
	now := h.now()
	var reports []dhmc.Report
	cursor := ""
	for range summaryPages {
		page, err := h.Ledger.History(ctx, now.Add(-24*time.Hour), 100, cursor)
		if err != nil {
			return nil, fmt.Errorf("reading the day's runs: %w", err)
		}
		for _, run := range page.Runs {
			if run.Report != nil {
				reports = append(reports, *run.Report)
			}
		}
		if cursor = page.Cursor; cursor == "" {
			break
		}
	}
	s := central.BuildSummary(now.Add(-24*time.Hour), reports)
	if err := h.Central.PublishSummary(ctx, s); err != nil {
		return nil, fmt.Errorf("publishing the daily summary: %w", err)
	}
	log.InfoContext(ctx, "daily summary sent", "runs", len(reports))
	return Response{Status: StatusSummarised}, nil
}
