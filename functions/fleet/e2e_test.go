package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/fleet"
	"github.com/dhmc-guard/dhmc-guard/internal/fleetseed"
	"github.com/dhmc-guard/dhmc-guard/internal/metrics"
	"github.com/dhmc-guard/dhmc-guard/internal/rie"
	"github.com/dhmc-guard/dhmc-guard/internal/sandbox"
)

// The real bootstrap and RIE, built once for every test here.
var rieBin, bootstrap string

func TestMain(m *testing.M) {
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "dhmc-guard-fleet-e2e")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		root, _ := filepath.Abs("../..")
		rieBin, bootstrap, err = rie.Build(context.Background(), root, dir, "./functions/fleet")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}())
}

var e2eRegions = []string{"eu-central-1", "eu-west-1", "us-east-1"}

func start(t *testing.T, spec fleetseed.Spec, env ...string) *sandbox.Fleet {
	t.Helper()
	emu := awsemu.StartTest(t)
	var log bytes.Buffer
	f, err := sandbox.StartFleet(t.Context(), emu, sandbox.FleetOptions{RIE: rieBin, Bootstrap: bootstrap, Spec: spec, Env: env, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		f.Close()
		if t.Failed() {
			t.Logf("function log:\n%s", log.String())
		}
	})
	return f
}

// emfLines returns the EMF records the function printed, by metric name.
func emfLines(t *testing.T, logs string) map[string][]map[string]any {
	t.Helper()
	out := map[string][]map[string]any{}
	for _, line := range strings.Split(logs, "\n") {
		if !strings.Contains(line, `"_aws"`) {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line[strings.Index(line, "{"):]), &rec); err != nil {
			t.Fatalf("EMF line %q: %v", line, err)
		}
		meta := rec["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)
		for _, m := range meta["Metrics"].([]any) {
			name := m.(map[string]any)["Name"].(string)
			out[name] = append(out[name], rec)
		}
	}
	return out
}

func TestScheduledReportUnderRIE(t *testing.T) {
	f := start(t, fleetseed.Mixed(11, 300, e2eRegions))
	r, res, err := f.Report(t.Context(), `{"trigger":"schedule","scheduleArn":"arn:aws:scheduler:eu-west-1:123456789012:schedule/default/fleet","scheduledTime":"2026-11-30T06:00:00Z"}`)
	if err != nil || res.Err() != nil {
		t.Fatalf("invoke: %v %v", err, res.Err())
	}
	if diffs := sandbox.CheckFleet(r, f.Expected); len(diffs) > 0 {
		t.Errorf("report differs from the seed:\n%s", strings.Join(diffs, "\n"))
	}
	if r.Cause.Trigger != fleet.TriggerSchedule || r.Kind != fleet.ReportKind || r.AccountID != sandbox.Account {
		t.Errorf("cause %+v kind %s account %s", r.Cause, r.Kind, r.AccountID)
	}

	msgs := f.Emu.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want the one digest", len(msgs))
	}
	m := msgs[0]
	if m.TopicARN != f.TopicARN || m.Attributes["kind"] != fleet.ReportKind || m.Attributes["severity"] != "low" {
		t.Errorf("digest to %s attributes %v", m.TopicARN, m.Attributes)
	}
	wantSubject := fmt.Sprintf("DHMC fleet: %d of %d instances ready in 3 Regions of %s", f.Expected.Total.Ready, f.Expected.Total.Running, sandbox.Account)
	if m.Subject != wantSubject {
		t.Errorf("subject %q, want %q", m.Subject, wantSubject)
	}
	for _, want := range []string{"DHMC setting OFF in: eu-central-1", "Migration candidates", "app-ssm-core", "AmazonSSMManagedInstanceCore (AWS managed)", fleet.JSONMarker} {
		if !strings.Contains(m.Body, want) {
			t.Errorf("digest lacks %q", want)
		}
	}

	if !f.Fn.WaitForLog(metrics.FleetReportCompleted, 2*time.Second) {
		t.Fatal("no completion metric in the log")
	}
	emf := emfLines(t, f.Fn.Logs())
	if len(emf[metrics.FleetRunning]) != 3 || len(emf[metrics.FleetReportCompleted]) != 1 {
		t.Fatalf("EMF running %d completed %d", len(emf[metrics.FleetRunning]), len(emf[metrics.FleetReportCompleted]))
	}
	for _, rec := range emf[metrics.FleetReady] {
		region := rec[metrics.DimRegion].(string)
		if got := int(rec[metrics.FleetReady].(float64)); got != f.Expected.Regions[region].Ready {
			t.Errorf("EMF %s ready %d, seeded %d", region, got, f.Expected.Regions[region].Ready)
		}
	}
	reasons := 0
	for _, rec := range emf[metrics.FleetNotReadyReason] {
		region, why := rec[metrics.DimRegion].(string), rec[metrics.DimReason].(string)
		if got := int(rec[metrics.FleetNotReadyReason].(float64)); got != f.Expected.Regions[region].Reasons[why] {
			t.Errorf("EMF %s %s = %d, seeded %d", region, why, got, f.Expected.Regions[region].Reasons[why])
		}
		reasons++
	}
	if reasons == 0 {
		t.Error("no per-reason metric")
	}
	// HttpTokens optional is hygiene: those instances count as ready (the
	// seed's oracle says so, and CheckFleet held the report to it above),
	// and they are counted on their own metric, never as a reason.
	if f.Expected.Total.Hygiene[fleetseed.IMDSv1] == 0 {
		t.Fatal("the seed has no IMDSv1 instance: the test would prove nothing")
	}
	if r.Totals.Hygiene[fleet.ReasonIMDSv1] != f.Expected.Total.Hygiene[fleetseed.IMDSv1] || r.Totals.Reasons[fleet.ReasonIMDSv1] != 0 {
		t.Errorf("imdsv1-allowed: hygiene %d reasons %d, seeded %d as hygiene", r.Totals.Hygiene[fleet.ReasonIMDSv1], r.Totals.Reasons[fleet.ReasonIMDSv1], f.Expected.Total.Hygiene[fleetseed.IMDSv1])
	}
	hygiene := 0
	for _, rec := range emf[metrics.FleetHygiene] {
		region, why := rec[metrics.DimRegion].(string), rec[metrics.DimReason].(string)
		hygiene += int(rec[metrics.FleetHygiene].(float64))
		if got := int(rec[metrics.FleetHygiene].(float64)); got != f.Expected.Regions[region].Hygiene[why] {
			t.Errorf("EMF hygiene %s %s = %d, seeded %d", region, why, got, f.Expected.Regions[region].Hygiene[why])
		}
	}
	if hygiene != f.Expected.Total.Hygiene[fleetseed.IMDSv1] {
		t.Errorf("EMF hygiene adds up to %d, seeded %d", hygiene, f.Expected.Total.Hygiene[fleetseed.IMDSv1])
	}
	for _, rec := range emf[metrics.FleetNotReadyReason] {
		if rec[metrics.DimReason] == fleetseed.IMDSv1 {
			t.Errorf("imdsv1-allowed counted as a reason not ready: %v", rec)
		}
	}
	if !strings.Contains(m.Body, "Hygiene (DHMC still manages these") {
		t.Error("digest lacks the hygiene section")
	}
	if w := f.Emu.CountCalls(func(c awsemu.Call) bool { return c.Write && c.Service != "sns" }); w != 0 {
		t.Errorf("%d writes besides the digest: the fleet function must only read", w)
	}
}

func TestOnDemandReportForSomeRegions(t *testing.T) {
	f := start(t, fleetseed.Mixed(12, 90, e2eRegions))
	r, res, err := f.Report(t.Context(), `{"action":"report","regions":["us-east-1"]}`)
	if err != nil || res.Err() != nil {
		t.Fatalf("invoke: %v %v", err, res.Err())
	}
	if len(r.Regions) != 1 || r.Regions[0].Region != "us-east-1" || r.Regions[0].Running != f.Expected.Regions["us-east-1"].Running {
		t.Errorf("regions %+v", r.Regions)
	}
	if r.Cause.Trigger != fleet.TriggerManual || len(f.Emu.Messages()) != 1 {
		t.Errorf("cause %+v, %d messages", r.Cause, len(f.Emu.Messages()))
	}
}

func TestBadInputIsAnInputErrorAndReadsNothing(t *testing.T) {
	f := start(t, fleetseed.Mixed(13, 30, e2eRegions))
	f.Emu.ResetCalls()
	for _, payload := range []string{`{"action":"report","regions":["nowhere"]}`, `{"action":"report","action":"check"}`, `{"action":"report","extra":true}`} {
		_, res, err := f.Report(t.Context(), payload)
		if err != nil {
			t.Fatal(err)
		}
		if res.ErrorType != "InputError" {
			t.Errorf("%s: errorType %q (%s), want InputError", payload, res.ErrorType, res.ErrorMessage)
		}
	}
	if n := f.Emu.CountCalls(nil); n != 0 || len(f.Emu.Messages()) != 0 {
		t.Errorf("%d AWS calls and %d messages for bad input", n, len(f.Emu.Messages()))
	}
}

func TestAFailedScheduledRunSendsTheDigestThenFails(t *testing.T) {
	f := start(t, fleetseed.Mixed(14, 60, e2eRegions), "DHMC_PARALLELISM=1")
	f.Emu.Inject(awsemu.Fault{Op: "ssm:DescribeInstanceInformation", Region: "eu-west-1", Kind: awsemu.FaultAccessDenied})
	_, res, err := f.Report(t.Context(), `{"trigger":"schedule"}`)
	if err != nil {
		t.Fatal(err)
	}
	if res.ErrorType != "ReadError" || !strings.Contains(res.ErrorMessage, "eu-west-1") {
		t.Errorf("result %+v, want a ReadError naming eu-west-1", res)
	}
	msgs := f.Emu.Messages()
	if len(msgs) != 1 || !strings.HasPrefix(msgs[0].Subject, "DHMC fleet (incomplete)") {
		t.Errorf("messages %+v", msgs)
	}
}
