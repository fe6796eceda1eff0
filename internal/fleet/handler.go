package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
)

// Runner reads the fleet; *Reader is one.
type Runner interface {
	Run(ctx context.Context, regions []string, cause Cause) (*Report, error)
}

// Handler is the fleet function's Lambda handler: input → report → digest,
// metrics and the invocation's result (the report). Build it once in main.
type Handler struct {
	Runner    Runner
	Publisher Publisher
	TopicARN  string
	Log       *slog.Logger
	// Metrics receives the EMF lines (stdout in Lambda).
	Metrics io.Writer
	Now     func() time.Time
}

// ReadError is returned by a scheduled run, after the digest was sent, when
// some Region could not be read completely; its name is the errorType
// on-call sees.
type ReadError struct{ Regions []string }

func (e *ReadError) Error() string {
	return "fleet report incomplete: " + strings.Join(e.Regions, "; ")
}

// DigestError is returned when the digest could not be published.
type DigestError struct{ Err error }

func (e *DigestError) Error() string { return e.Err.Error() }
func (e *DigestError) Unwrap() error { return e.Err }

// Invoke makes Handler a lambda.Handler, so malformed input fails with
// ParseInput's InputError rather than the runtime's decoding error.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	r, err := h.Handle(ctx, payload)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encoding the report: %w", err)
	}
	return b, nil
}

// Handle runs one report. The weekly schedule and an on-demand request
// both publish the digest and write metrics; both return the report.
func (h *Handler) Handle(ctx context.Context, payload []byte) (*Report, error) {
	req, err := ParseInput(payload)
	if err != nil {
		return nil, err
	}
	log := h.Log.With("trigger", req.Cause.Trigger)
	r, err := h.Runner.Run(ctx, req.Regions, req.Cause)
	if err != nil {
		return nil, fmt.Errorf("fleet report (%s): %w", req.Cause.Trigger, err)
	}
	if err := EmitMetrics(h.Metrics, r, h.now()); err != nil {
		log.WarnContext(ctx, "writing metrics", "error", err)
	}
	log.InfoContext(ctx, "fleet report finished",
		"regions", len(r.Regions), "running", r.Totals.Running, "ready", r.Totals.Ready,
		"notReady", r.Totals.NotReady, "migrationCandidates", len(r.MigrationCandidates),
		"reads", r.Reads, "durationMs", r.DurationMs, "failed", r.Failed())
	sendErr := SendWithCard(ctx, h.Publisher, h.TopicARN, Compose(r))
	if sendErr != nil {
		sendErr = &DigestError{Err: sendErr}
	}
	// A scheduled run that could not read everything fails, so the
	// function's error alarm fires; an operator asking on demand gets the
	// partial report, each Region saying what failed.
	if r.Failed() && req.Cause.Trigger == TriggerSchedule {
		var failed []string
		for _, x := range r.Regions {
			if x.Error != "" {
				failed = append(failed, x.Error)
			}
		}
		rerr := &ReadError{Regions: failed}
		if sendErr != nil {
			return nil, fmt.Errorf("%w; also %w", rerr, sendErr)
		}
		return nil, rerr
	}
	if sendErr != nil {
		return nil, sendErr
	}
	return r, nil
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}
