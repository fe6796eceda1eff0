package ledger_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger/ledgertest"
)

func TestABadOutboxEntryIsSkippedAndCounted(t *testing.T) {
	c := emuClient(awsemu.StartTest(t))
	s, _ := ledgertest.NewTable(t, c, ledger.Options{})
	ctx := t.Context()
	a := &ledger.Alert{Subject: "DHMC drift", Body: "b", Severity: ledger.SeverityHigh}
	if err := s.Enqueue(ctx, a, ledgertest.Base); err != nil {
		t.Fatal(err)
	}
	str := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	for _, item := range []map[string]types.AttributeValue{
		// Sorts before the good one: it used to stop the whole read.
		{"pk": str("OUTBOX"), "sk": str("A#0000"), "createdAt": str("not a time"), "subject": str("x")},
		{"pk": str("OUTBOX"), "sk": str("A#0001#forged"), "alertId": str("forged"), "createdAt": str("2026-01-01T00:00:00Z"),
			"subject": str("Pay now"), "body": str("forged"), "severity": str("high"), "status": str("pending")},
	} {
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(ledgertest.TableName(t)), Item: item}); err != nil {
			t.Fatal(err)
		}
	}
	box, err := s.Undelivered(ctx)
	if err != nil {
		t.Fatalf("one bad entry failed the read: %v", err)
	}
	if len(box.Alerts) != 1 || box.Alerts[0].ID != a.ID || box.Skipped != 2 || len(box.SkippedKeys) != 2 {
		t.Fatalf("alerts %d (want the good one), skipped %d %v", len(box.Alerts), box.Skipped, box.SkippedKeys)
	}
}

func TestAHistoryCursorIsBoundToItsLedger(t *testing.T) {
	c := emuClient(awsemu.StartTest(t))
	ctx := t.Context()
	now := func() time.Time { return ledgertest.Base.Add(time.Hour) }
	mine, _ := ledgertest.NewTable(t, c, ledger.Options{Account: "111111111111", Now: now})
	for i := range 3 {
		if _, err := mine.RecordRun(ctx, ledgertest.DriftReport(ledgertest.Base.Add(time.Duration(i)*time.Minute), ""), ledgertest.Base); err != nil {
			t.Fatal(err)
		}
	}
	page, err := mine.History(ctx, ledgertest.Base.Add(-time.Hour), 1, "")
	if err != nil || page.Cursor == "" {
		t.Fatalf("first page: %v, cursor %q", err, page.Cursor)
	}
	if _, err := mine.History(ctx, ledgertest.Base.Add(-time.Hour), 1, page.Cursor); err != nil {
		t.Fatalf("own cursor refused: %v", err)
	}
	other, err := ledger.New(c, ledgertest.TableName(t), ledger.Options{Account: "222222222222", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.History(ctx, ledgertest.Base.Add(-time.Hour), 1, page.Cursor); !errors.Is(err, ledger.ErrBadCursor) {
		t.Fatalf("another account's cursor: %v, want ErrBadCursor", err)
	}
	if _, err := mine.ActorHistory(ctx, "x", ledgertest.Base.Add(-time.Hour), 1, page.Cursor); !errors.Is(err, ledger.ErrBadCursor) {
		t.Fatalf("another query's cursor: %v, want ErrBadCursor", err)
	}
}

// A page full of bad entries does not hide the good one after it.
func TestAPageOfBadOutboxEntriesDoesNotHideTheRest(t *testing.T) {
	c := emuClient(awsemu.StartTest(t))
	s, counter := ledgertest.NewTable(t, c, ledger.Options{})
	ctx := t.Context()
	a := &ledger.Alert{Subject: "DHMC drift", Body: "b", Severity: ledger.SeverityHigh}
	if err := s.Enqueue(ctx, a, ledgertest.Base); err != nil {
		t.Fatal(err)
	}
	for i := range 150 {
		item := map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "OUTBOX"}, "sk": &types.AttributeValueMemberS{Value: "A#0000-" + strconv.Itoa(1000+i)},
			"createdAt": &types.AttributeValueMemberS{Value: "bad"},
		}
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(ledgertest.TableName(t)), Item: item}); err != nil {
			t.Fatal(err)
		}
	}
	counter.Total() // resets the count
	box, err := s.Undelivered(ctx)
	if err != nil || len(box.Alerts) != 1 || box.Skipped != 150 || len(box.SkippedKeys) != 10 {
		t.Fatalf("err %v, alerts %d, skipped %d (%d named)", err, len(box.Alerts), box.Skipped, len(box.SkippedKeys))
	}
	if n := counter.Total(); n != 2 {
		t.Errorf("%d queries, want 2 pages", n)
	}
}
