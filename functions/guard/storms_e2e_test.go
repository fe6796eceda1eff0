package main_test

import (
	"strings"
	"testing"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/sandbox"
)

// The storms of issue 9, point 4, measured under RIE against the emulator.
// Each test logs its figure ("figure: ...") for the closing note.

// TestTheSameDriftThirtyTimesInAnHourIsAtMostThreeMessages: the user
// detaches the managed policy again and again, each time followed by its
// CloudTrail event. Every drift is repaired; on-call gets the first alert
// and one escalation (it flaps), the repeats are counted.
func TestTheSameDriftThirtyTimesInAnHourIsAtMostThreeMessages(t *testing.T) {
	sb, emu := start(t)
	for i := range 30 {
		detachManaged(t, sb)
		res, _ := invokeTimed(t, sb, freshEvent(t, "iam-detach-role-policy.json", nil))
		if res.ErrorType != "" {
			t.Fatalf("repeat %d: %s %s", i+1, res.ErrorType, res.ErrorMessage)
		}
		if d := driftIn(t, emu); len(d) != 0 {
			t.Fatalf("repeat %d left drift %v", i+1, d)
		}
	}
	msgs := emu.Messages()
	t.Logf("figure: the same drift 30 times in an hour -> %d messages (goal <= 3): %q", len(msgs), subjects(msgs))
	if w := sandbox.Writes(emu, sandbox.FunctionCaller); w != 30 {
		t.Errorf("writes = %d, want the 30 repairs", w)
	}
	if len(msgs) > 3 || len(msgs) == 0 {
		t.Fatalf("messages = %d, want 1 to 3", len(msgs))
	}
	if !strings.Contains(msgs[0].Body, "alice") {
		t.Errorf("the first alert does not name the actor:\n%s", msgs[0].Body)
	}
	if runs := ledgerRuns(emu); runs != 30 {
		t.Errorf("ledger recorded %d runs, want all 30", runs)
	}
}

// TestAHundredDeniedAttemptsByOneActorAreAtMostTwoMessages: one CI role
// tries 100 times to detach the policy and is refused each time.
func TestAHundredDeniedAttemptsByOneActorAreAtMostTwoMessages(t *testing.T) {
	sb, emu := start(t)
	for i := range 100 {
		name := "denied-detach-role-policy.json"
		if i%2 == 1 {
			name = "denied-reset-service-setting.json"
		}
		res, _ := invokeTimed(t, sb, freshEvent(t, name, nil))
		if res.ErrorType != "" {
			t.Fatalf("attempt %d: %s %s", i+1, res.ErrorType, res.ErrorMessage)
		}
	}
	msgs := emu.Messages()
	t.Logf("figure: 100 denied attempts by one actor -> %d messages (goal <= 2): %q", len(msgs), subjects(msgs))
	if len(msgs) > 2 || len(msgs) == 0 {
		t.Fatalf("messages = %d, want 1 or 2", len(msgs))
	}
	if !strings.Contains(msgs[0].Body, "Deployer") {
		t.Errorf("the alert does not name the actor:\n%s", msgs[0].Body)
	}
	if reads := emu.CountCalls(func(c awsemu.Call) bool { return c.Service == "ssm" || c.Service == "iam" }); reads != 0 {
		t.Errorf("denied attempts made %d SSM/IAM calls", reads)
	}
	denied := 0
	for _, it := range sandbox.LedgerItems(emu) {
		if strings.Contains(it, `"pk":{"S":"ACTOR#`) && strings.Contains(it, `"type":{"S":"denied"}`) {
			denied++
		}
	}
	if denied != 100 {
		t.Errorf("the actor's history holds %d denied attempts, want 100", denied)
	}
}

// TestFortyEightSweepsWithAnSCPDeniedRegionAreAtMostOneMessage: a Region
// the guard may not read (an SCP) is reported once a day, and every sweep
// still counts as completed for the heartbeat alarm.
func TestFortyEightSweepsWithAnSCPDeniedRegionAreAtMostOneMessage(t *testing.T) {
	sb, emu := start(t)
	emu.Inject(awsemu.Fault{Op: "ssm:GetServiceSetting", Region: "eu-central-1", Kind: awsemu.FaultAccessDenied})
	for i := range 48 {
		res, _ := invokeTimed(t, sb, readEvent(t, "scheduler.json"))
		if res.ErrorType != "" {
			t.Fatalf("sweep %d: %s %s", i+1, res.ErrorType, res.ErrorMessage)
		}
	}
	msgs := emu.Messages()
	sweeps := 0
	eventually(func() bool { sweeps = sweepsCompleted(sb); return sweeps >= 48 })
	t.Logf("figure: 48 sweeps with an SCP-denied Region -> %d messages (goal <= 1), SweepCompleted %d/48: %q", len(msgs), sweeps, subjects(msgs))
	if len(msgs) != 1 {
		t.Fatalf("messages = %d, want 1", len(msgs))
	}
	if !strings.Contains(msgs[0].Body, "eu-central-1") {
		t.Errorf("the message does not name the Region:\n%s", msgs[0].Body)
	}
	if sweeps != 48 {
		t.Errorf("SweepCompleted in %d of 48 sweeps' logs", sweeps)
	}
}

// TestAFailurePersistingOverTheAsyncRetriesIsOneMessage: the repair is
// denied, the invocation fails, Lambda retries the same event twice.
func TestAFailurePersistingOverTheAsyncRetriesIsOneMessage(t *testing.T) {
	sb, emu := start(t)
	emu.Inject(awsemu.Fault{Op: "iam:AttachRolePolicy", Kind: awsemu.FaultAccessDenied})
	detachManaged(t, sb)
	ev := freshEvent(t, "iam-detach-role-policy.json", nil)
	for attempt := range 3 {
		res, _ := invokeTimed(t, sb, ev)
		if res.ErrorType != "RepairError" {
			t.Fatalf("attempt %d: errorType %q, want RepairError (so Lambda retries)", attempt+1, res.ErrorType)
		}
	}
	msgs := emu.Messages()
	t.Logf("figure: a failure persisting over 3 async attempts -> %d messages (goal 1)", len(msgs))
	if len(msgs) != 1 || msgs[0].Attributes["severity"] != "high" || msgs[0].Attributes["outcome"] != "failed" {
		t.Fatalf("messages %q %v, want one high failure alert", subjects(msgs), attrsOf(msgs))
	}
	if tries := emu.CountCalls(func(c awsemu.Call) bool {
		return c.Operation == "AttachRolePolicy" && c.Caller == sandbox.FunctionCaller
	}); tries != 3 {
		t.Errorf("repair attempts = %d, want one per delivery", tries)
	}
}

// TestARedeliveredEventAlertsOnce: the same CloudTrail event (same event
// ID) delivered three times after one drift.
func TestARedeliveredEventAlertsOnce(t *testing.T) {
	sb, emu := start(t)
	detachManaged(t, sb)
	ev := freshEvent(t, "iam-detach-role-policy.json", nil)
	for range 3 {
		if res, _ := invokeTimed(t, sb, ev); res.ErrorType != "" {
			t.Fatalf("%s %s", res.ErrorType, res.ErrorMessage)
		}
	}
	msgs := emu.Messages()
	t.Logf("figure: one event delivered 3 times -> %d messages (goal 1)", len(msgs))
	if len(msgs) != 1 {
		t.Fatalf("messages %q, want 1", subjects(msgs))
	}
	if w := sandbox.Writes(emu, sandbox.FunctionCaller); w != 1 {
		t.Errorf("writes = %d, want the one repair", w)
	}
}

// TestAFlappingItemEscalatesOnceAndWithBackoffIsReportedNotRepaired:
// Terraform re-detaches the policy; the third repair in 24 h escalates to
// one high message that names the actor, the times and the likely cause.
// With DHMC_FLAP_BACKOFF the next drift within the window is left alone.
func TestAFlappingItemEscalatesOnceAndWithBackoffIsReportedNotRepaired(t *testing.T) {
	sb, emu := start(t, "DHMC_FLAP_BACKOFF=true")
	for i := range 3 {
		detachManaged(t, sb)
		if res, _ := invokeTimed(t, sb, freshEvent(t, "iam-detach-role-policy.json", terraform)); res.ErrorType != "" {
			t.Fatalf("drift %d: %s %s", i+1, res.ErrorType, res.ErrorMessage)
		}
	}
	msgs := emu.Messages()
	var flap []awsemu.Message
	for _, m := range msgs {
		if strings.HasPrefix(m.Subject, "FLAPPING") {
			flap = append(flap, m)
		}
	}
	t.Logf("figure: an item repaired 3 times in 24 h -> %d escalation(s), %d messages in all: %q", len(flap), len(msgs), subjects(msgs))
	if len(flap) != 1 {
		t.Fatalf("escalations = %d, want 1", len(flap))
	}
	body := flap[0].Body
	if flap[0].Attributes["severity"] != "high" {
		t.Errorf("escalation severity %q, want high", flap[0].Attributes["severity"])
	}
	for _, want := range []string{"repaired 3 times in 24 h", "alice", "Terraform", "stops repairing it"} {
		if !strings.Contains(body, want) {
			t.Errorf("escalation does not say %q:\n%s", want, body)
		}
	}
	if n := strings.Count(body, " by "); n < 3 {
		t.Errorf("escalation lists %d repairs with their actor, want 3:\n%s", n, body)
	}

	// Within the back-off window the next drift is reported, not repaired.
	detachManaged(t, sb)
	writes := sandbox.Writes(emu, sandbox.FunctionCaller)
	res, _ := invokeTimed(t, sb, freshEvent(t, "iam-detach-role-policy.json", terraform))
	if res.ErrorType != "" {
		t.Fatalf("held-back run: %s %s", res.ErrorType, res.ErrorMessage)
	}
	if w := sandbox.Writes(emu, sandbox.FunctionCaller); w != writes {
		t.Errorf("the held-back item was written %d times", w-writes)
	}
	if d := driftIn(t, emu); d["role"] == 0 {
		t.Error("the held-back drift was repaired")
	}
	_, rep := lastRun(t, sb)
	if rep == nil || len(rep.Results) != 1 || rep.Results[0].Outcome != dhmc.OutcomeBlocked || !strings.Contains(rep.Results[0].Blocked, "held back") {
		t.Errorf("held-back run's report %+v, want the finding blocked as held back", rep)
	}
	if runs := ledgerRuns(emu); runs != 4 {
		t.Errorf("ledger recorded %d runs, want 4 (the held-back one too)", runs)
	}
}

// TestARedeliveryThatRepairsANewDriftCountsIt: the event's first delivery
// repairs and alerts; the user drifts the item again; a redelivery of the
// first event (an async retry) repairs that new drift before its own event
// arrives, which then finds nothing. The second repair is not a second
// message within the window, but it is not lost either: it counts towards
// the digest and towards flapping, as any repeat does.
func TestARedeliveryThatRepairsANewDriftCountsIt(t *testing.T) {
	sb, emu := start(t)
	detachManaged(t, sb)
	first := freshEvent(t, "iam-detach-role-policy.json", nil)
	if res, _ := invokeTimed(t, sb, first); res.ErrorType != "" {
		t.Fatal(res.ErrorMessage)
	}
	detachManaged(t, sb)
	second := freshEvent(t, "iam-detach-role-policy.json", nil)
	for _, ev := range [][]byte{first, second} {
		if res, _ := invokeTimed(t, sb, ev); res.ErrorType != "" {
			t.Fatal(res.ErrorMessage)
		}
	}
	if w := sandbox.Writes(emu, sandbox.FunctionCaller); w != 2 {
		t.Fatalf("writes = %d, want the 2 repairs", w)
	}
	if n := len(emu.Messages()); n != 1 {
		t.Errorf("messages = %d, want 1 within the window", n)
	}
	counted := false
	for _, it := range sandbox.LedgerItems(emu) {
		if strings.Contains(it, `"pk":{"S":"OUTBOX"}`) && strings.Contains(it, `"sk":{"S":"D#`) && strings.Contains(it, `"count":{"N":"1"}`) {
			counted = true
		}
	}
	if !counted {
		t.Errorf("the second repair is in no pending digest: it would never be told")
	}
}
