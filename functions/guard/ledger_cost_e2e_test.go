package main_test

import (
	"slices"
	"testing"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/sandbox"
)

// dynamoOps counts the function's DynamoDB calls by operation.
func dynamoOps(emu *awsemu.Server) map[string]int {
	out := map[string]int{}
	for _, c := range emu.Calls() {
		if c.Service == "dynamodb" && c.Caller == sandbox.FunctionCaller {
			out[c.Operation]++
		}
	}
	return out
}

// TestWhatTheLedgerCostsARun: a compliant sweep makes exactly one ledger
// call (the outbox Query) and no write, and the R + 3 SSM/IAM reads; a
// drift run makes the window read and write, the delivery mark and the
// run's record.
func TestWhatTheLedgerCostsARun(t *testing.T) {
	sb, emu := start(t)
	emu.ResetCalls()
	if res, _ := invokeTimed(t, sb, readEvent(t, "scheduler.json")); res.ErrorType != "" {
		t.Fatal(res.ErrorMessage)
	}
	compliant := dynamoOps(emu)
	reads := emu.CountCalls(func(c awsemu.Call) bool {
		return (c.Service == "ssm" || c.Service == "iam") && c.Caller == sandbox.FunctionCaller
	})
	t.Logf("figure: compliant sweep: DynamoDB %v, %d SSM/IAM reads", compliant, reads)
	if len(compliant) != 1 || compliant["Query"] != 1 {
		t.Errorf("compliant sweep's DynamoDB calls = %v, want one Query", compliant)
	}
	if reads != len(sandbox.Regions)+3 {
		t.Errorf("SSM/IAM reads = %d, want R + 3 = %d", reads, len(sandbox.Regions)+3)
	}
	if n := len(sandbox.LedgerItems(emu)); n != 0 {
		t.Errorf("a compliant sweep wrote %d ledger items", n)
	}

	resetIn(t, sb, "eu-west-1")
	emu.ResetCalls()
	if res, _ := invokeTimed(t, sb, readEvent(t, "scheduler.json")); res.ErrorType != "" {
		t.Fatal(res.ErrorMessage)
	}
	drift := dynamoOps(emu)
	total := 0
	for _, n := range drift {
		total += n
	}
	t.Logf("figure: drift run: %d DynamoDB calls %v", total, drift)
	want := map[string]int{"Query": 1, "BatchGetItem": 1, "TransactWriteItems": 2, "BatchWriteItem": 1}
	for op, n := range want {
		if drift[op] != n {
			t.Errorf("drift run's DynamoDB calls = %v, want %v", drift, want)
			break
		}
	}
}

// TestTheLedgersAddedLatency measures, at 20 ms per AWS call, the wall time
// of a compliant sweep and of a drift run with and without the ledger. It
// asserts nothing about time (this machine is shared); it logs the figures.
func TestTheLedgersAddedLatency(t *testing.T) {
	if testing.Short() {
		t.Skip("a measurement")
	}
	const runs = 7
	measure := func(t *testing.T, env ...string) (sweep, drift time.Duration) {
		sb, emu := start(t, env...)
		emu.Inject(awsemu.Fault{Op: "*", Kind: awsemu.FaultLatency, Latency: 20 * time.Millisecond})
		invokeTimed(t, sb, readEvent(t, "scheduler.json")) // warm: init, Region list, connections
		var sweeps, drifts []time.Duration
		for range runs {
			res, took := invokeTimed(t, sb, readEvent(t, "scheduler.json"))
			if res.ErrorType != "" {
				t.Fatal(res.ErrorMessage)
			}
			sweeps = append(sweeps, took)
			resetIn(t, sb, "eu-west-1")
			res, took = invokeTimed(t, sb, readEvent(t, "scheduler.json"))
			if res.ErrorType != "" {
				t.Fatal(res.ErrorMessage)
			}
			drifts = append(drifts, took)
		}
		return median(sweeps), median(drifts)
	}
	withSweep, withDrift := measure(t)
	withoutSweep, withoutDrift := measure(t, "DHMC_LEDGER_TABLE=")
	t.Logf("figure: at 20 ms per call, median of %d: compliant sweep %s with the ledger, %s without (+%s); drift run %s with, %s without (+%s)",
		runs, withSweep.Round(time.Millisecond), withoutSweep.Round(time.Millisecond), (withSweep - withoutSweep).Round(time.Millisecond),
		withDrift.Round(time.Millisecond), withoutDrift.Round(time.Millisecond), (withDrift - withoutDrift).Round(time.Millisecond))
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
