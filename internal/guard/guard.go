// Package guard is the Lambda handler: it turns one invocation into a scope
// (trigger), reads and repairs that scope (reconcile), tells on-call (alert)
// and leaves metrics in the log (metrics). Every trigger goes down the same
// path; only the scope differs.
package guard

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/alert"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/metrics"
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
}

// Status says what an invocation did.
type Status string

const (
	StatusReconciled Status = "reconciled"
	StatusIgnored    Status = "ignored"
	StatusDenied     Status = "denied"
)

// Response is what an event invocation returns. A manual invocation returns
// the bare report instead, since that is what the operator asked for.
type Response struct {
	Status Status       `json:"status"`
	Reason string       `json:"reason,omitempty"`
	Report *dhmc.Report `json:"report,omitempty"`
}

// RepairError is returned when a repair or a read failed, after the alert was
// sent, so EventBridge's async retries and the on-failure destination apply.
// Its name is the errorType on-call sees in Lambda's output.
type RepairError struct {
	Failed []string
}

func (e *RepairError) Error() string {
	return "dhmc-guard could not complete the run: " + strings.Join(e.Failed, "; ")
}

// AlertError is returned when the alert could not be published: the drift
// was handled but nobody was told, which must not pass silently.
type AlertError struct{ Err error }

func (e *AlertError) Error() string { return "publishing alert: " + e.Err.Error() }
func (e *AlertError) Unwrap() error { return e.Err }

// Invoke makes Handler a lambda.Handler, so the raw payload reaches the
// trigger parser as it came: malformed JSON then fails with the parser's
// clear InputError, not the runtime's generic decoding error.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	out, err := h.Handle(ctx, payload)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(out)
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
		if req.Cause.ErrorCode != "" {
			// A failed call that is not a denial: nothing changed and nobody
			// is paged, but it is counted, so a storm of them shows.
			log.InfoContext(ctx, "failed call ignored", "reason", req.Reason, "errorCode", req.Cause.ErrorCode)
			if err := metrics.EmitFailedCall(h.Metrics, req.Cause, h.now()); err != nil {
				log.WarnContext(ctx, "writing metrics", "error", err)
			}
		} else {
			log.DebugContext(ctx, "event ignored", "reason", req.Reason)
		}
		return Response{Status: StatusIgnored, Reason: req.Reason}, nil
	case trigger.ActionDenied:
		return h.denied(ctx, log, req)
	case trigger.ActionReconcile:
		return h.reconcile(ctx, log, req)
	default:
		return nil, fmt.Errorf("trigger returned unknown action %q", req.Action)
	}
}

// denied alerts on a failed attempt against the DHMC role or setting. The
// call changed nothing, so nothing is read or repaired.
func (h *Handler) denied(ctx context.Context, log *slog.Logger, req trigger.Request) (any, error) {
	r := &dhmc.Report{
		Cause:     req.Cause,
		AccountID: h.AccountID,
		Mode:      string(dhmc.ModeCheck),
		StartedAt: h.now().UTC().Format(time.RFC3339),
		Calls:     map[string]int{},
	}
	log.InfoContext(ctx, "denied attempt on DHMC", "reason", req.Reason, "errorCode", req.Cause.ErrorCode)
	if err := h.publish(ctx, r); err != nil {
		return nil, err
	}
	return Response{Status: StatusDenied, Reason: req.Reason, Report: r}, nil
}

func (h *Handler) reconcile(ctx context.Context, log *slog.Logger, req trigger.Request) (any, error) {
	mode := req.Mode
	if mode == "" {
		mode = h.Mode
	}
	report, err := h.Runner.Run(ctx, reconcile.Scope{
		Regions:  req.Regions,
		Policies: req.Policies,
		Mode:     mode,
		Cause:    req.Cause,
	})
	if err != nil {
		return nil, fmt.Errorf("reconciling (%s): %w", req.Cause.Trigger, err)
	}
	if report.AccountID == "" {
		report.AccountID = h.AccountID
	}

	if err := metrics.Emit(h.Metrics, report, h.now()); err != nil {
		log.WarnContext(ctx, "writing metrics", "error", err)
	}
	log.InfoContext(ctx, "run finished",
		"mode", report.Mode,
		"regions", len(report.Regions),
		"findings", len(report.Results),
		"failed", report.Failed(),
		"reads", report.Reads,
		"writes", report.Writes,
		"durationMs", report.DurationMs,
	)

	alertErr := h.publish(ctx, report)
	if report.Failed() {
		// The alert carries the details; the error makes the invocation
		// count as failed for retries, the failure queue and the alarm.
		rerr := &RepairError{Failed: failures(report)}
		if alertErr != nil {
			return nil, fmt.Errorf("%w; also %w", rerr, alertErr)
		}
		return nil, rerr
	}
	if alertErr != nil {
		return nil, alertErr
	}
	if req.Manual {
		return report, nil
	}
	return Response{Status: StatusReconciled, Report: report}, nil
}

func (h *Handler) publish(ctx context.Context, r *dhmc.Report) error {
	msg, ok := alert.Compose(r)
	if !ok {
		return nil
	}
	if err := alert.Send(ctx, h.Publisher, h.TopicARN, msg); err != nil {
		return &AlertError{Err: err}
	}
	return nil
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
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
