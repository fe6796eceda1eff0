package guard

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/dhmc-guard/dhmc-guard/internal/alert"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// FailureSender is the one SQS call the failure queue needs.
type FailureSender interface {
	SendMessage(ctx context.Context, params *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// failureRecord is what reaches the failure queue when an alert cannot be
// published: enough for a person to act without the alert.
type failureRecord struct {
	Reason  string       `json:"reason"`
	Subject string       `json:"subject"`
	Report  *dhmc.Report `json:"report,omitempty"`
	// Body stands in for the report when the report is too large.
	Body string `json:"alertBody,omitempty"`
}

// toFailureQueue sends the run's report to the failure queue at once: the
// async retry that would otherwise get there may find the account repaired
// and succeed, and the record of what was wrong would be gone.
func (h *Handler) toFailureQueue(ctx context.Context, log *slog.Logger, r *dhmc.Report, m alert.Message, cause error) {
	if h.Failures == nil || h.FailureQueueURL == "" {
		log.ErrorContext(ctx, "alert lost: no failure queue configured", "subject", m.Subject, "error", cause)
		return
	}
	rec := failureRecord{Reason: "the alert could not be published: " + cause.Error(), Subject: m.Subject, Report: r}
	body, err := json.Marshal(rec)
	if cp := withoutDocuments(r); err == nil && len(body) > maxFailureMessage && cp != nil {
		// Each document stays named (size, SHA-256, where it is kept).
		rec.Report = cp
		body, err = json.Marshal(rec)
	}
	if err == nil && len(body) > maxFailureMessage {
		rec.Report, rec.Body = nil, m.Body
		if len(rec.Body) > maxFailureMessage/2 {
			rec.Body = rec.Body[:maxFailureMessage/2] + "\n[cut to fit the queue; the whole report is in the function's log]"
		}
		body, err = json.Marshal(rec)
	}
	if err != nil {
		log.ErrorContext(ctx, "encoding the failure record", "error", err)
		return
	}
	pctx, cancel := h.publishContext(ctx)
	defer cancel()
	if _, err := h.Failures.SendMessage(pctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(h.FailureQueueURL), MessageBody: aws.String(string(body)),
	}); err != nil {
		log.ErrorContext(ctx, "alert lost: the failure queue refused the report too (it is in this log)", "error", err)
	}
}
