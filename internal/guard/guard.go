// Package guard is the Lambda handler: it turns one invocation into a scope
// (trigger), reads and repairs that scope (reconcile), tells on-call through
// the alert windows (alert, ledger) and leaves metrics in the log (metrics).
// Every trigger goes down the same path; only the scope differs. It decides
// nothing about DHMC itself.
package guard

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/alert"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
	"github.com/dhmc-guard/dhmc-guard/internal/reconcile"
	"github.com/dhmc-guard/dhmc-guard/internal/trigger"
)

// Runner carries out one reconcile run; *reconcile.Reconciler is one.
type Runner interface {
	Run(ctx context.Context, s reconcile.Scope) (*dhmc.Report, error)
}

// Handler holds what one invocation needs. Build it once in main.
type Handler struct {
	Runner    Runner
	Publisher alert.Publisher
	TopicARN  string
	AccountID string
	// Mode is the deployment's mode, used unless a manual invoke asks for
	// check or remediate.
	Mode    dhmc.Mode
	Trigger trigger.Config
	Log     *slog.Logger
	// Metrics receives the EMF records (stdout in Lambda, so CloudWatch
	// Logs extracts them).
	Metrics io.Writer
	Now     func() time.Time

	// Ledger remembers runs and alert groups (dedup windows, digests, flap
	// escalation, the outbox); nil sends every alert and records nothing.
	Ledger Ledger
	// Policy holds the alert windows; the zero value is alerting.md's.
	Policy ledger.Policy
	// Failures receives a run's report when its alert cannot be published,
	// so nothing is lost even before Lambda's own retries give up.
	Failures        FailureSender
	FailureQueueURL string
	// Central, if set, also sends runs that found something to the
	// organisation's central view.
	Central Central
	// SecurityHub, if set, upserts one finding per item checked into the
	// account's Security Hub (securityhub.go).
	SecurityHub *SecurityHub
	// Reserve is kept before Lambda's deadline for publishing and
	// returning; default 10% of the time left, from 2 s to 15 s.
	Reserve time.Duration
	// PublishTimeout bounds each publish, whatever the run's context
	// (default 5 s).
	PublishTimeout time.Duration
}

// Status says what an invocation did.
type Status string

const (
	StatusReconciled Status = "reconciled"
	StatusIgnored    Status = "ignored"
	StatusDenied     Status = "denied"
	StatusSummarised Status = "summarised"
)

// Response is what an event invocation returns. A manual invocation returns
// the bare report instead, since that is what the operator asked for.
type Response struct {
	Status Status       `json:"status"`
	Reason string       `json:"reason,omitempty"`
	Report *dhmc.Report `json:"report,omitempty"`
}

// Invoke makes Handler a lambda.Handler, so the raw payload reaches the
// trigger parser as it came: malformed JSON then fails with the parser's
// clear InputError, not the runtime's generic decoding error.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	out, err := h.Handle(ctx, payload)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(out)
	if err == nil {
		b, err = boundResponse(out, b)
	}
	if err != nil {
		return nil, fmt.Errorf("encoding the result: %w", err)
	}
	return b, nil
}

// Handle routes one invocation and returns its result value.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (any, error) {
	req, err := trigger.Parse(raw, h.Trigger)
	if err != nil {
		return nil, err
	}
	log := h.Log.With("trigger", req.Cause.Trigger)
	if req.Cause.EventName != "" {
		log = log.With("event", req.Cause.EventName, "eventId", req.Cause.EventID, "actor", req.Cause.Actor)
	}

	switch req.Action {
	case trigger.ActionIgnore:
		return h.ignored(ctx, log, req), nil
	case trigger.ActionDenied:
		return h.denied(ctx, log, req)
	case trigger.ActionReconcile:
		return h.reconcile(ctx, log, req)
	case trigger.ActionHistory:
		return h.history(ctx, req)
	case trigger.ActionSummary:
		return h.summary(ctx, log, req)
	default:
		return nil, fmt.Errorf("trigger returned unknown action %q", req.Action)
	}
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}
