package ledgertest

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
)

// The open problems are read by the outbox Query itself; Resolve records
// the resolution in the outbox and closes the problem in one transaction,
// and a second Resolve of the same problem is refused (on every backend).
func openProblemsCloseOnce(t *testing.T, c *dynamodb.Client) {
	s, n := NewTable(t, c, ledger.Options{})
	ctx := t.Context()
	at := Base
	p := ledger.Problem{Item: "iam", Kind: "role-unreadable", AlertID: "abc123", Thread: "dhmc-guard-1-iam-role-unreadable", Since: at, Severity: "high"}
	if err := s.OpenProblems(ctx, []ledger.Problem{p}, at); err != nil {
		t.Fatal(err)
	}
	n.Total()
	box, err := s.Undelivered(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if calls := n.Total(); calls != 1 {
		t.Errorf("%d calls to read the outbox and the open problems, want 1", calls)
	}
	if len(box.Open) != 1 || box.Open[0] != p || box.Skipped != 0 {
		t.Fatalf("open %+v (skipped %d), want %+v", box.Open, box.Skipped, p)
	}
	a := &ledger.Alert{Subject: "RESOLVED", Body: "body", Severity: "high"}
	if err := s.Resolve(ctx, p, a, at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if a.ID == "" || a.ID == p.AlertID || a.Attributes["alertId"] != a.ID {
		t.Errorf("resolution ID %q (attributes %v): want its own, not the problem's %q", a.ID, a.Attributes, p.AlertID)
	}
	box, err = s.Undelivered(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(box.Open) != 0 || len(box.Alerts) != 1 || box.Alerts[0].ID != a.ID || box.Skipped != 0 {
		t.Fatalf("after Resolve: open %v, alerts %v, skipped %d; want the resolution pending and nothing open", box.Open, box.Alerts, box.Skipped)
	}
	// Opened again by a racing run and resolved again: refused, closed.
	if err := s.OpenProblems(ctx, []ledger.Problem{p}, at); err != nil {
		t.Fatal(err)
	}
	again := &ledger.Alert{Subject: "RESOLVED", Body: "body", Severity: "high"}
	if err := s.Resolve(ctx, p, again, at.Add(2*time.Hour)); !errors.Is(err, ledger.ErrDuplicate) {
		t.Errorf("second Resolve: %v, want ErrDuplicate", err)
	}
	if box, _ = s.Undelivered(ctx); len(box.Open) != 0 || len(box.Alerts) != 1 {
		t.Errorf("after the refused Resolve: open %v, alerts %d", box.Open, len(box.Alerts))
	}
}
