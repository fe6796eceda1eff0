package guard

import (
	"context"
	"time"
)

// Reserve bounds: enough to publish and return, never most of a short run.
const (
	minReserve            = 2 * time.Second
	maxReserve            = 15 * time.Second
	defaultPublishTimeout = 5 * time.Second
	// lastWords is kept from every publish and ledger call: returning
	// the result.
	lastWords = 200 * time.Millisecond
)

// runContext is the run's share of the invocation: it ends Reserve before
// Lambda's deadline, so that whatever the run meets, the alert is published
// and the result returned before Lambda stops the function.
func (h *Handler) runContext(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	left := time.Until(deadline)
	reserve := h.Reserve
	if reserve <= 0 {
		reserve = min(max(left/10, minReserve), maxReserve)
	}
	if reserve >= left {
		reserve = left / 2
	}
	return context.WithDeadline(ctx, deadline.Add(-reserve))
}

// publishContext is a short context of its own for one publish: it works
// even when the run's context is spent, and ends lastWords before ctx's
// deadline (Lambda's), so that returning the result always fits. When that
// time is gone the context is already done: a call that cannot finish is
// not started.
func (h *Handler) publishContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return h.boundedContext(ctx, 1)
}

// ledgerShare is the part of the time left that the alert windows may take
// before a publish: the ledger fails open, so however slow it is, the
// publish and, if that fails, the failure queue keep the rest.
const ledgerShare = 4

// ledgerContext is the context of the ledger's calls that come before a
// publish (the alert windows): a quarter of the time left at most.
func (h *Handler) ledgerContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return h.boundedContext(ctx, ledgerShare)
}

// boundedContext lasts PublishTimeout, or 1/share of the time left before
// lastWords ahead of ctx's deadline if that is shorter; without ctx's
// cancellation, so it outlives a spent run context, never its deadline.
func (h *Handler) boundedContext(ctx context.Context, share int) (context.Context, context.CancelFunc) {
	timeout := h.PublishTimeout
	if timeout <= 0 {
		timeout = defaultPublishTimeout
	}
	if deadline, ok := ctx.Deadline(); ok {
		timeout = min(timeout, (time.Until(deadline)-lastWords)/time.Duration(share))
	}
	return context.WithTimeout(context.WithoutCancel(ctx), max(timeout, 0))
}
