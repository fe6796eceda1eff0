package central

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

const acct = "123456789012"

func finding(region string, kind dhmc.Kind, o dhmc.Outcome) dhmc.Result {
	return dhmc.Result{Finding: dhmc.Finding{Kind: kind, Region: region, Observed: "$None",
		Desired: "service-role/AWSSystemsManagerDefaultEC2InstanceManagementRole", Action: dhmc.ActionUpdateSetting}, Outcome: o}
}

func report(started string, results ...dhmc.Result) *dhmc.Report {
	return &dhmc.Report{Cause: dhmc.Cause{Trigger: "schedule"}, AccountID: acct, Mode: "enforce", StartedAt: started,
		DurationMs: 900, Regions: []string{"eu-west-1", "us-east-1"}, RoleChecked: true, Results: results,
		Calls: map[string]int{"ssm:GetServiceSetting": 2}, Reads: 4}
}

func TestRunEventOnlyForRunsThatFoundSomething(t *testing.T) {
	failedRead := report("2026-03-10T10:00:00Z")
	failedRead.Errors = []dhmc.RegionError{{Region: "eu-west-1", Error: "throttled"}}
	denied := report("2026-03-10T10:00:00Z")
	denied.Cause = dhmc.Cause{Trigger: "cloudtrail", EventName: "DetachRolePolicy", ErrorCode: "AccessDenied"}
	tests := []struct {
		name string
		r    *dhmc.Report
		want bool
	}{
		{"nil", nil, false},
		{"compliant sweep", report("2026-03-10T10:00:00Z"), false},
		{"drift", report("2026-03-10T10:00:00Z", finding("eu-west-1", dhmc.KindSettingDisabled, dhmc.OutcomeDone)), true},
		{"a Region that could not be read", failedRead, true},
		{"a denied attempt", denied, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, got := RunEvent(goodBus, tt.r); got != tt.want {
				t.Errorf("published = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRunEventCarriesTheReportAsDetail(t *testing.T) {
	r := report("2026-03-10T10:00:00Z", finding("eu-west-1", dhmc.KindSettingDisabled, dhmc.OutcomeDone))
	e, ok := RunEvent(goodBus, r)
	if !ok {
		t.Fatal("not published")
	}
	if aws.ToString(e.EventBusName) != goodBus || aws.ToString(e.Source) != Source || aws.ToString(e.DetailType) != DetailTypeRunReport {
		t.Errorf("entry = bus %s, source %s, detail-type %s", aws.ToString(e.EventBusName), aws.ToString(e.Source), aws.ToString(e.DetailType))
	}
	if e.Time == nil || !e.Time.Equal(time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("time = %v, want the run's start", e.Time)
	}
	var back dhmc.Report
	if err := json.Unmarshal([]byte(aws.ToString(e.Detail)), &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, r) {
		t.Errorf("detail is not the report:\n got %+v\nwant %+v", back, *r)
	}
	if strings.Contains(aws.ToString(e.Detail), "truncated") {
		t.Error("a small report was marked truncated")
	}
	r.StartedAt = "soon"
	if e, _ := RunEvent(goodBus, r); e.Time != nil {
		t.Errorf("time %v from an unreadable start; EventBridge should stamp it", e.Time)
	}
}

func TestRunEventKeepsLargeReportsUnderTheEntryLimit(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	withDocs := func(n, size int) []dhmc.Result {
		var out []dhmc.Result
		for i := range n {
			x := finding("", dhmc.KindUnexpectedInlinePolicy, dhmc.OutcomeDone)
			x.Target = fmt.Sprintf("policy-%d", i)
			x.Document = strings.Repeat(doc, size/len(doc))
			out = append(out, x)
		}
		return out
	}
	manyRegions := func(n int) []dhmc.Result {
		var out []dhmc.Result
		for i := range n {
			x := finding(fmt.Sprintf("eu-west-%d", i), dhmc.KindSettingDisabled, dhmc.OutcomeFailed)
			x.Error = strings.Repeat("é", 200)
			out = append(out, x)
		}
		return out
	}
	tests := []struct {
		name         string
		r            *dhmc.Report
		wantFindings int // -1: fewer than the report's, with totals
		wantNote     []string
	}{
		{"ten inline policies of 30 KB: documents left out, findings kept", report("2026-03-10T10:00:00Z", withDocs(10, 30_000)...),
			10, []string{"deleted policy documents left out"}},
		{"3000 failed Regions: findings cut, totals given", report("2026-03-10T10:00:00Z", manyRegions(3000)...),
			-1, []string{"showing", "of 3000 findings"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, ok := RunEvent(goodBus, tt.r)
			if !ok {
				t.Fatal("not published")
			}
			if n := EntrySize(e); n > MaxEntrySize {
				t.Errorf("entry is %d bytes, over %d", n, MaxEntrySize)
			}
			var d runDetail
			if err := json.Unmarshal([]byte(aws.ToString(e.Detail)), &d); err != nil {
				t.Fatalf("detail is not JSON: %v", err)
			}
			for _, w := range tt.wantNote {
				if !strings.Contains(d.Truncated, w) {
					t.Errorf("truncated = %q, lacks %q", d.Truncated, w)
				}
			}
			switch {
			case tt.wantFindings >= 0 && len(d.Results) != tt.wantFindings:
				t.Errorf("%d findings kept, want %d", len(d.Results), tt.wantFindings)
			case tt.wantFindings < 0 && (len(d.Results) == 0 || len(d.Results) >= len(tt.r.Results) || d.FindingsTotal != len(tt.r.Results)):
				t.Errorf("%d findings kept of %d, total %d", len(d.Results), len(tt.r.Results), d.FindingsTotal)
			}
			if d.AccountID != acct || d.Mode != "enforce" {
				t.Errorf("the report's facts were lost: %+v", d.Report)
			}
			if tt.r.Results[0].Document != "" && strings.Contains(aws.ToString(e.Detail), `"document"`) {
				t.Error("documents still in the detail")
			}
		})
	}
}

func TestEntrySizeCountsWhatEventBridgeCounts(t *testing.T) {
	e, _ := RunEvent(goodBus, report("2026-03-10T10:00:00Z", finding("eu-west-1", dhmc.KindSettingDisabled, dhmc.OutcomeDone)))
	want := 14 + len(Source) + len(DetailTypeRunReport) + len(aws.ToString(e.Detail))
	if got := EntrySize(e); got != want {
		t.Errorf("EntrySize = %d, want %d", got, want)
	}
	e.Resources = []string{"arn:aws:iam::123456789012:role/x"}
	if got := EntrySize(e); got != want+len(e.Resources[0]) {
		t.Errorf("EntrySize with a resource = %d", got)
	}
}
