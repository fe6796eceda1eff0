package ledgertest

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
)

// The alert recorded as the repair starts (ledger intent), held on every
// backend: its transactions write several items at once, conditioned on
// what the first wrote, which DynamoDB refuses for two operations on one
// item; moto and the emulator must both take them.

func driftInput(at time.Time) ledger.RunInput {
	return ledger.RunInput{Signals: ledger.SignalsOf(DriftReport(at, ""), nil, at), Now: at}
}

// failedInput is driftInput with the repair failed: high, not repaired.
func failedInput(at time.Time) ledger.RunInput {
	r := DriftReport(at, "")
	r.Results[0].Outcome, r.Results[0].Error = dhmc.OutcomeFailed, "AccessDenied"
	return ledger.RunInput{Signals: ledger.SignalsOf(r, nil, at), Now: at}
}

// composeSev is compose with the severity in the body, as a real message
// says what was done.
func composeSev(d ledger.Decisions) *ledger.Alert {
	a := compose(d)
	if a != nil {
		a.Body += " " + a.Severity
	}
	return a
}

// An intent whose outcome came as expected is confirmed without a write:
// the outbox already holds the alert, flagged Expected until delivered.
func intentConfirmedWritesNothingMore(t *testing.T, c *dynamodb.Client) {
	s, n := NewTable(t, c, ledger.Options{})
	ctx := t.Context()
	it, err := s.DecideIntent(ctx, driftInput(Base), nil, compose)
	if err != nil || it == nil || !it.Outcome.Recorded || !it.Outcome.Alert.Expected {
		t.Fatalf("intent %+v, %v: want one recorded, flagged expected", it, err)
	}
	box, _ := s.Undelivered(ctx)
	if len(box.Alerts) != 1 || !box.Alerts[0].Expected {
		t.Fatalf("outbox %+v, want the intent's alert flagged expected", box.Alerts)
	}
	before := n.Count("TransactWriteItems")
	out, err := s.Confirm(ctx, it, driftInput(Base), compose)
	if err != nil || out.Alert == nil || out.Alert.ID != it.Outcome.Alert.ID || out.Alert.Expected || !out.Recorded {
		t.Fatalf("confirmed %+v, %v: want the recorded alert, confirmed", out.Alert, err)
	}
	if w := n.Count("TransactWriteItems") - before; w != 0 {
		t.Errorf("confirming as expected wrote %d transactions, want none", w)
	}
	if err := s.Delivered(ctx, *out.Alert, "m-1", Base); err != nil {
		t.Fatal(err)
	}
	if box, _ := s.Undelivered(ctx); len(box.Alerts) != 0 {
		t.Errorf("outbox after delivery: %+v", box.Alerts)
	}
}

// An intent whose outcome differs is replaced in one transaction: the
// outbox holds the real alert alone, confirmed, and the window states are
// the real outcome's — a later run decides as if the expected outcome had
// never been recorded.
func intentWithAnotherOutcomeIsReplaced(t *testing.T, c *dynamodb.Client) {
	s, n := NewTable(t, c, ledger.Options{})
	ctx := t.Context()
	it, err := s.DecideIntent(ctx, driftInput(Base), nil, composeSev)
	if err != nil || it == nil {
		t.Fatal(it, err)
	}
	before := n.Count("TransactWriteItems")
	out, err := s.Confirm(ctx, it, failedInput(Base), composeSev)
	if err != nil || out.Alert == nil || !out.Recorded || out.Alert.ID == it.Outcome.Alert.ID || out.Alert.Severity != ledger.SeverityHigh {
		t.Fatalf("replaced %+v, %v: want the failure's alert, recorded", out.Alert, err)
	}
	if w := n.Count("TransactWriteItems") - before; w != 1 {
		t.Errorf("replacing took %d transactions, want one", w)
	}
	box, _ := s.Undelivered(ctx)
	if len(box.Alerts) != 1 || box.Alerts[0].ID != out.Alert.ID || box.Alerts[0].Expected || box.Alerts[0].Body != out.Alert.Body {
		t.Fatalf("outbox %+v, want the replacement alone, confirmed", box.Alerts)
	}
	// The group was told high: a high repeat within the window is held
	// back, a medium one (severity changed) is sent.
	later := Base.Add(time.Minute)
	if o, err := s.Decide(ctx, failedInput(later), compose); err != nil || o.Alert != nil {
		t.Errorf("a high repeat: %+v, %v; want it held back", o.Alert, err)
	}
	if o, err := s.Decide(ctx, driftInput(later.Add(time.Minute)), compose); err != nil || o.Alert == nil {
		t.Errorf("a medium one after the high: %+v, %v; want it sent", o.Alert, err)
	}
}

// An intent undone (the run reported nothing after all) leaves every state
// as it was read: the group told before the intent is told again when its
// window closes, and no repair is counted.
func intentUndoneRestoresTheStatesRead(t *testing.T, c *dynamodb.Client) {
	s, _ := NewTable(t, c, ledger.Options{})
	ctx := t.Context()
	if _, err := s.Decide(ctx, driftInput(Base), compose); err != nil {
		t.Fatal(err)
	}
	t2 := Base.Add(2 * time.Hour)
	it, err := s.DecideIntent(ctx, driftInput(t2), nil, compose)
	if err != nil || it == nil || it.Outcome.Alert == nil {
		t.Fatalf("intent %+v, %v: want an alert (the window closed)", it, err)
	}
	if _, err := s.Confirm(ctx, it, ledger.RunInput{}, nil); err != nil {
		t.Fatal(err)
	}
	if box, _ := s.Undelivered(ctx); len(box.Alerts) != 1 || box.Alerts[0].ID == it.Outcome.Alert.ID {
		t.Fatalf("outbox %+v, want the first alert alone (never delivered), the intent's gone", box.Alerts)
	}
	// Had the intent's claim been left, this would be held back as a
	// repeat of a message sent at t2.
	o, err := s.Decide(ctx, driftInput(t2.Add(time.Minute)), compose)
	if err != nil || o.Alert == nil || o.Decisions.Groups[0].Reason != ledger.ReasonWindowClosed {
		t.Fatalf("after the undo: %+v, %v; want it sent, the window closed", o.Decisions.Groups, err)
	}
	// One repair at Base (first Decide), one now: the undone one not counted.
	if f := o.Decisions.Flaps; len(f) != 1 || len(f[0].Repairs) != 2 {
		t.Errorf("flap state %+v, want two repairs counted", f)
	}
}
