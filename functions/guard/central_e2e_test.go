package main_test

import (
	"encoding/json"
	"testing"

	"github.com/dhmc-guard/dhmc-guard/internal/central"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/sandbox"
)

const centralBus = "arn:aws:events:eu-west-1:210987654321:event-bus/dhmc-guard-central"

// The organisation's central view gets every run that found something, as
// the account's alert goes out, and the day's summary from the ledger.
func TestRunsThatFoundSomethingAndTheDailySummaryReachTheCentralBus(t *testing.T) {
	sb, emu := start(t, "DHMC_CENTRAL_BUS_ARN="+centralBus)

	// Compliant: nothing for the organisation either.
	if _, status, _ := invoke(t, sb, readEvent(t, "scheduler.json")); status != "reconciled" || len(emu.Events()) != 0 {
		t.Fatalf("compliant sweep: status %q, %d central events", status, len(emu.Events()))
	}

	breakAll(t, sb)
	if _, status, rep := invoke(t, sb, readEvent(t, "scheduler.json")); status != "reconciled" || rep == nil || !rep.Drifted() {
		t.Fatalf("drifted sweep: status %q", status)
	}
	events := emu.Events()
	if len(events) != 1 {
		t.Fatalf("%d central events, want 1", len(events))
	}
	e := events[0]
	if e.Bus != centralBus || e.Source != central.Source || e.DetailType != central.DetailTypeRunReport {
		t.Errorf("event %+v", e)
	}
	var rep dhmc.Report // the detail is the report itself
	if err := json.Unmarshal([]byte(e.Detail), &rep); err != nil || rep.AccountID != sandbox.Account || len(rep.Results) == 0 {
		t.Errorf("detail does not carry the run's report: %v\n%s", err, e.Detail)
	}

	// The daily summary: the Scheduler's summary payload.
	res, err := sb.Fn.Invoke(t.Context(), []byte(`{"trigger":"summary","scheduleArn":"arn:aws:scheduler:eu-west-1:123456789012:schedule/default/dhmc-guard-DailySummary","scheduledTime":"2026-12-02T06:00:00Z"}`))
	if err != nil || res.Err() != nil {
		t.Fatalf("summary: %v %v", err, res.Err())
	}
	events = emu.Events()
	if len(events) != 2 || events[1].DetailType != central.DetailTypeDailySummary {
		t.Fatalf("central events %+v, want the run and the summary", events)
	}
	if !json.Valid([]byte(events[1].Detail)) {
		t.Errorf("summary detail %s", events[1].Detail)
	}
}

func TestSummaryWithoutACentralViewIsANoOp(t *testing.T) {
	sb, emu := start(t)
	_, status, _ := invoke(t, sb, []byte(`{"trigger":"summary"}`))
	if status != "ignored" || len(emu.Events()) != 0 || len(emu.Messages()) != 0 {
		t.Errorf("status %q, %d events, %d messages", status, len(emu.Events()), len(emu.Messages()))
	}
}
