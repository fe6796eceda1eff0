package main_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
	"github.com/dhmc-guard/dhmc-guard/internal/sandbox"
)

// End-to-end tests of issue 14 items 4, 7, 8, 9 and 10: the outbox cannot
// be jammed, event times are sane, a new or worse change speaks at once,
// history input is bounded, and every publish carries its dedup key.

// userDynamo is a DynamoDB client of the emulator's human user, who writes
// the ledger's table behind the guard's back.
func userDynamo(sb *sandbox.Sandbox) *dynamodb.Client {
	return dynamodb.NewFromConfig(sb.UserConfig(sandbox.HomeRegion))
}

func putLedgerItem(t *testing.T, sb *sandbox.Sandbox, item map[string]string) {
	t.Helper()
	m := map[string]types.AttributeValue{}
	for k, v := range item {
		m[k] = &types.AttributeValueMemberS{Value: v}
	}
	if _, err := userDynamo(sb).PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(sandbox.LedgerTable), Item: m}); err != nil {
		t.Fatal(err)
	}
}

// TestABadOutboxItemDoesNotBlockADueRedelivery: an alert stays in the
// outbox (SNS down); then an outbox item with an undecodable createdAt,
// sorting before it, and a forged one are put into the table. The next
// run re-delivers the alert anyway, with the same alertId as the outbox
// recorded, and tells once that two items were skipped; a third run tells
// nothing more (once a day).
func TestABadOutboxItemDoesNotBlockADueRedelivery(t *testing.T) {
	sb, emu := start(t)
	detachManaged(t, sb)
	remove := emu.Inject(awsemu.Fault{Op: "sns:Publish", Kind: awsemu.FaultServerError})
	if res, _ := invokeTimed(t, sb, readEvent(t, "scheduler.json")); res.ErrorType != "AlertError" {
		t.Fatalf("errorType %q (%s), want AlertError", res.ErrorType, res.ErrorMessage)
	}
	remove()
	pending := outboxAlerts(emu)
	if len(pending) != 1 {
		t.Fatalf("outbox holds %d alerts, want the undelivered one", len(pending))
	}
	putLedgerItem(t, sb, map[string]string{"pk": "OUTBOX", "sk": "A#0000-bad", "createdAt": "yesterday-ish", "subject": "x", "alertId": "bad"})
	putLedgerItem(t, sb, map[string]string{
		"pk": "OUTBOX", "sk": "A#0001#forged", "alertId": "forged", "createdAt": "2026-01-01T00:00:00Z",
		"subject": "Urgent: rotate your keys at evil.example", "body": "forged", "severity": "high", "status": "pending",
	})

	if res, _ := invokeTimed(t, sb, readEvent(t, "scheduler.json")); res.ErrorType != "" {
		t.Fatalf("second run: %s %s", res.ErrorType, res.ErrorMessage)
	}
	msgs := emu.Messages()
	var redelivered, note []awsemu.Message
	for _, m := range msgs {
		switch {
		case m.Attributes["redelivered"] == "true":
			redelivered = append(redelivered, m)
		case strings.Contains(m.Subject, "undecodable ledger item(s) skipped"):
			note = append(note, m)
		}
	}
	if len(redelivered) != 1 || len(note) != 1 || len(msgs) != 2 {
		t.Fatalf("messages %q, want the re-delivery and one skipped-items note", subjects(msgs))
	}
	if id := redelivered[0].Attributes[ledger.AttrAlertID]; id == "" || !strings.Contains(pending[0], `"alertId":{"S":"`+id+`"}`) {
		t.Errorf("re-delivery alertId %q is not the recorded alert's", id)
	}
	if !strings.HasPrefix(note[0].Subject, "DHMC ledger: 2 ") || note[0].Attributes["severity"] != "low" ||
		!strings.Contains(note[0].Body, "A#0000-bad") || !strings.Contains(note[0].Body, "A#0001#forged") {
		t.Errorf("note %q (%v) does not name both skipped items at low severity:\n%s", note[0].Subject, note[0].Attributes, note[0].Body)
	}
	for _, m := range msgs {
		if strings.Contains(m.Subject, "evil.example") {
			t.Errorf("the forged item was published: %q", m.Subject)
		}
	}
	if n := len(outboxAlerts(emu)); n != 2 {
		t.Errorf("outbox holds %d items, want only the two bad ones left", n)
	}

	if res, _ := invokeTimed(t, sb, readEvent(t, "scheduler.json")); res.ErrorType != "" {
		t.Fatalf("third run: %s %s", res.ErrorType, res.ErrorMessage)
	}
	if n := len(emu.Messages()); n != 2 {
		t.Errorf("third run: %d messages %q, want no new one (the note is daily)", n, subjects(emu.Messages()))
	}
}

// attachAs attaches policy to the DHMC role as the user.
func attachAs(t *testing.T, sb *sandbox.Sandbox, policy string) {
	t.Helper()
	must(t, func() error {
		_, err := sb.UserIAM().AttachRolePolicy(t.Context(), &iam.AttachRolePolicyInput{
			RoleName: aws.String(sandbox.Desired().RoleName), PolicyArn: aws.String(policy)})
		return err
	})
}

func attachEvent(t *testing.T, policy, eventTime string) []byte {
	return freshEvent(t, "iam-attach-role-policy-admin.json", func(d map[string]any) {
		d["requestParameters"].(map[string]any)["policyArn"] = policy
		if eventTime != "" {
			d["eventTime"] = eventTime
		}
	})
}

// TestEventsDatedFarAwayAreTheRunsTime: AdministratorAccess attached, told
// by an event dated 2099, then again by one dated year 1. Each is repaired
// and alerted; the alert says the time was not believed; no TimeToRepair
// is made up; and the ledger's flap state holds no repair from 2099 or
// year 1 (a 2099 repair would stay in the flap window for ever).
func TestEventsDatedFarAwayAreTheRunsTime(t *testing.T) {
	sb, emu := start(t)
	const admin = "arn:aws:iam::aws:policy/AdministratorAccess"
	cases := []struct{ eventTime, says string }{
		{"2099-01-01T00:00:00Z", "is in the future"},
		{"0001-01-01T00:00:00Z", "is implausibly old"},
	}
	for i, c := range cases {
		attachAs(t, sb, admin)
		before := time.Now().UTC()
		res, _ := invokeTimed(t, sb, attachEvent(t, admin, c.eventTime))
		if res.ErrorType != "" {
			t.Fatalf("%s: %s %s", c.eventTime, res.ErrorType, res.ErrorMessage)
		}
		msgs := emu.Messages()
		if len(msgs) != i+1 {
			t.Fatalf("%s: messages %q, want one more", c.eventTime, subjects(msgs))
		}
		if body := msgs[i].Body; !strings.Contains(body, c.says) {
			t.Errorf("%s: the alert does not say the time %s:\n%s", c.eventTime, c.says, body)
		}
		for _, it := range sandbox.LedgerItems(emu) {
			if strings.Contains(it, `"FLAP#`) && (strings.Contains(it, `"at":{"S":"2099-`) || strings.Contains(it, `"at":{"S":"0001-`)) {
				t.Errorf("%s: flap state keeps the claimed time: %s", c.eventTime, it)
			}
		}
		for _, l := range logLines(sb) {
			if v, ok := l["TimeToRepair"].(float64); ok && (v < 0 || v > time.Since(before).Seconds()+1) {
				t.Errorf("%s: TimeToRepair %v s", c.eventTime, v)
			}
		}
	}
}

// TestAWorseChangeInTheWindowAlertsAtOnce: detect mode, AdministratorAccess
// attached by an actor (alerted), then IAMFullAccess by the same actor
// within the window: a second alert at once, naming IAMFullAccess. Sweeps
// that find both still attached speak once (their own, actor-less groups),
// then repeat quietly. Every message carries its own alertId.
func TestAWorseChangeInTheWindowAlertsAtOnce(t *testing.T) {
	sb, emu := start(t, "DHMC_MODE=detect")
	const admin, iamFull = "arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::aws:policy/IAMFullAccess"
	attachAs(t, sb, admin)
	if res, _ := invokeTimed(t, sb, attachEvent(t, admin, "")); res.ErrorType != "" {
		t.Fatalf("first change: %s %s", res.ErrorType, res.ErrorMessage)
	}
	if n := len(emu.Messages()); n != 1 {
		t.Fatalf("first change: %d messages %q", n, subjects(emu.Messages()))
	}
	attachAs(t, sb, iamFull)
	if res, _ := invokeTimed(t, sb, attachEvent(t, iamFull, "")); res.ErrorType != "" {
		t.Fatalf("second change: %s %s", res.ErrorType, res.ErrorMessage)
	}
	msgs := emu.Messages()
	if len(msgs) != 2 || !strings.Contains(msgs[1].Body, "IAMFullAccess") || msgs[1].Attributes["severity"] != "high" {
		t.Fatalf("second change within the window: messages %q, want a second high alert naming IAMFullAccess", subjects(msgs))
	}
	// A sweep has no actor for the role (IAM keeps none): its findings are
	// the "unknown" actor's groups, told once; a second sweep finding the
	// same two policies still attached is a repeat.
	for range 2 {
		if res, _ := invokeTimed(t, sb, readEvent(t, "scheduler.json")); res.ErrorType != "" {
			t.Fatalf("sweep: %s %s", res.ErrorType, res.ErrorMessage)
		}
	}
	msgs = emu.Messages()
	if len(msgs) != 3 {
		t.Errorf("sweeps finding the same two policies: messages %q, want one more", subjects(msgs))
	}
	for _, m := range msgs {
		if m.Attributes[ledger.AttrAlertID] == "" {
			t.Errorf("message %q has no alertId", m.Subject)
		}
	}
	if msgs[0].Attributes[ledger.AttrAlertID] == msgs[1].Attributes[ledger.AttrAlertID] ||
		msgs[1].Attributes[ledger.AttrAlertID] == msgs[2].Attributes[ledger.AttrAlertID] {
		t.Error("two alerts share one alertId")
	}
}

// TestForeignAndOverflowingHistoryInput: a cursor from another account's
// ledger (same table name, same query) and a since that overflowed to 25
// minutes are InputErrors; nothing is written.
func TestForeignAndOverflowingHistoryInput(t *testing.T) {
	sb, emu := start(t)
	for range 3 {
		if res, _ := invokeTimed(t, sb, freshEvent(t, "denied-detach-role-policy.json", nil)); res.ErrorType != "" {
			t.Fatalf("denied run: %s %s", res.ErrorType, res.ErrorMessage)
		}
	}
	res, _ := invokeTimed(t, sb, []byte(`{"action":"history","since":"24h","limit":1}`))
	own := historyPage(t, res.Payload)
	if res.ErrorType != "" || own.Cursor == "" {
		t.Fatalf("history: %s %s, cursor %q", res.ErrorType, res.ErrorMessage, own.Cursor)
	}
	res, _ = invokeTimed(t, sb, []byte(`{"action":"history","since":"24h","limit":1,"cursor":"`+own.Cursor+`"}`))
	if res.ErrorType != "" {
		t.Fatalf("own cursor refused: %s %s", res.ErrorType, res.ErrorMessage)
	}
	other, err := ledger.New(userDynamo(sb), sandbox.LedgerTable, ledger.Options{Account: "210987654321"})
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := other.History(t.Context(), time.Now().Add(-24*time.Hour), 1, "")
	if err != nil || foreign.Cursor == "" {
		t.Fatalf("another account's history: %v, cursor %q", err, foreign.Cursor)
	}
	writes := emu.CountCalls(func(c awsemu.Call) bool { return c.Write })
	for name, payload := range map[string]string{
		"foreign cursor":       `{"action":"history","since":"24h","limit":1,"cursor":"` + foreign.Cursor + `"}`,
		"overflowing since":    `{"action":"history","since":"213504d"}`,
		"beyond the retention": `{"action":"history","since":"91d"}`,
	} {
		res, _ := invokeTimed(t, sb, []byte(payload))
		if res.ErrorType != "InputError" {
			t.Errorf("%s: errorType %q (%s), want InputError", name, res.ErrorType, res.ErrorMessage)
		}
	}
	if n := emu.CountCalls(func(c awsemu.Call) bool { return c.Write }); n != writes {
		t.Errorf("bad history input wrote %d times", n-writes)
	}
}
