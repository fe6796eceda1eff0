package guard_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/guard"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
	"github.com/dhmc-guard/dhmc-guard/internal/sandbox"
)

// ledgerItems decodes the ledger table's items whose pk starts with prefix.
func ledgerItems(t *testing.T, emu *awsemu.Server, prefix string) []map[string]map[string]any {
	t.Helper()
	var out []map[string]map[string]any
	for _, raw := range emu.TableItems(sandbox.Account, sandbox.HomeRegion, sandbox.LedgerTable) {
		var it map[string]map[string]any
		if err := json.Unmarshal([]byte(raw), &it); err != nil {
			t.Fatal(err)
		}
		if pk, _ := it["pk"]["S"].(string); strings.HasPrefix(pk, prefix) {
			out = append(out, it)
		}
	}
	return out
}

func str(it map[string]map[string]any, name string) string {
	s, _ := it[name]["S"].(string)
	return s
}

// A repair that fails after the alert was recorded as it started (for the
// repair expected to succeed) goes through the replacement: the message
// published says FAILED, the ledger's record of it is that message, the
// expected one is gone, and the window state and the repairs counted are
// the failure's, not the expected success's.
func TestAFailedRepairReplacesTheAlertRecordedAsItStarted(t *testing.T) {
	h, emu := newLedgerHandler(t, ledger.Policy{})
	detach(t, userIAM(emu))
	allow := emu.Inject(awsemu.Fault{Op: "iam:AttachRolePolicy", Kind: awsemu.FaultAccessDenied})
	_, err := h.Handle(t.Context(), eventAt(t, "iam-detach-role-policy.json", 1, time.Now()))
	var rerr *guard.RepairError
	if !errors.As(err, &rerr) {
		t.Fatalf("error %v, want a RepairError", err)
	}
	msgs := emu.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want the failure alone", len(msgs))
	}
	m := msgs[0]
	if m.Attributes["outcome"] != "failed" || !strings.Contains(m.Subject, "FAILED") {
		t.Errorf("published %q (outcome %q), want the failure", m.Subject, m.Attributes["outcome"])
	}
	recs := ledgerItems(t, emu, "ALERT#")
	if len(recs) != 1 {
		t.Fatalf("%d alert records, want the published one alone (the expected one replaced)", len(recs))
	}
	rec := recs[0]
	if str(rec, "alertId") != m.Attributes[ledger.AttrAlertID] || str(rec, "subject") != m.Subject || str(rec, "body") != m.Body {
		t.Errorf("record %s %q, want the published message %s %q", str(rec, "alertId"), str(rec, "subject"), m.Attributes[ledger.AttrAlertID], m.Subject)
	}
	if str(rec, "status") != "delivered" || rec["expected"] != nil {
		t.Errorf("record status %q expected %v, want delivered and confirmed", str(rec, "status"), rec["expected"])
	}
	for _, e := range ledgerItems(t, emu, "OUTBOX") {
		if sk := str(e, "sk"); strings.HasPrefix(sk, "A#") {
			t.Errorf("outbox holds %s after the delivery, want no alert entry", sk)
		}
	}
	groups := ledgerItems(t, emu, "GROUP#")
	if len(groups) != 1 || str(groups[0], "severity") != "high" {
		t.Fatalf("group states %v, want the failure's (high)", groups)
	}
	for _, f := range ledgerItems(t, emu, "FLAP#") {
		if reps, _ := f["repairs"]["L"].([]any); len(reps) > 0 {
			t.Errorf("flap state counts %d repair(s) of a repair that failed", len(reps))
		}
	}

	// The repair works next time: the group's window holds nothing back
	// that was never told (its state is the failure that was told).
	allow()
	if _, err := h.Handle(t.Context(), eventAt(t, "iam-detach-role-policy.json", 2, time.Now())); err != nil {
		t.Fatal(err)
	}
	if n := countSubjects(emu.Messages(), ""); n != 2 {
		t.Errorf("%d messages after the working repair, want it told (2)", n)
	}
}

// An alert recorded as its repair started whose run ended before the
// publish (a timeout, a crash) is re-delivered by the next run saying, in
// the subject, the body and the card, that the outcome was not confirmed
// and that the next sweep verifies the item.
func TestAnUnconfirmedAlertIsRedeliveredSayingSo(t *testing.T) {
	h, emu := newLedgerHandler(t, ledger.Policy{})
	store := h.Ledger.(*ledger.Store)
	// Recorded by a run that must have ended: longer ago than any run lasts.
	now := time.Now().Add(-guard.MaxInFlight - time.Minute)
	sig := ledger.Signal{Item: ledger.ItemRole, Kind: "managed-policy-missing", Actor: "user bob", Severity: ledger.SeverityMedium, Repaired: true, At: now, Outcome: "done"}
	it, err := store.DecideIntent(t.Context(), ledger.RunInput{Signals: []ledger.Signal{sig}, Now: now}, nil, func(d ledger.Decisions) *ledger.Alert {
		return &ledger.Alert{Subject: "DHMC repaired: policy re-attached to AmazonSSMRoleForInstancesQuickSetup", Body: "Repaired: the managed policy was re-attached.\n",
			Severity: ledger.SeverityMedium, Attributes: map[string]string{"outcome": "repaired", "severity": "medium"}}
	})
	if err != nil || it == nil || !it.Outcome.Recorded {
		t.Fatalf("recording the intent: %v %v", it, err)
	}
	// The run ends here. The next sweep re-delivers.
	if _, err := h.Handle(t.Context(), event(t, "schedule.json")); err != nil {
		t.Fatal(err)
	}
	var got *awsemu.Message
	for _, m := range emu.Messages() {
		if m.Attributes["redelivered"] == "true" {
			got = &m
		}
	}
	if got == nil {
		t.Fatalf("no re-delivery among %d messages", len(emu.Messages()))
	}
	if !strings.HasPrefix(got.Subject, "UNCONFIRMED: DHMC repaired") {
		t.Errorf("subject %q, want it to say the outcome is unconfirmed", got.Subject)
	}
	for _, want := range []string{"run ended", "before the outcome was confirmed", "next sweep verifies", "tells if one is not compliant"} {
		if !strings.Contains(got.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, got.Body)
		}
	}
	if got.Attributes["outcome"] != guard.OutcomeUnconfirmed || got.Attributes[ledger.AttrAlertID] != it.Outcome.Alert.ID {
		t.Errorf("attributes %v, want outcome unconfirmed and the recorded alert's ID", got.Attributes)
	}
	card := got.Protocols["https"] // chat reads the card
	if !strings.Contains(card, "UNCONFIRMED") || !strings.Contains(card, "before the outcome was confirmed") {
		t.Errorf("chat card does not say it is unconfirmed: %s", card)
	}
	if box := ledgerItems(t, emu, "OUTBOX"); len(box) != 0 {
		t.Errorf("outbox holds %d entries after the re-delivery, want none", len(box))
	}
}

// TestAnAlertStillInFlightIsNotRedelivered: a run that reads the outbox
// while another is still repairing (a storm's events run at once) leaves
// that run's record alone: no UNCONFIRMED message beside the real one.
func TestAnAlertStillInFlightIsNotRedelivered(t *testing.T) {
	h, emu := newLedgerHandler(t, ledger.Policy{})
	store := h.Ledger.(*ledger.Store)
	now := time.Now().Add(-time.Minute)
	sig := ledger.Signal{Item: ledger.ItemRole, Kind: "managed-policy-missing", Actor: "user bob", Severity: ledger.SeverityMedium, Repaired: true, At: now, Outcome: "done"}
	it, err := store.DecideIntent(t.Context(), ledger.RunInput{Signals: []ledger.Signal{sig}, Now: now}, nil, func(d ledger.Decisions) *ledger.Alert {
		return &ledger.Alert{Subject: "DHMC repaired: policy re-attached", Body: "Repaired.\n", Severity: ledger.SeverityMedium,
			Attributes: map[string]string{"outcome": "repaired", "severity": "medium"}}
	})
	if err != nil || it == nil || !it.Outcome.Recorded {
		t.Fatalf("recording the intent: %v %v", it, err)
	}
	if _, err := h.Handle(t.Context(), event(t, "schedule.json")); err != nil {
		t.Fatal(err)
	}
	for _, m := range emu.Messages() {
		if m.Attributes["redelivered"] == "true" || strings.HasPrefix(m.Subject, "UNCONFIRMED") {
			t.Errorf("a record still in flight was re-sent: %q", m.Subject)
		}
	}
	if box := ledgerItems(t, emu, "OUTBOX"); len(box) == 0 {
		t.Error("the record in flight left the outbox")
	}
}
