package central

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/dhmc-guard/dhmc-guard/internal/alert"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// EventPutter is the one EventBridge call the publisher needs.
type EventPutter interface {
	PutEvents(ctx context.Context, params *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// Publisher sends to the central targets of Config. Bus must be a client
// for Config.BusRegion() when BusARN is set, Topic one for
// Config.TopicRegion() when TopicARN is set.
type Publisher struct {
	Config Config
	Bus    EventPutter
	Topic  alert.Publisher
	// Sleep waits between retries of entries EventBridge failed; nil uses
	// a timer that honours ctx.
	Sleep func(context.Context, time.Duration) error
}

// PublishError is a central target that did not take a message; it shows
// as errorType in Lambda's error output.
type PublishError struct {
	Target string // the bus or topic ARN
	What   string // DetailTypeRunReport or DetailTypeDailySummary
	Err    error
}

func (e *PublishError) Error() string {
	return fmt.Sprintf("publishing %s to %s: %v", e.What, e.Target, e.Err)
}

func (e *PublishError) Unwrap() error { return e.Err }

// PublishRun sends r to the central bus and topic when it is Worth it;
// each target is tried, and every failure returned.
func (p Publisher) PublishRun(ctx context.Context, r *dhmc.Report) error {
	if !Worth(r) {
		return nil
	}
	var errs []error
	if p.Config.BusARN != "" {
		entry, _ := RunEvent(p.Config.BusARN, r)
		errs = append(errs, p.put(ctx, entry, DetailTypeRunReport))
	}
	if p.Config.TopicARN != "" {
		if m, ok := alert.Compose(r); ok {
			errs = append(errs, p.publish(ctx, m, DetailTypeRunReport))
		}
	}
	return errors.Join(errs...)
}

// PublishSummary sends s to the central bus and topic.
func (p Publisher) PublishSummary(ctx context.Context, s Summary) error {
	var errs []error
	if p.Config.BusARN != "" {
		entry, err := SummaryEvent(p.Config.BusARN, s)
		if err != nil {
			errs = append(errs, &PublishError{Target: p.Config.BusARN, What: DetailTypeDailySummary, Err: err})
		} else {
			errs = append(errs, p.put(ctx, entry, DetailTypeDailySummary))
		}
	}
	if p.Config.TopicARN != "" {
		errs = append(errs, p.publish(ctx, SummaryMessage(s), DetailTypeDailySummary))
	}
	return errors.Join(errs...)
}

func (p Publisher) publish(ctx context.Context, m alert.Message, what string) error {
	if err := alert.Send(ctx, p.Topic, p.Config.TopicARN, m); err != nil {
		return &PublishError{Target: p.Config.TopicARN, What: what, Err: err}
	}
	return nil
}

// putAttempts bounds the retries of an entry EventBridge failed.
const putAttempts = 3

// put sends one entry. PutEvents answers 200 even when it refused the
// entry: FailedEntryCount and the entry's ErrorCode say so. Internal
// failures and throttling are retried (the SDK retries only whole-call
// errors); any other code is final.
func (p Publisher) put(ctx context.Context, entry ebtypes.PutEventsRequestEntry, what string) error {
	fail := func(err error) error { return &PublishError{Target: p.Config.BusARN, What: what, Err: err} }
	if p.Bus == nil {
		return fail(errors.New("no EventBridge client"))
	}
	for attempt := 1; ; attempt++ {
		out, err := p.Bus.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{entry}})
		if err != nil {
			return fail(err)
		}
		if out.FailedEntryCount == 0 {
			return nil
		}
		code, msg := "", ""
		if len(out.Entries) > 0 {
			code, msg = aws.ToString(out.Entries[0].ErrorCode), aws.ToString(out.Entries[0].ErrorMessage)
		}
		if !retryable(code) || attempt == putAttempts {
			return fail(fmt.Errorf("the bus refused the entry after %d attempt(s): %s", attempt, joinColon(code, msg)))
		}
		if err := p.sleep(ctx, time.Duration(attempt)*200*time.Millisecond); err != nil {
			return fail(err)
		}
	}
}

// retryable are the entry error codes EventBridge documents as transient.
func retryable(code string) bool {
	switch code {
	case "InternalFailure", "ThrottlingException", "":
		return true
	}
	return false
}

func (p Publisher) sleep(ctx context.Context, d time.Duration) error {
	if p.Sleep != nil {
		return p.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func joinColon(code, msg string) string {
	switch {
	case code == "":
		return "no error code"
	case msg == "":
		return code
	}
	return code + ": " + msg
}
