package guard

import (
	"context"
	"log/slog"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/reconcile"
)

// RegionsLedger is the part of the ledger that keeps the last good list of
// enabled Regions; *ledger.Store is one. A Ledger without it keeps none.
type RegionsLedger interface {
	LastRegions(ctx context.Context, now time.Time) ([]string, time.Time, error)
	KeepRegions(ctx context.Context, regions []string, now time.Time) error
}

// regionsMemory is the reconciler's RegionsMemory on the ledger, nil when
// there is no ledger or it keeps no Region list. Its calls are bounded like
// the ledger's other calls before a publish, and their failures are logged:
// a Region list that cannot be kept or read never stops a run.
func (h *Handler) regionsMemory(ctx context.Context, log *slog.Logger) reconcile.RegionsMemory {
	rl, ok := h.Ledger.(RegionsLedger)
	if !ok {
		return nil
	}
	return &ledgerRegions{h: h, rl: rl, log: log, logCtx: ctx}
}

type ledgerRegions struct {
	h      *Handler
	rl     RegionsLedger
	log    *slog.Logger
	logCtx context.Context
}

func (m *ledgerRegions) LastRegions(ctx context.Context) ([]string, error) {
	lctx, cancel := m.h.ledgerContext(ctx)
	defer cancel()
	regions, at, err := m.rl.LastRegions(lctx, m.h.now())
	if err != nil {
		m.log.WarnContext(m.logCtx, "reading the last good Region list", "error", err)
		return nil, err
	}
	if len(regions) == 0 {
		m.log.WarnContext(m.logCtx, "Regions could not be listed, and the ledger keeps no last good list")
		return nil, nil
	}
	m.log.InfoContext(m.logCtx, "Regions could not be listed: using the last good list", "regions", len(regions), "keptAt", at)
	return regions, nil
}

func (m *ledgerRegions) KeepRegions(ctx context.Context, regions []string) error {
	lctx, cancel := m.h.ledgerContext(ctx)
	defer cancel()
	err := m.rl.KeepRegions(lctx, regions, m.h.now())
	if err != nil {
		m.log.WarnContext(m.logCtx, "keeping the Region list in the ledger", "error", err)
	}
	return err
}
