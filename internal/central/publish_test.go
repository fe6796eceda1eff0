package central

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// bus is a stand-in event bus that keeps the events it accepted and
// refuses entries as EventBridge does: HTTP 200, FailedEntryCount and a
// per-entry error code. (The emulator has no EventBridge; the conformance
// tests publish to moto's.)
type bus struct {
	accepted []ebtypes.PutEventsRequestEntry
	refuse   []string // error codes for the next entries, in turn
	calls    int
}

func (b *bus) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	b.calls++
	out := &eventbridge.PutEventsOutput{}
	for _, e := range in.Entries {
		if len(b.refuse) > 0 {
			code := b.refuse[0]
			b.refuse = b.refuse[1:]
			out.FailedEntryCount++
			out.Entries = append(out.Entries, ebtypes.PutEventsResultEntry{ErrorCode: aws.String(code), ErrorMessage: aws.String("refused")})
			continue
		}
		b.accepted = append(b.accepted, e)
		out.Entries = append(out.Entries, ebtypes.PutEventsResultEntry{EventId: aws.String("id")})
	}
	return out, nil
}

func noSleep(context.Context, time.Duration) error { return nil }

func drifted() *dhmc.Report {
	return report("2026-03-10T10:00:00Z", finding("eu-west-1", dhmc.KindSettingDisabled, dhmc.OutcomeDone))
}

func TestPublishRunRetriesTransientEntryFailuresOnly(t *testing.T) {
	tests := []struct {
		name      string
		refuse    []string
		delivered int
		calls     int
		wantErr   bool
	}{
		{"accepted", nil, 1, 1, false},
		{"throttled once, then accepted", []string{"ThrottlingException"}, 1, 2, false},
		{"internal failure every time", []string{"InternalFailure", "InternalFailure", "InternalFailure"}, 0, putAttempts, true},
		{"access denied is final", []string{"AccessDeniedException"}, 0, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &bus{refuse: tt.refuse}
			p := Publisher{Config: Config{BusARN: goodBus}, Bus: b, Sleep: noSleep}
			err := p.PublishRun(t.Context(), drifted())
			if len(b.accepted) != tt.delivered || b.calls != tt.calls {
				t.Errorf("delivered %d in %d calls, want %d in %d", len(b.accepted), b.calls, tt.delivered, tt.calls)
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			var pe *PublishError
			if err != nil && (!errors.As(err, &pe) || pe.Target != goodBus || pe.What != DetailTypeRunReport) {
				t.Errorf("err = %T %v, want a PublishError naming the bus", err, err)
			}
		})
	}
}

func TestPublishRunSendsNothingForACompliantRun(t *testing.T) {
	b := &bus{}
	p := Publisher{Config: Config{BusARN: goodBus, TopicARN: goodTopic}, Bus: b}
	if err := p.PublishRun(t.Context(), report("2026-03-10T10:00:00Z")); err != nil || b.calls != 0 {
		t.Errorf("err %v, %d calls", err, b.calls)
	}
}

func TestPublishSendsAlertsAndSummariesToTheCentralTopic(t *testing.T) {
	emu := awsemu.StartTest(t)
	topic := emu.CreateTopic("210987654321", "eu-central-1", "dhmc-central")
	cfg := Config{BusARN: goodBus, TopicARN: topic}
	client := sns.NewFromConfig(aws.Config{
		Region:       cfg.TopicRegion(),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDCENTRAL", "secret", ""),
		BaseEndpoint: aws.String(emu.URL()),
	})
	b := &bus{}
	p := Publisher{Config: cfg, Bus: b, Topic: client}
	if err := p.PublishRun(t.Context(), drifted()); err != nil {
		t.Fatal(err)
	}
	if err := p.PublishSummary(t.Context(), BuildSummary(time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), []dhmc.Report{*drifted()})); err != nil {
		t.Fatal(err)
	}
	msgs := emu.Messages()
	if len(msgs) != 2 || len(b.accepted) != 2 {
		t.Fatalf("%d messages, %d events; want 2 of each", len(msgs), len(b.accepted))
	}
	if got := aws.ToString(b.accepted[1].DetailType); got != DetailTypeDailySummary {
		t.Errorf("second event is a %s", got)
	}
	for i, wantSeverity := range []string{"medium", "low"} {
		m := msgs[i]
		if m.TopicARN != topic || m.Attributes["account"] != acct || m.Attributes["severity"] != wantSeverity {
			t.Errorf("message %d: %+v", i, m)
		}
		var card map[string]any
		if err := json.Unmarshal([]byte(m.For("https")), &card); err != nil || card["source"] != "custom" {
			t.Errorf("message %d: chat subscribers get %q", i, m.For("https"))
		}
	}
}

func TestPublishReportsATopicFailureAndStillUsesTheBus(t *testing.T) {
	emu := awsemu.StartTest(t)
	client := sns.NewFromConfig(aws.Config{
		Region:           "eu-central-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDCENTRAL", "secret", ""),
		BaseEndpoint:     aws.String(emu.URL()),
		RetryMaxAttempts: 1,
	})
	b := &bus{}
	p := Publisher{Config: Config{BusARN: goodBus, TopicARN: goodTopic}, Bus: b, Topic: client} // the topic does not exist
	err := p.PublishRun(t.Context(), drifted())
	var pe *PublishError
	if !errors.As(err, &pe) || pe.Target != goodTopic {
		t.Fatalf("err = %v, want a PublishError naming the topic", err)
	}
	if len(b.accepted) != 1 {
		t.Errorf("the bus got %d events: a topic failure must not stop it", len(b.accepted))
	}
}
