// Package ledgertest is the run ledger's behaviour as a test suite, run
// against any DynamoDB: the project's emulator (internal/ledger's tests)
// and moto (internal/conformance), so the two cannot disagree unnoticed.
package ledgertest

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
)

// NewTable creates a fresh ledger table named after the test and returns a
// store on it with its call counter.
func NewTable(t *testing.T, c *dynamodb.Client, opt ledger.Options) (*ledger.Store, *Counter) {
	t.Helper()
	name := TableName(t)
	ctx := t.Context()
	if _, err := c.CreateTable(ctx, ledger.CreateTableInput(name)); err != nil {
		t.Fatalf("creating table %s: %v", name, err)
	}
	if _, err := c.UpdateTimeToLive(ctx, ledger.TimeToLiveInput(name)); err != nil {
		t.Fatalf("enabling TTL on %s: %v", name, err)
	}
	counter := &Counter{API: c}
	s, err := ledger.New(counter, name, opt)
	if err != nil {
		t.Fatal(err)
	}
	return s, counter
}

// TableName is the table NewTable creates for t.
func TableName(t *testing.T) string {
	sum := sha256.Sum256([]byte(t.Name()))
	return "ledger-" + hex.EncodeToString(sum[:6])
}

// Base is the suite's reference time.
var Base = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

const (
	terraformARN = "arn:aws:sts::123456789012:assumed-role/Terraform/ci-1"
	malloryARN   = "arn:aws:iam::123456789012:user/mallory"
)

// DriftReport is a repaired drift in eu-west-1, made by Terraform at at.
func DriftReport(at time.Time, eventID string) *dhmc.Report {
	return &dhmc.Report{
		Cause: dhmc.Cause{
			Trigger: "cloudtrail", EventName: "UpdateServiceSetting", EventSource: dhmc.EventSourceSSM,
			EventID: eventID, EventTime: at.Format(time.RFC3339), Region: "eu-west-1",
			Actor: "role Terraform (session ci-1)", ActorARN: terraformARN, UserAgent: "Terraform/1.9.0 terraform-provider-aws/5.80.0",
		},
		AccountID: "123456789012", Mode: "enforce", StartedAt: at.Format(time.RFC3339),
		Regions: []string{"eu-west-1"},
		Results: []dhmc.Result{{
			Finding: dhmc.Finding{Kind: dhmc.KindSettingDisabled, Region: "eu-west-1", Observed: "$None", Desired: "service-role/X", Action: dhmc.ActionUpdateSetting},
			Outcome: dhmc.OutcomeDone,
		}},
		Calls: map[string]int{"ssm:GetServiceSetting": 1},
	}
}

// DeniedReport is a denied attempt on the role by mallory.
func DeniedReport(at time.Time, eventID string) *dhmc.Report {
	return &dhmc.Report{
		Cause: dhmc.Cause{
			Trigger: "cloudtrail", EventName: "AttachRolePolicy", EventSource: dhmc.EventSourceIAM, EventID: eventID,
			EventTime: at.Format(time.RFC3339), Actor: "user mallory", ActorARN: malloryARN, ErrorCode: "AccessDenied",
		},
		AccountID: "123456789012", Mode: "check", StartedAt: at.Format(time.RFC3339),
	}
}

// compose is the suite's stand-in for the alert package: one message for
// the groups sent now.
func compose(d ledger.Decisions) *ledger.Alert {
	if !d.Send() {
		return nil
	}
	var groups []string
	for _, g := range d.Sending() {
		groups = append(groups, string(g.Group))
	}
	return &ledger.Alert{
		Subject: "DHMC " + string(d.Sending()[0].Reason), Body: strings.Join(groups, "\n"),
		Attributes: map[string]string{"severity": d.Severity()}, Severity: d.Severity(), Groups: groups,
	}
}

// Run runs the ledger suite; newClient returns a client on a DynamoDB whose
// tables the suite may create.
func Run(t *testing.T, newClient func(t *testing.T) *dynamodb.Client) {
	cases := []struct {
		name string
		fn   func(t *testing.T, c *dynamodb.Client)
	}{
		{"CompliantRunsAreNeverWritten", compliantRunsAreNeverWritten},
		{"HistoryIsNewestFirstAndPaged", historyIsNewestFirstAndPaged},
		{"TamperedCursorsAreRefused", tamperedCursorsAreRefused},
		{"ItemAndActorHistoryAreQueries", itemAndActorHistoryAreQueries},
		{"OutboxKeepsWhatWasNotDelivered", outboxKeepsWhatWasNotDelivered},
		{"RedeliveredEventSendsNothingTwice", redeliveredEventSendsNothingTwice},
		{"RepeatsAreCountedAndDigested", repeatsAreCountedAndDigested},
		{"FlappingEscalatesOnceAndBacksOff", flappingEscalatesOnceAndBacksOff},
		{"DeniedAttemptsAggregatePerActor", deniedAttemptsAggregatePerActor},
		{"IntentConfirmedWritesNothingMore", intentConfirmedWritesNothingMore},
		{"IntentWithAnotherOutcomeIsReplaced", intentWithAnotherOutcomeIsReplaced},
		{"IntentUndoneRestoresTheStatesRead", intentUndoneRestoresTheStatesRead},
		{"OpenProblemsCloseOnce", openProblemsCloseOnce},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newClient(t)) })
	}
}
