package main_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/sandbox"
)

// resetIn disables DHMC in regions, as the user.
func resetIn(t *testing.T, sb *sandbox.Sandbox, regions ...string) {
	t.Helper()
	d := sandbox.Desired()
	for _, r := range regions {
		must(t, func() error {
			_, err := sb.UserSSM(r).ResetServiceSetting(t.Context(), &ssm.ResetServiceSettingInput{SettingId: aws.String(d.SettingARN(r))})
			return err
		})
	}
}

// TestOneSlowRegionTimesOutAloneAndTheOthersAreRepaired: one Region answers
// in 30 s, the function has 10 s. The invocation returns before Lambda's
// deadline with that Region as a "timed out" error, the other Regions
// repaired, one alert naming both, and errorType RepairError.
func TestOneSlowRegionTimesOutAloneAndTheOthersAreRepaired(t *testing.T) {
	sb, emu := start(t, timeout(10))
	resetIn(t, sb, "eu-west-1", "us-east-1")
	emu.Inject(awsemu.Fault{Op: "ssm:GetServiceSetting", Region: "eu-central-1", Kind: awsemu.FaultLatency, Latency: 30 * time.Second})
	emu.ResetCalls()

	res, took := invokeTimed(t, sb, readEvent(t, "scheduler.json"))
	t.Logf("one slow Region: returned in %s (function timeout 10 s)", took.Round(time.Millisecond))
	if res.timedOut() || took >= 10*time.Second {
		t.Fatalf("the function ran into Lambda's timeout after %s: %s", took, res.Payload)
	}
	if res.ErrorType != "RepairError" || !strings.Contains(res.ErrorMessage, "eu-central-1") || !strings.Contains(res.ErrorMessage, "timed out") {
		t.Errorf("result %s: %s, want a RepairError naming eu-central-1 as timed out", res.ErrorType, res.ErrorMessage)
	}
	drift := driftIn(t, emu)
	if drift["eu-west-1"] != 0 || drift["us-east-1"] != 0 {
		t.Errorf("drift after = %v, want eu-west-1 and us-east-1 repaired", drift)
	}
	if w := sandbox.Writes(emu, sandbox.FunctionCaller); w != 2 {
		t.Errorf("writes = %d, want the 2 settings", w)
	}
	msgs := emu.Messages()
	if len(msgs) != 1 {
		t.Fatalf("messages = %d %q, want 1", len(msgs), subjects(msgs))
	}
	body := msgs[0].Body
	for _, want := range []string{"eu-central-1", "timed out", "eu-west-1", "us-east-1"} {
		if !strings.Contains(body, want) {
			t.Errorf("the alert does not name %q:\n%s", want, body)
		}
	}
	if msgs[0].Attributes["severity"] != "high" {
		t.Errorf("severity %q, want high: a Region could not be read", msgs[0].Attributes["severity"])
	}
}

// TestEveryCallSlowStillReportsWhatWasWritten: every AWS call (SSM, IAM,
// DynamoDB, SNS, SQS) takes 1 s, or 3 s, and the function has 10 s. The
// invocation returns before Lambda's deadline; the result is a RepairError
// when the run failed (never the runtime's wrapErrors); the whole report
// is in the log; and on-call has it: the alert or, failing that, the
// failure queue, naming every Region written.
func TestEveryCallSlowStillReportsWhatWasWritten(t *testing.T) {
	cases := []struct {
		name string
		ops  []string
		// all: the role drifted three ways and every Region too; else
		// one Region.
		all     bool
		latency time.Duration
	}{
		{"every call 1s", []string{"*"}, false, time.Second},
		{"every call 3s", []string{"*"}, false, 3 * time.Second},
		// The role's three repairs take 9 s: the run's time ends among them.
		{"every IAM write 3s", []string{"iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:DeleteRolePolicy"}, true, 3 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sb, emu := start(t, timeout(10))
			if tc.all {
				breakAll(t, sb)
			} else {
				resetIn(t, sb, "eu-west-1")
			}
			emu.ResetCalls()
			for _, op := range tc.ops {
				emu.Inject(awsemu.Fault{Op: op, Kind: awsemu.FaultLatency, Latency: tc.latency})
			}

			res, took := invokeTimed(t, sb, readEvent(t, "scheduler.json"))
			writes := sandbox.Writes(emu, sandbox.FunctionCaller)
			msgs := emu.Messages()
			queued := failureRecords(t, emu)
			t.Logf("%s: returned in %s with errorType %q; %d writes, %d messages, %d failure records",
				tc.name, took.Round(time.Millisecond), res.ErrorType, writes, len(msgs), len(queued))
			if res.timedOut() || took >= 10*time.Second {
				t.Fatalf("the function ran into Lambda's timeout after %s: %s", took, res.Payload)
			}
			finished := logged(sb, "run finished")
			if len(finished) != 1 || finished[0]["report"] == nil {
				t.Fatalf("log has %d 'run finished' lines, want 1 with the whole report", len(finished))
			}
			var rep dhmc.Report
			raw, _ := json.Marshal(finished[0]["report"])
			if err := json.Unmarshal(raw, &rep); err != nil {
				t.Fatalf("logged report %s: %v", raw, err)
			}
			switch {
			case rep.Failed() && res.ErrorType != "RepairError":
				t.Errorf("the run failed, errorType %q (%s), want RepairError", res.ErrorType, res.ErrorMessage)
			case !rep.Failed() && res.ErrorType != "" && res.ErrorType != "AlertError":
				t.Errorf("errorType %q (%s)", res.ErrorType, res.ErrorMessage)
			}
			// The report counts the writes attempted; AWS may have carried
			// out one whose answer came too late (the emulator does).
			if writes > rep.Writes {
				t.Errorf("the emulator accepted %d writes, the logged report attempted %d", writes, rep.Writes)
			}
			told := ""
			for _, m := range msgs {
				told += m.Body
			}
			for _, r := range queued {
				told += r.Body
				if r.Report != nil {
					b, _ := json.Marshal(r.Report)
					told += string(b)
				}
			}
			if told == "" {
				t.Fatal("nothing reached on-call: no message and no failure record")
			}
			// Every repair done or tried is in what on-call got.
			for _, x := range rep.Results {
				if x.Action == dhmc.ActionNone {
					continue
				}
				if where := x.Target + x.Region; !strings.Contains(told, where) {
					t.Errorf("the %s of %s (%s) reached neither the alert nor the failure queue", x.Action, where, x.Outcome)
				}
			}
		})
	}
}

// TestSNSDownSendsTheReportToTheFailureQueueAndTheNextRunRedelivers: the
// publish fails after the repairs. The invocation fails with AlertError;
// the failure queue holds the report with the removed inline policy's
// document; the outbox holds the alert. Once SNS is back, the next
// (compliant) run re-delivers it exactly once, and a third run sends nothing.
func TestSNSDownSendsTheReportToTheFailureQueueAndTheNextRunRedelivers(t *testing.T) {
	sb, emu := start(t)
	breakAll(t, sb)
	remove := emu.Inject(awsemu.Fault{Op: "sns:Publish", Kind: awsemu.FaultServerError})

	res, _ := invokeTimed(t, sb, readEvent(t, "scheduler.json"))
	if res.ErrorType != "AlertError" {
		t.Fatalf("errorType %q (%s), want AlertError", res.ErrorType, res.ErrorMessage)
	}
	if d := driftIn(t, emu); len(d) != 0 {
		t.Errorf("drift after = %v: the repairs come before the publish", d)
	}
	if n := len(emu.Messages()); n != 0 {
		t.Fatalf("%d messages published through a failing SNS", n)
	}
	recs := failureRecords(t, emu)
	if len(recs) != 1 || recs[0].Report == nil {
		t.Fatalf("failure queue = %+v, want one record with the report", recs)
	}
	var doc string
	for _, x := range recs[0].Report.Results {
		if x.Kind == dhmc.KindUnexpectedInlinePolicy {
			doc = x.Document
		}
	}
	if !strings.Contains(doc, `s3:*`) {
		t.Errorf("the failure record does not keep the removed inline policy's document (got %q)", doc)
	}
	if !strings.Contains(recs[0].Reason, "InternalError") {
		t.Errorf("failure record reason %q does not say why the publish failed", recs[0].Reason)
	}
	if n := len(outboxAlerts(emu)); n != 1 {
		t.Errorf("outbox holds %d alerts, want the undelivered one", n)
	}

	remove()
	res, _ = invokeTimed(t, sb, readEvent(t, "scheduler.json"))
	if res.ErrorType != "" {
		t.Fatalf("second run: %s %s", res.ErrorType, res.ErrorMessage)
	}
	msgs := emu.Messages()
	if len(msgs) != 1 || msgs[0].Attributes["redelivered"] != "true" || msgs[0].Subject != recs[0].Subject {
		t.Fatalf("after SNS recovered: messages %q %v, want the undelivered alert once, marked redelivered", subjects(msgs), attrsOf(msgs))
	}
	if !strings.Contains(msgs[0].Body, "backdoor") {
		t.Errorf("the re-delivered alert lost the inline policy's finding:\n%s", msgs[0].Body)
	}
	if n := len(outboxAlerts(emu)); n != 0 {
		t.Errorf("outbox still holds %d alerts after the re-delivery", n)
	}

	if res, _ = invokeTimed(t, sb, readEvent(t, "scheduler.json")); res.ErrorType != "" {
		t.Fatalf("third run: %s %s", res.ErrorType, res.ErrorMessage)
	}
	if n := len(emu.Messages()); n != 1 {
		t.Errorf("third run sent %d more messages", n-1)
	}
}

func attrsOf(msgs []awsemu.Message) []map[string]string {
	out := make([]map[string]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Attributes
	}
	return out
}

// TestSNSFailingForSomeAttemptsLosesNoAlertAndSendsNoDuplicate: the
// publish fails N times, then SNS answers. Up to 4 the SDK's retries (5
// attempts) get through within the invocation; from 5 the invocation fails
// and the next run re-delivers from the outbox. Either way on-call gets the
// alert exactly once.
func TestSNSFailingForSomeAttemptsLosesNoAlertAndSendsNoDuplicate(t *testing.T) {
	for _, n := range []int{1, 2, 3, 5, 6} {
		t.Run(fmt.Sprintf("%d failed attempts", n), func(t *testing.T) {
			sb, emu := start(t)
			breakAll(t, sb)
			emu.Inject(awsemu.Fault{Op: "sns:Publish", Kind: awsemu.FaultServerError, Times: n})
			first, _ := invokeTimed(t, sb, readEvent(t, "scheduler.json"))
			// The next sweep finds the account compliant and flushes the
			// outbox; one more must find nothing to send.
			for range 2 {
				if res, _ := invokeTimed(t, sb, readEvent(t, "scheduler.json")); res.ErrorType != "" {
					t.Fatalf("a later sweep: %s %s", res.ErrorType, res.ErrorMessage)
				}
			}
			msgs := emu.Messages()
			recs := failureRecords(t, emu)
			attempts := emu.CountCalls(func(c awsemu.Call) bool { return c.Service == "sns" })
			t.Logf("SNS failing %d attempt(s): first run %q, %d publish attempts, %d messages, %d failure records, %d left in the outbox",
				n, first.ErrorType, attempts, len(msgs), len(recs), len(outboxAlerts(emu)))
			if len(msgs) != 1 {
				t.Fatalf("messages %q, want the alert exactly once", subjects(msgs))
			}
			if !strings.Contains(msgs[0].Body, "backdoor") || !strings.Contains(msgs[0].Body, "AdministratorAccess") {
				t.Errorf("the alert lost findings:\n%s", msgs[0].Body)
			}
			if n := len(outboxAlerts(emu)); n != 0 {
				t.Errorf("%d alerts left undelivered in the outbox", n)
			}
			switch first.ErrorType {
			case "":
				if len(recs) != 0 || msgs[0].Attributes["redelivered"] != "" {
					t.Errorf("delivered at once, yet %d failure records and redelivered=%q", len(recs), msgs[0].Attributes["redelivered"])
				}
			case "AlertError":
				if len(recs) != 1 || msgs[0].Attributes["redelivered"] != "true" {
					t.Errorf("publish failed: %d failure records, redelivered=%q; want 1 and true", len(recs), msgs[0].Attributes["redelivered"])
				}
			default:
				t.Errorf("first run errorType %q (%s)", first.ErrorType, first.ErrorMessage)
			}
		})
	}
}

// TestWithTheLedgerFailingTheGuardStillRepairsAndAlerts: every DynamoDB
// call fails (server errors, or throttling). The run repairs, alerts, says
// the ledger was unavailable, and does not fail because of it; only the
// inline policy stays, since its document could not be archived first.
func TestWithTheLedgerFailingTheGuardStillRepairsAndAlerts(t *testing.T) {
	for name, kind := range map[string]awsemu.FaultKind{"server error": awsemu.FaultServerError, "throttled": awsemu.FaultThrottle} {
		t.Run(name, func(t *testing.T) {
			sb, emu := start(t, timeout(30))
			breakAll(t, sb)
			emu.Inject(awsemu.Fault{Op: "dynamodb:*", Kind: kind})
			res, took := invokeTimed(t, sb, readEvent(t, "scheduler.json"))
			t.Logf("ledger %s: run took %s, %d DynamoDB attempts", name, took.Round(time.Millisecond), dynamoCalls(emu))
			if res.ErrorType != "" {
				t.Fatalf("the ledger failed the run: %s %s", res.ErrorType, res.ErrorMessage)
			}
			if d := driftIn(t, emu); len(d) != 1 || d["role"] != 1 {
				t.Errorf("drift after = %v, want repaired but for the inline policy (map[role:1])", d)
			}
			msgs := emu.Messages()
			if len(msgs) != 1 {
				t.Fatalf("messages %q, want the alert", subjects(msgs))
			}
			if !strings.Contains(msgs[0].Body, "could not be archived") {
				t.Errorf("the alert does not say why the inline policy was kept:\n%s", msgs[0].Body)
			}
			if !strings.Contains(msgs[0].Body, "run ledger was unavailable") {
				t.Errorf("the alert does not say the ledger was unavailable:\n%s", msgs[0].Body)
			}
			if n := len(sandbox.LedgerItems(emu)); n != 0 {
				t.Errorf("%d ledger items written through a failing DynamoDB", n)
			}
		})
	}
}

// TestWithSNSAndTheLedgerDownTheReportReachesTheFailureQueue: nothing
// remembers the alert for a re-delivery, so the failure queue is where it
// lives; with the failure queue refusing it too, the log still has it.
func TestWithSNSAndTheLedgerDownTheReportReachesTheFailureQueue(t *testing.T) {
	sb, emu := start(t)
	breakAll(t, sb)
	emu.Inject(awsemu.Fault{Op: "sns:Publish", Kind: awsemu.FaultServerError})
	emu.Inject(awsemu.Fault{Op: "dynamodb:*", Kind: awsemu.FaultServerError})
	res, _ := invokeTimed(t, sb, readEvent(t, "scheduler.json"))
	if res.ErrorType != "AlertError" {
		t.Fatalf("errorType %q (%s), want AlertError", res.ErrorType, res.ErrorMessage)
	}
	recs := failureRecords(t, emu)
	if len(recs) != 1 || recs[0].Report == nil || len(recs[0].Report.Results) != 6 {
		t.Fatalf("failure queue = %+v, want the report with its 6 findings", recs)
	}

	emu.Inject(awsemu.Fault{Op: "sqs:SendMessage", Kind: awsemu.FaultAccessDenied})
	breakAll(t, sb)
	if res, _ = invokeTimed(t, sb, readEvent(t, "scheduler.json")); res.ErrorType != "AlertError" {
		t.Fatalf("errorType %q (%s), want AlertError", res.ErrorType, res.ErrorMessage)
	}
	if !sb.Fn.WaitForLog("the failure queue refused the report too", 2*time.Second) {
		t.Error("the log does not say the report was refused by the failure queue too")
	}
	finished := logged(sb, "run finished")
	if len(finished) != 2 || finished[1]["report"] == nil {
		t.Errorf("the second run's report is not in the log (%d 'run finished' lines)", len(finished))
	}
}
