package main_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/sandbox"
)

// timeout is the function's timeout as Lambda gives it (RIE reads it).
func timeout(seconds int) string { return fmt.Sprintf("AWS_LAMBDA_FUNCTION_TIMEOUT=%d", seconds) }

var eventSeq atomic.Int64

// freshEvent returns a CloudTrail sample as a new delivery of a new call:
// its own event ID and the time now (the ledger's windows run on real
// time), then edit changes the detail.
func freshEvent(t *testing.T, name string, edit func(detail map[string]any)) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(readEvent(t, name), &ev); err != nil {
		t.Fatal(err)
	}
	n := eventSeq.Add(1)
	now := time.Now().UTC().Format(time.RFC3339)
	detail := ev["detail"].(map[string]any)
	detail["eventID"] = fmt.Sprintf("5701cbd6-%04x-4d2c-9a51-%012x", n%0xffff, n)
	detail["eventTime"] = now
	ev["id"] = fmt.Sprintf("c0ffee00-%04x-4abc-8def-%012x", n%0xffff, n)
	ev["time"] = now
	if edit != nil {
		edit(detail)
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// terraform makes an event's caller Terraform's AWS provider.
func terraform(detail map[string]any) {
	detail["userAgent"] = "APN/1.0 HashiCorp/1.0 Terraform/1.9.0 (+https://www.terraform.io) terraform-provider-aws/5.70.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.32.2"
}

// detachManaged removes the managed policy from the DHMC role, as the user.
func detachManaged(t *testing.T, sb *sandbox.Sandbox) {
	t.Helper()
	d := sandbox.Desired()
	must(t, func() error {
		_, err := sb.UserIAM().DetachRolePolicy(t.Context(), &iam.DetachRolePolicyInput{RoleName: aws.String(d.RoleName), PolicyArn: aws.String(d.ManagedPolicyARN())})
		return err
	})
}

// logLines decodes the function's JSON log lines (RIE's own lines are not JSON).
func logLines(sb *sandbox.Sandbox) []map[string]any {
	var out []map[string]any
	s := bufio.NewScanner(strings.NewReader(sb.Fn.Logs()))
	s.Buffer(make([]byte, 1<<20), 8<<20)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// logged returns the log lines whose message is msg.
func logged(sb *sandbox.Sandbox, msg string) []map[string]any {
	var out []map[string]any
	for _, l := range logLines(sb) {
		if l["message"] == msg {
			out = append(out, l)
		}
	}
	return out
}

// sweepsCompleted counts the SweepCompleted metric records in the log.
func sweepsCompleted(sb *sandbox.Sandbox) int {
	n := 0
	for _, l := range logLines(sb) {
		if v, ok := l["SweepCompleted"].(float64); ok && v == 1 {
			n++
		}
	}
	return n
}

// failureRecord is what the guard puts in the failure queue.
type failureRecord struct {
	Reason  string       `json:"reason"`
	Subject string       `json:"subject"`
	Report  *dhmc.Report `json:"report"`
	Body    string       `json:"alertBody"`
}

func failureRecords(t *testing.T, emu *awsemu.Server) []failureRecord {
	t.Helper()
	var out []failureRecord
	for _, b := range sandbox.FailureRecords(emu) {
		var r failureRecord
		if err := json.Unmarshal([]byte(b), &r); err != nil {
			t.Fatalf("failure queue message is not a record: %v\n%s", err, b)
		}
		out = append(out, r)
	}
	return out
}

// outboxAlerts are the ledger's undelivered alerts (OUTBOX, sk A#...).
func outboxAlerts(emu *awsemu.Server) []string {
	var out []string
	for _, it := range sandbox.LedgerItems(emu) {
		if strings.Contains(it, `"pk":{"S":"OUTBOX"}`) && strings.Contains(it, `"sk":{"S":"A#`) {
			out = append(out, it)
		}
	}
	return out
}

// ledgerRuns counts the runs the ledger recorded.
func ledgerRuns(emu *awsemu.Server) int {
	n := 0
	for _, it := range sandbox.LedgerItems(emu) {
		if strings.Contains(it, `"pk":{"S":"RUN"}`) {
			n++
		}
	}
	return n
}

// dynamoCalls counts the function's DynamoDB calls.
func dynamoCalls(emu *awsemu.Server) int {
	return emu.CountCalls(func(c awsemu.Call) bool { return c.Service == "dynamodb" && c.Caller == sandbox.FunctionCaller })
}

// subjects lists the messages' subjects, for failure output.
func subjects(msgs []awsemu.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Attributes["severity"] + " " + m.Subject
	}
	return out
}

// invokeTimed invokes and says how long it took.
func invokeTimed(t *testing.T, sb *sandbox.Sandbox, payload []byte) (resultOf, time.Duration) {
	t.Helper()
	start := time.Now()
	res, err := sb.Fn.Invoke(t.Context(), payload)
	if err != nil {
		t.Fatal(err)
	}
	return resultOf{ErrorType: res.ErrorType, ErrorMessage: res.ErrorMessage, Payload: res.Payload}, time.Since(start)
}

type resultOf struct {
	ErrorType, ErrorMessage string
	Payload                 json.RawMessage
}

// timedOut reports whether RIE stopped the function at its timeout.
func (r resultOf) timedOut() bool { return strings.Contains(string(r.Payload), "Task timed out") }

// eventually polls cond for up to 2 s: the function's output reaches the
// log through a pipe, a little after the invocation returns.
func eventually(cond func() bool) bool {
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// lastRun is the last "run finished" log line and its report.
func lastRun(t *testing.T, sb *sandbox.Sandbox) (map[string]any, *dhmc.Report) {
	t.Helper()
	lines := logged(sb, "run finished")
	if len(lines) == 0 {
		return nil, nil
	}
	last := lines[len(lines)-1]
	if last["report"] == nil {
		return last, nil
	}
	raw, _ := json.Marshal(last["report"])
	var rep dhmc.Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatalf("logged report %s: %v", raw, err)
	}
	return last, &rep
}
