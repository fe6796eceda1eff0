// Package ledgertest is the run ledger's behaviour as a test suite, run
// against any DynamoDB: the project's emulator (internal/ledger's tests)
// and moto (internal/conformance), so the two cannot disagree unnoticed.
package ledgertest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
)

// Counter is the DynamoDB client with a count of calls per operation, so
// the suite can hold the ledger to its call budget on any backend.
type Counter struct {
	ledger.API
	mu    sync.Mutex
	calls map[string]int
}

func (c *Counter) count(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls == nil {
		c.calls = map[string]int{}
	}
	c.calls[op]++
}

// Total returns the number of calls so far and starts counting again.
func (c *Counter) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.calls {
		n += v
	}
	c.calls = nil
	return n
}

func (c *Counter) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.count("GetItem")
	return c.API.GetItem(ctx, in, o...)
}

func (c *Counter) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.count("UpdateItem")
	return c.API.UpdateItem(ctx, in, o...)
}

func (c *Counter) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.count("Query")
	return c.API.Query(ctx, in, o...)
}

func (c *Counter) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	c.count("BatchGetItem")
	return c.API.BatchGetItem(ctx, in, o...)
}

func (c *Counter) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	c.count("BatchWriteItem")
	return c.API.BatchWriteItem(ctx, in, o...)
}

func (c *Counter) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.count("TransactWriteItems")
	return c.API.TransactWriteItems(ctx, in, o...)
}

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

func compliantRunsAreNeverWritten(t *testing.T, c *dynamodb.Client) {
	s, calls := NewTable(t, c, ledger.Options{})
	ctx := t.Context()
	rep := &dhmc.Report{Cause: dhmc.Cause{Trigger: "schedule"}, StartedAt: Base.Format(time.RFC3339), Regions: []string{"eu-west-1"}}
	if _, err := s.RecordRun(ctx, rep, Base); err != nil {
		t.Fatal(err)
	}
	out, err := s.Decide(ctx, ledger.RunInput{Signals: ledger.SignalsOf(rep, nil, Base), Now: Base}, compose)
	if err != nil || out.Alert != nil {
		t.Fatalf("Decide on a compliant run = %+v, %v", out, err)
	}
	box, err := s.Undelivered(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(box.Alerts)+len(box.Digests)+len(box.Backoffs) != 0 {
		t.Errorf("outbox = %+v, want empty", box)
	}
	if n := calls.Total(); n != 1 {
		t.Errorf("a compliant sweep made %d DynamoDB calls, want 1 (the outbox read)", n)
	}
	page, err := s.History(ctx, Base.Add(-time.Hour), 10, "")
	if err != nil || len(page.Runs) != 0 {
		t.Errorf("history = %+v, %v; want nothing", page, err)
	}
}

func historyIsNewestFirstAndPaged(t *testing.T, c *dynamodb.Client) {
	s, _ := NewTable(t, c, ledger.Options{})
	ctx := t.Context()
	for i := range 5 {
		at := Base.Add(time.Duration(i) * time.Hour)
		if _, err := s.RecordRun(ctx, DriftReport(at, "e-"+string(rune('a'+i))), at); err != nil {
			t.Fatal(err)
		}
	}
	failed := DriftReport(Base.Add(5*time.Hour), "e-f")
	failed.Results[0].Outcome, failed.Results[0].Error = dhmc.OutcomeFailed, "AccessDenied"
	if _, err := s.RecordRun(ctx, failed, Base.Add(5*time.Hour)); err != nil {
		t.Fatal(err)
	}
	since := Base.Add(90 * time.Minute)
	var got []time.Time
	cursor := ""
	pages := 0
	for {
		page, err := s.History(ctx, since, 2, cursor)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, r := range page.Runs {
			got = append(got, r.StartedAt)
			if r.Report == nil || r.Report.Cause.EventID != r.EventID || r.Findings != 1 || r.Trigger != "cloudtrail" {
				t.Errorf("run = %+v", r)
			}
		}
		if page.Cursor == "" {
			break
		}
		cursor = page.Cursor
		if pages > 5 {
			t.Fatal("history pages never end")
		}
	}
	want := []time.Time{Base.Add(5 * time.Hour), Base.Add(4 * time.Hour), Base.Add(3 * time.Hour), Base.Add(2 * time.Hour)}
	if len(got) != len(want) {
		t.Fatalf("runs since %v = %v, want %v", since, got, want)
	}
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Errorf("run %d started %v, want %v (newest first)", i, got[i], want[i])
		}
	}
	if pages != 2 {
		t.Errorf("%d pages of 2 for 4 runs, want 2 (no empty last page)", pages)
	}
	first, _ := s.History(ctx, since, 1, "")
	if first.Runs[0].Outcome != ledger.OutcomeFailed {
		t.Errorf("newest run outcome = %s, want failed", first.Runs[0].Outcome)
	}
}

func tamperedCursorsAreRefused(t *testing.T, c *dynamodb.Client) {
	s, _ := NewTable(t, c, ledger.Options{})
	ctx := t.Context()
	for i := range 3 {
		at := Base.Add(time.Duration(i) * time.Minute)
		if _, err := s.RecordRun(ctx, DriftReport(at, "e"), at); err != nil {
			t.Fatal(err)
		}
	}
	page, err := s.History(ctx, Base, 1, "")
	if err != nil || page.Cursor == "" {
		t.Fatalf("first page = %+v, %v", page, err)
	}
	item, err := s.ItemHistory(ctx, "eu-west-1", string(dhmc.KindSettingDisabled), Base, 1, "")
	if err != nil || item.Cursor == "" {
		t.Fatalf("first item page = %+v, %v", item, err)
	}
	flipped := []byte(page.Cursor)
	flipped[3] ^= 1
	for name, cur := range map[string]string{
		"changed":              string(flipped),
		"truncated":            page.Cursor[:len(page.Cursor)-2],
		"not a cursor":         "hello",
		"from another history": item.Cursor,
	} {
		if _, err := s.History(ctx, Base, 1, cur); !errors.Is(err, ledger.ErrBadCursor) {
			t.Errorf("%s cursor: %v, want ErrBadCursor", name, err)
		}
	}
	// A cursor continues its own window, whatever since the next page
	// asks for ("the last 24 h" is another instant on every call).
	next, err := s.History(ctx, Base.Add(time.Hour), 1, page.Cursor)
	if err != nil || len(next.Runs) != 1 || !next.Runs[0].StartedAt.Before(page.Runs[0].StartedAt) {
		t.Errorf("second page with a later since = %+v, %v; want the next older run", next, err)
	}
}

func itemAndActorHistoryAreQueries(t *testing.T, c *dynamodb.Client) {
	s, calls := NewTable(t, c, ledger.Options{})
	ctx := t.Context()
	if _, err := s.RecordRun(ctx, DriftReport(Base, "e-1"), Base); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordRun(ctx, DeniedReport(Base.Add(time.Minute), "e-2"), Base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	calls.Total()
	item, err := s.ItemHistory(ctx, "eu-west-1", string(dhmc.KindSettingDisabled), Base.Add(-time.Hour), 10, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(item.Events) != 1 || item.Events[0].Actor != "role Terraform (session ci-1)" || item.Events[0].Outcome != "done" || item.Events[0].EventID != "e-1" {
		t.Errorf("item history = %+v", item.Events)
	}
	// Another session of the same role is the same actor.
	actor, err := s.ActorHistory(ctx, "arn:aws:sts::123456789012:assumed-role/Terraform/ci-2", Base.Add(-time.Hour), 10, "")
	if err != nil || len(actor.Events) != 1 {
		t.Errorf("actor history = %+v, %v", actor.Events, err)
	}
	denied, err := s.ActorHistory(ctx, malloryARN, Base.Add(-time.Hour), 10, "")
	if err != nil || len(denied.Events) != 1 || denied.Events[0].Type != "denied" || denied.Events[0].ErrorCode != "AccessDenied" || denied.Events[0].EventName != "AttachRolePolicy" {
		t.Errorf("denied history = %+v, %v", denied.Events, err)
	}
	if n := calls.Total(); n != 3 {
		t.Errorf("three histories took %d calls, want 3 Queries", n)
	}
}

func outboxKeepsWhatWasNotDelivered(t *testing.T, c *dynamodb.Client) {
	s, calls := NewTable(t, c, ledger.Options{})
	ctx := t.Context()
	rep := DriftReport(Base, "e-1")
	calls.Total()
	out, err := s.Decide(ctx, ledger.RunInput{Signals: ledger.SignalsOf(rep, nil, Base), Claim: "e-1", Now: Base}, compose)
	if err != nil {
		t.Fatal(err)
	}
	if out.Alert == nil || !out.Recorded || out.Alert.ID == "" {
		t.Fatalf("outcome = %+v, want a recorded alert", out)
	}
	if n := calls.Total(); n != 2 {
		t.Errorf("deciding took %d calls, want 2 (read states, one transaction)", n)
	}
	if err := s.Failed(ctx, *out.Alert, errors.New("SNS is down")); err != nil {
		t.Fatal(err)
	}
	box, err := s.Undelivered(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(box.Alerts) != 1 || box.Alerts[0].ID != out.Alert.ID || box.Alerts[0].Attempts != 1 || box.Alerts[0].LastError != "SNS is down" || box.Alerts[0].Body != out.Alert.Body {
		t.Fatalf("undelivered = %+v, want the alert with one failed attempt", box.Alerts)
	}
	if err := s.Delivered(ctx, box.Alerts[0], "msg-1", Base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	box, err = s.Undelivered(ctx)
	if err != nil || len(box.Alerts) != 0 {
		t.Errorf("after delivery the outbox holds %+v, %v", box.Alerts, err)
	}
	// A failure counted after delivery does not bring it back.
	if err := s.Failed(ctx, *out.Alert, errors.New("late")); err != nil {
		t.Fatal(err)
	}
	if box, _ := s.Undelivered(ctx); len(box.Alerts) != 0 {
		t.Errorf("a delivered alert came back: %+v", box.Alerts)
	}
}

func redeliveredEventSendsNothingTwice(t *testing.T, c *dynamodb.Client) {
	s, _ := NewTable(t, c, ledger.Options{})
	ctx := t.Context()
	rep := DeniedReport(Base, "e-1")
	in := ledger.RunInput{Signals: ledger.SignalsOf(rep, nil, Base), Claim: "e-1", Now: Base}
	first, err := s.Decide(ctx, in, compose)
	if err != nil || first.Alert == nil {
		t.Fatalf("first delivery: %+v, %v", first, err)
	}
	in.Now = Base.Add(2 * time.Minute) // an async retry
	again, err := s.Decide(ctx, in, compose)
	if !errors.Is(err, ledger.ErrDuplicate) || again.Alert != nil {
		t.Errorf("redelivery: %+v, %v; want ErrDuplicate and no alert", again, err)
	}
	if !s.Available() {
		t.Error("a duplicate made the ledger look unavailable")
	}
	box, err := s.Undelivered(ctx)
	if err != nil || len(box.Alerts) != 1 || len(box.Digests) != 0 {
		t.Errorf("outbox = %+v, %v; want the one alert, no digest (the retry counted nothing)", box, err)
	}
	dup := &ledger.Alert{DedupKey: "sweep|eu-west-1|w1", Subject: "s", Body: "b"}
	if err := s.Enqueue(ctx, dup, Base); err != nil {
		t.Fatal(err)
	}
	if err := s.Enqueue(ctx, &ledger.Alert{DedupKey: "sweep|eu-west-1|w1", Subject: "s", Body: "b"}, Base); !errors.Is(err, ledger.ErrDuplicate) {
		t.Errorf("second alert with the same dedup key: %v", err)
	}
}

func repeatsAreCountedAndDigested(t *testing.T, c *dynamodb.Client) {
	s, _ := NewTable(t, c, ledger.Options{})
	ctx := t.Context()
	sent := 0
	for i := range 3 {
		at := Base.Add(time.Duration(i) * 10 * time.Minute)
		rep := DriftReport(at, "")
		rep.Results[0].Outcome = dhmc.OutcomeSkipped // detect mode: no repairs, no flapping
		out, err := s.Decide(ctx, ledger.RunInput{Signals: ledger.SignalsOf(rep, nil, at), Now: at}, compose)
		if err != nil {
			t.Fatal(err)
		}
		if out.Alert != nil {
			sent++
		}
	}
	if sent != 1 {
		t.Errorf("3 repeats in the window sent %d messages, want 1", sent)
	}
	box, err := s.Undelivered(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(box.Digests) != 1 {
		t.Fatalf("digests = %+v, want one pending", box.Digests)
	}
	d := box.Digests[0]
	if d.Count != 2 || !d.Since.Equal(Base.Add(10*time.Minute)) || !d.Due.Equal(Base.Add(time.Hour)) {
		t.Errorf("digest = %+v, want 2 since 09:10, due 10:00", d)
	}
	if due := box.DueDigests(Base.Add(30 * time.Minute)); len(due) != 0 {
		t.Errorf("due before the window closed: %+v", due)
	}
	closeAt := Base.Add(61 * time.Minute)
	if due := box.DueDigests(closeAt); len(due) != 1 {
		t.Fatalf("due after the window closed: %+v", due)
	}
	if err := s.DigestSent(ctx, d, closeAt); err != nil {
		t.Fatal(err)
	}
	box, _ = s.Undelivered(ctx)
	if len(box.Digests) != 0 {
		t.Errorf("a sent digest is still pending: %+v", box.Digests)
	}
	// The digest was the group's message: a repeat right after is counted.
	at := closeAt.Add(time.Minute)
	rep := DriftReport(at, "")
	rep.Results[0].Outcome = dhmc.OutcomeSkipped
	out, err := s.Decide(ctx, ledger.RunInput{Signals: ledger.SignalsOf(rep, nil, at), Now: at}, compose)
	if err != nil || out.Alert != nil {
		t.Errorf("repeat after the digest: %+v, %v; want suppressed", out.Decisions.Groups, err)
	}
}

func flappingEscalatesOnceAndBacksOff(t *testing.T, c *dynamodb.Client) {
	s, _ := NewTable(t, c, ledger.Options{})
	ctx := t.Context()
	p := ledger.DefaultPolicy()
	p.Backoff = true
	var reasons []ledger.Reason
	var flap *ledger.Flap
	for i := range 5 {
		at := Base.Add(time.Duration(i) * 5 * time.Minute)
		rep := DriftReport(at, "")
		out, err := s.Decide(ctx, ledger.RunInput{Signals: ledger.SignalsOf(rep, nil, at), Now: at, Policy: p}, compose)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range out.Decisions.Groups {
			reasons = append(reasons, g.Reason)
			if g.Flap != nil {
				flap = g.Flap
			}
		}
	}
	want := []ledger.Reason{ledger.ReasonFirst, ledger.ReasonSuppressed, ledger.ReasonFlapping, ledger.ReasonSuppressed, ledger.ReasonSuppressed}
	if strings.Join(reasonStrings(reasons), ",") != strings.Join(reasonStrings(want), ",") {
		t.Errorf("reasons = %v, want %v", reasons, want)
	}
	if flap == nil || len(flap.Repairs) != 3 || flap.LikelyCause != ledger.CauseTerraform {
		t.Fatalf("flap = %+v", flap)
	}
	box, err := s.Undelivered(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !box.Backoff("eu-west-1", string(dhmc.KindSettingDisabled), Base.Add(30*time.Minute)) {
		t.Errorf("back-offs = %+v, want eu-west-1 backed off for the window", box.Backoffs)
	}
	if box.Backoff("eu-west-1", string(dhmc.KindSettingDisabled), Base.Add(2*time.Hour)) {
		t.Error("backed off after the window")
	}
}

func deniedAttemptsAggregatePerActor(t *testing.T, c *dynamodb.Client) {
	s, _ := NewTable(t, c, ledger.Options{})
	ctx := t.Context()
	sent := 0
	for i := range 10 {
		at := Base.Add(time.Duration(i) * time.Minute)
		id := "d-" + string(rune('a'+i))
		out, err := s.Decide(ctx, ledger.RunInput{Signals: ledger.SignalsOf(DeniedReport(at, id), nil, at), Claim: id, Now: at}, compose)
		if err != nil {
			t.Fatal(err)
		}
		if out.Alert != nil {
			sent++
		}
	}
	if sent != 1 {
		t.Errorf("10 denied attempts sent %d messages, want 1 (and a digest later)", sent)
	}
	box, err := s.Undelivered(ctx)
	if err != nil || len(box.Digests) != 1 || box.Digests[0].Count != 9 {
		t.Errorf("digest = %+v, %v; want 9 more", box.Digests, err)
	}
}

func reasonStrings(r []ledger.Reason) []string {
	out := make([]string, len(r))
	for i, x := range r {
		out[i] = string(x)
	}
	return out
}
