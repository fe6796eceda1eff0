package guard_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/guard"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
	"github.com/dhmc-guard/dhmc-guard/internal/sandbox"
)

// A slow ledger is given a share of the time left, never all of it: with
// every DynamoDB call taking 3 s and 6 s left, the ledger fails open and
// the alert still goes out (saying the ledger was unavailable), before the
// deadline. Before the ledger had its share, its calls took the publish's
// time and the alert was lost.
func TestASlowLedgerLeavesThePublishItsTime(t *testing.T) {
	h, emu := newLedgerHandler(t, ledger.Policy{})
	emu.SetSetting(sandbox.Account, "eu-west-1", dhmc.SettingDisabled)
	emu.Inject(awsemu.Fault{Op: "dynamodb:*", Kind: awsemu.FaultLatency, Latency: 3 * time.Second})
	ctx, cancel := context.WithTimeout(t.Context(), 6*time.Second)
	defer cancel()
	deadline, _ := ctx.Deadline()

	_, err := h.Handle(ctx, event(t, "schedule.json"))
	if err != nil {
		t.Fatalf("a slow ledger failed the run: %v", err)
	}
	if !time.Now().Before(deadline) {
		t.Errorf("returned after the deadline")
	}
	msgs := emu.Messages()
	if len(msgs) != 1 {
		t.Fatalf("messages = %d, want the alert", len(msgs))
	}
	if got := emu.Setting(sandbox.Account, "eu-west-1").Value; got != sandbox.Desired().SettingValue() {
		t.Errorf("eu-west-1 = %q, want repaired: the outbox read may not take the run's time", got)
	}
}

// A context the handler hands to a publish or a ledger call never outlives
// the invocation's deadline: near the end, it is already done, so no call
// is started that Lambda would cut short.
func TestNoCallIsStartedThatWouldOutliveTheDeadline(t *testing.T) {
	h, emu := newHandler(t)
	emu.SetSetting(sandbox.Account, "eu-west-1", dhmc.SettingDisabled)
	ctx, cancel := context.WithTimeout(t.Context(), 150*time.Millisecond)
	defer cancel()
	_, err := h.Handle(ctx, event(t, "schedule.json"))
	if err == nil {
		t.Fatal("a run with no time left succeeded")
	}
	if n := emu.CountCalls(func(c awsemu.Call) bool { return c.Service == "sns" }); n != 0 {
		t.Errorf("%d publishes started within the last 200 ms before the deadline", n)
	}
	// The run may or may not fit in its share; either way the error is typed.
	var aerr *guard.AlertError
	var rerr *guard.RepairError
	if !errors.As(err, &aerr) && !errors.As(err, &rerr) {
		t.Errorf("error %T %v, want an AlertError or a RepairError", err, err)
	}
}
