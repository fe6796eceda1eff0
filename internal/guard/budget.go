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
	// lastWords is kept even from a publish: returning the result.
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
// even when the run's context is spent, and ends before Lambda's deadline.
func (h *Handler) publishContext(ctx context.Context) (context.Context, context.CancelFunc) {
	timeout := h.PublishTimeout
	if timeout <= 0 {
		timeout = defaultPublishTimeout
	}
	if deadline, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(deadline)-lastWords)
	}
	return context.WithTimeout(context.WithoutCancel(ctx), max(timeout, lastWords))
}
