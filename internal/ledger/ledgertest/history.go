package ledgertest

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
)

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
