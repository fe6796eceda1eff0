package securityhub

import (
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

var target = Target{Partition: "aws", Region: "eu-west-1", AccountID: "111122223333", RoleARN: "arn:aws:iam::111122223333:role/AWSSystemsManagerDefaultEC2InstanceManagementRole"}

func sev(x dhmc.Result) string {
	if x.Outcome == dhmc.OutcomeBlocked || x.Outcome == dhmc.OutcomeFailed {
		return "high"
	}
	return "medium"
}

func report(results ...dhmc.Result) *dhmc.Report {
	return &dhmc.Report{AccountID: target.AccountID, Regions: []string{"eu-west-1", "us-east-1"}, RoleChecked: true, Results: results}
}

func result(region string, kind dhmc.Kind, outcome dhmc.Outcome) dhmc.Result {
	return dhmc.Result{Finding: dhmc.Finding{Kind: kind, Region: region, Observed: "Disabled", Desired: "role"}, Outcome: outcome}
}

func TestObserve(t *testing.T) {
	r := report(
		result("eu-west-1", dhmc.KindSettingDisabled, dhmc.OutcomeSkipped),
		result("", dhmc.KindManagedPolicyMissing, dhmc.OutcomeDone),
		result("", dhmc.KindTrustPolicyUnrecognised, dhmc.OutcomeReported),
	)
	r.Errors = []dhmc.RegionError{{Region: "ap-south-1", Error: "AccessDenied"}}
	got := Observe(r, sev)
	want := map[string]struct{ status, outcome string }{
		"eu-west-1":  {StatusFailed, "skipped"},
		"us-east-1":  {StatusPassed, OutcomeCompliant},
		RoleItem:     {StatusWarning, "reported"},
		"ap-south-1": {StatusWarning, OutcomeReadError},
	}
	if len(got) != len(want) {
		t.Fatalf("observed %d items, want %d: %+v", len(got), len(want), got)
	}
	for _, o := range got {
		w := want[o.Item]
		if o.Status != w.status || o.Outcome != w.outcome {
			t.Errorf("%s: status %s outcome %s, want %s %s", o.Item, o.Status, o.Outcome, w.status, w.outcome)
		}
	}
	if role := got[2]; !slices.Equal(role.Kinds, []string{"managed-policy-missing", "trust-policy-unrecognised"}) {
		t.Errorf("role kinds %v", role.Kinds)
	}
}

func TestDecide(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	drifted := report(result("eu-west-1", dhmc.KindSettingDisabled, dhmc.OutcomeSkipped))
	repaired := report(result("eu-west-1", dhmc.KindSettingDisabled, dhmc.OutcomeDone))
	compliant := report()
	resolvedAll := func(m Memory) Memory {
		for k, v := range m.Items {
			if v.Status == StatusPassed {
				v.Resolved = true
				m.Items[k] = v
			}
		}
		return m
	}
	first := func() Memory {
		p := Decide(Observe(drifted, sev), Memory{}, target, t0)
		return resolvedAll(p.Next(Memory{}, target, Result{Imported: true, Resolved: true}, t0))
	}

	tests := []struct {
		name        string
		r           *dhmc.Report
		mem         func() Memory
		at          time.Duration
		imports     []string // items imported
		statuses    []string
		resolves    []string
		notEnabled  bool
		sameAsFirst bool
	}{
		{name: "first run: every item, FAILED and PASSED; the passing ones resolved", r: drifted, mem: func() Memory { return Memory{} },
			imports: []string{"eu-west-1", "us-east-1", RoleItem}, statuses: []string{StatusFailed, StatusPassed, StatusPassed}, resolves: []string{"us-east-1", RoleItem}},
		{name: "unchanged sweep sends nothing", r: drifted, mem: first, at: time.Hour},
		{name: "repair: the item PASSED and RESOLVED", r: repaired, mem: first, at: time.Hour,
			imports: []string{"eu-west-1"}, statuses: []string{StatusPassed}, resolves: []string{"eu-west-1"}},
		{name: "a day later: refreshed, nothing resolved again", r: drifted, mem: first, at: Refresh,
			imports: []string{"eu-west-1", "us-east-1", RoleItem}, statuses: []string{StatusFailed, StatusPassed, StatusPassed}},
		{name: "just under a day: nothing", r: drifted, mem: first, at: Refresh - time.Second},
		{name: "Security Hub refused within the hour: not tried", r: compliant, mem: func() Memory {
			m := first()
			m.NotEnabledAt = t0
			return m
		}, at: 30 * time.Minute},
		{name: "Security Hub refused an hour ago: tried again", r: compliant, mem: func() Memory {
			m := first()
			m.NotEnabledAt = t0
			return m
		}, at: time.Hour, imports: []string{"eu-west-1"}, statuses: []string{StatusPassed}, resolves: []string{"eu-west-1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := Decide(Observe(tc.r, sev), tc.mem(), target, t0.Add(tc.at))
			var items, statuses, resolves []string
			for _, f := range p.Import {
				items = append(items, f.ProductFields["dhmc-guard/Item"])
				statuses = append(statuses, string(f.Compliance.Status))
			}
			for _, id := range p.Resolve {
				for _, item := range []string{"eu-west-1", "us-east-1", RoleItem} {
					if aws.ToString(id.Id) == target.FindingID(item) {
						resolves = append(resolves, item)
					}
				}
			}
			if !slices.Equal(items, tc.imports) || !slices.Equal(statuses, tc.statuses) || !slices.Equal(resolves, tc.resolves) {
				t.Errorf("imports %v %v resolves %v, want %v %v %v", items, statuses, resolves, tc.imports, tc.statuses, tc.resolves)
			}
		})
	}
}

func TestNextKeepsWhatFailed(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	p := Decide(Observe(report(), sev), Memory{}, target, t0)
	res := Result{Imported: true, Resolved: true, FailedImports: []string{target.FindingID("us-east-1")}, FailedResolves: []string{target.FindingID(RoleItem)}}
	next := p.Next(Memory{}, target, res, t0)
	if _, ok := next.Items["us-east-1"]; ok {
		t.Error("a refused import is remembered as sent")
	}
	if next.Items[RoleItem].Resolved || !next.Items["eu-west-1"].Resolved {
		t.Errorf("resolved flags wrong: %+v", next.Items)
	}
	// The next run sends what failed, and only that.
	p2 := Decide(Observe(report(), sev), next, target, t0.Add(time.Minute))
	if len(p2.Import) != 1 || aws.ToString(p2.Import[0].Id) != target.FindingID("us-east-1") || len(p2.Resolve) != 2 {
		t.Errorf("retry plan: %d imports, %d resolves", len(p2.Import), len(p2.Resolve))
	}
	// Whole call failed: nothing changes.
	if got := p.Next(Memory{}, target, Result{}, t0); len(got.Items) != 0 {
		t.Errorf("failed calls remembered: %+v", got.Items)
	}
}

func TestFailingAgainReopens(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	mem := Memory{Items: map[string]Sent{"eu-west-1": {Status: StatusPassed, CreatedAt: t0, SentAt: t0, Resolved: true}}}
	r := &dhmc.Report{Regions: []string{"eu-west-1"}, Results: []dhmc.Result{result("eu-west-1", dhmc.KindSettingDisabled, dhmc.OutcomeBlocked)}}
	p := Decide(Observe(r, sev), mem, target, t0.Add(time.Hour))
	next := p.Next(mem, target, Result{Imported: true}, t0.Add(time.Hour))
	if s := next.Items["eu-west-1"]; s.Resolved || s.Status != StatusFailed || !s.CreatedAt.Equal(t0) {
		t.Errorf("reopened item: %+v", s)
	}
	f := p.Import[0]
	if aws.ToString(f.CreatedAt) != "2026-03-01T10:00:00Z" || f.FindingProviderFields.Severity.Label != types.SeverityLabelHigh {
		t.Errorf("finding keeps CreatedAt and ranks blocked high: %s %s", aws.ToString(f.CreatedAt), f.FindingProviderFields.Severity.Label)
	}
}

func TestFindingShape(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	obs := Observe(report(result("eu-west-1", dhmc.KindSettingDisabled, dhmc.OutcomeSkipped)), sev)
	f := Finding(obs[0], target, now, now)
	if got := aws.ToString(f.Resources[0].Id); got != "arn:aws:ssm:eu-west-1:111122223333:servicesetting/ssm/managed-instance/default-ec2-instance-management-role" {
		t.Errorf("setting ARN %s", got)
	}
	if aws.ToString(f.ProductArn) != "arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/default" {
		t.Errorf("product ARN %s", aws.ToString(f.ProductArn))
	}
	role := Finding(obs[2], target, now, now)
	if aws.ToString(role.Resources[0].Type) != "AwsIamRole" || aws.ToString(role.Resources[0].Id) != target.RoleARN {
		t.Errorf("role resource %+v", role.Resources[0])
	}
	if f.ProductFields["dhmc-guard/Kind"] != "setting-disabled" || f.ProductFields["dhmc-guard/Outcome"] != "skipped" || aws.ToString(f.Remediation.Recommendation.Url) != DocsURL {
		t.Errorf("product fields %v", f.ProductFields)
	}
}

func TestMemoryRoundTrip(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	m := Memory{Items: map[string]Sent{"eu-west-1": {Status: StatusFailed, Kinds: []string{"setting-disabled"}, CreatedAt: t0, SentAt: t0}}, NotEnabledToldAt: t0}
	got, err := DecodeMemory(m.Encode())
	if err != nil || !got.NotEnabledToldAt.Equal(t0) || got.Items["eu-west-1"].Status != StatusFailed {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	if _, err := DecodeMemory([]byte("{not json")); err == nil {
		t.Error("garbage decoded without error")
	}
	if !TellNotEnabled(Memory{}, t0) || TellNotEnabled(got, t0.Add(23*time.Hour)) || !TellNotEnabled(got, t0.Add(24*time.Hour)) {
		t.Error("not-enabled message not once a day")
	}
}
