package main_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/sandbox"
)

// cardThread is the chat thread of a published message: its card's
// metadata.threadId ("" without a card).
func cardThread(t *testing.T, m awsemu.Message) string {
	t.Helper()
	card, ok := m.Protocols["https"]
	if !ok {
		return ""
	}
	var c struct {
		Metadata struct {
			ThreadID string `json:"threadId"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal([]byte(card), &c); err != nil {
		t.Fatalf("card of %q: %v", m.Subject, err)
	}
	return c.Metadata.ThreadID
}

// checkResolved wants exactly one message after the first firing one: a
// RESOLVED naming kind, with status resolved, the first message's alertId
// as its dedup key, in the first message's thread; then a further sweep
// sends nothing and leaves no problem open.
func checkResolved(t *testing.T, sb *sandbox.Sandbox, emu *awsemu.Server, first awsemu.Message, kind string) {
	t.Helper()
	msgs := emu.Messages()
	var resolved []awsemu.Message
	for _, m := range msgs {
		if m.Attributes["status"] == "resolved" {
			resolved = append(resolved, m)
		}
	}
	if len(resolved) != 1 {
		t.Fatalf("%d RESOLVED messages among %q, want 1", len(resolved), subjects(msgs))
	}
	r := resolved[0]
	t.Logf("figure: RESOLVED subject %q attributes %v thread %q", r.Subject, r.Attributes, cardThread(t, r))
	if !strings.HasPrefix(r.Subject, "RESOLVED: DHMC "+kind) {
		t.Errorf("subject %q, want RESOLVED naming %s", r.Subject, kind)
	}
	if r.Attributes["dedupKey"] != first.Attributes["alertId"] || first.Attributes["dedupKey"] != first.Attributes["alertId"] {
		t.Errorf("dedup keys: RESOLVED %q, first message %q (alertId %q): want the first message's alertId",
			r.Attributes["dedupKey"], first.Attributes["dedupKey"], first.Attributes["alertId"])
	}
	if r.Attributes["alertId"] == "" || r.Attributes["alertId"] == first.Attributes["alertId"] {
		t.Errorf("RESOLVED alertId %q: want its own (a subscriber dropping seen alertIds must not drop it)", r.Attributes["alertId"])
	}
	if first.Attributes["status"] != "firing" {
		t.Errorf("first message status %q, want firing", first.Attributes["status"])
	}
	if th := cardThread(t, r); th == "" || th != cardThread(t, first) || !strings.Contains(th, kind) {
		t.Errorf("RESOLVED thread %q, first message's %q: want the same, per problem", th, cardThread(t, first))
	}
	for _, it := range sandbox.LedgerItems(emu) {
		if strings.Contains(it, `"sk":{"S":"O#`) {
			t.Errorf("a problem is still open: %s", it)
		}
	}
	before := len(emu.Messages())
	if res, _ := invokeTimed(t, sb, readEvent(t, "scheduler.json")); res.ErrorType != "" {
		t.Fatal(res.ErrorMessage)
	}
	if after := emu.Messages(); len(after) != before {
		t.Errorf("a further sweep sent %q", subjects(after[before:]))
	}
}

// TestABlockedProblemFixedByHandIsResolvedOnce: a Quick Setup role with
// AdministratorAccess blocks (the guard never trusts it); a person detaches
// the policy; the next sweep verifies the role and sends one RESOLVED in
// the blocked message's thread, with its dedup key.
func TestABlockedProblemFixedByHandIsResolvedOnce(t *testing.T) {
	qs, _ := sandbox.SetupNamed("quick-setup")
	sb, emu := startSetup(t, qs)
	bad := sandbox.QuickSetupRole("eu-west-1")
	admin := aws.String("arn:aws:iam::aws:policy/AdministratorAccess")
	must(t, func() error {
		_, err := sb.UserIAM().AttachRolePolicy(t.Context(), &iam.AttachRolePolicyInput{RoleName: aws.String(bad), PolicyArn: admin})
		return err
	})
	if rep := sweep(t, sb); !strings.Contains(strings.Join(findings(rep), "\n"), "unexpected-managed-policy blocked") {
		t.Fatalf("findings %q, want the blocked role", findings(rep))
	}
	first := oneMessage(t, emu)
	opened := 0
	for _, it := range sandbox.LedgerItems(emu) {
		if strings.Contains(it, `"sk":{"S":"O#iam#unexpected-managed-policy"}`) {
			opened++
		}
	}
	if opened != 1 {
		t.Fatalf("open problems of the blocked role: %d, want 1", opened)
	}

	// Fixed by hand.
	must(t, func() error {
		_, err := sb.UserIAM().DetachRolePolicy(t.Context(), &iam.DetachRolePolicyInput{RoleName: aws.String(bad), PolicyArn: admin})
		return err
	})
	if res, _ := invokeTimed(t, sb, readEvent(t, "scheduler.json")); res.ErrorType != "" {
		t.Fatal(res.ErrorMessage)
	}
	checkResolved(t, sb, emu, first, "unexpected-managed-policy")
}

// TestAnUnreadableRoleIsResolvedOnceReadable: GetRole denied, then the
// denial removed: the next sweep reads the role and sends one RESOLVED.
func TestAnUnreadableRoleIsResolvedOnceReadable(t *testing.T) {
	sb, emu := start(t)
	remove := emu.Inject(awsemu.Fault{Op: "iam:GetRole", Kind: awsemu.FaultAccessDenied})
	for range 2 { // the repeat is held back by the window, the problem stays open once
		if res, _ := invokeTimed(t, sb, readEvent(t, "scheduler.json")); res.ErrorType != "RepairError" {
			t.Fatalf("%s %s, want RepairError", res.ErrorType, res.ErrorMessage)
		}
	}
	first := oneMessage(t, emu)
	remove()
	if res, _ := invokeTimed(t, sb, readEvent(t, "scheduler.json")); res.ErrorType != "" {
		t.Fatal(res.ErrorMessage)
	}
	checkResolved(t, sb, emu, first, "role-unreadable")
}

// TestAResolutionNotPublishedIsReSentFromTheOutbox: SNS fails while the
// sweep that verifies the role resolves it; the RESOLVED message waits in
// the outbox (the problem closed with it, in one transaction) and the next
// run re-sends it once, marked redelivered, with the same status, dedup
// key and thread.
func TestAResolutionNotPublishedIsReSentFromTheOutbox(t *testing.T) {
	sb, emu := start(t)
	removeDenied := emu.Inject(awsemu.Fault{Op: "iam:GetRole", Kind: awsemu.FaultAccessDenied})
	if res, _ := invokeTimed(t, sb, readEvent(t, "scheduler.json")); res.ErrorType != "RepairError" {
		t.Fatalf("%s %s, want RepairError", res.ErrorType, res.ErrorMessage)
	}
	first := oneMessage(t, emu)
	removeDenied()
	removeSNS := emu.Inject(awsemu.Fault{Op: "sns:Publish", Kind: awsemu.FaultServerError})
	invokeTimed(t, sb, readEvent(t, "scheduler.json"))
	removeSNS()
	if n := len(emu.Messages()); n != 1 {
		t.Fatalf("%d messages while SNS failed, want the first only", n)
	}
	if got := outboxAlerts(emu); len(got) != 1 {
		t.Fatalf("outbox %q, want the RESOLVED message pending", got)
	}
	if res, _ := invokeTimed(t, sb, readEvent(t, "scheduler.json")); res.ErrorType != "" {
		t.Fatal(res.ErrorMessage)
	}
	msgs := emu.Messages()
	if len(msgs) != 2 || msgs[1].Attributes["redelivered"] != "true" {
		t.Fatalf("messages %q, want the first and the re-sent RESOLVED", subjects(msgs))
	}
	checkResolved(t, sb, emu, first, "role-unreadable")
}
