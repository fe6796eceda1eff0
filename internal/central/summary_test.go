package central

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

func TestBuildSummaryCountsOneDay(t *testing.T) {
	day := time.Date(2026, 3, 10, 15, 4, 5, 0, time.FixedZone("CET", 3600))
	other := func(r *dhmc.Report, acct string) dhmc.Report { r.AccountID = acct; return *r }
	failedRead := report("2026-03-10T01:00:00Z")
	failedRead.Errors = []dhmc.RegionError{{Region: "eu-west-1", Error: "throttled"}}
	denied := report("2026-03-10T02:00:00Z")
	denied.Cause.ErrorCode = "AccessDenied"

	tests := []struct {
		name    string
		reports []dhmc.Report
		want    Summary
	}{
		{"no runs", nil, Summary{Day: "2026-03-10", Accounts: []string{}, FindingsByKind: map[string]int{}, FindingsByRegion: map[string]int{}}},
		{"a day of sweeps, repairs and a failure", []dhmc.Report{
			*report("2026-03-10T00:00:00Z"),
			*report("2026-03-10T00:30:00Z", finding("eu-west-1", dhmc.KindSettingDisabled, dhmc.OutcomeDone),
				finding("us-east-1", dhmc.KindSettingDisabled, dhmc.OutcomeDone),
				finding("", dhmc.KindManagedPolicyMissing, dhmc.OutcomeDone)),
			other(report("2026-03-10T23:59:59Z", finding("eu-west-1", dhmc.KindSettingWrongRole, dhmc.OutcomeFailed)), "210987654321"),
			*failedRead,
			*denied,
		}, Summary{Day: "2026-03-10", Accounts: []string{"123456789012", "210987654321"}, Runs: 5, RunsWithFindings: 2,
			FailedRuns: 2, DeniedAttempts: 1, Findings: 4,
			FindingsByKind:   map[string]int{"setting-disabled": 2, "managed-policy-missing": 1, "setting-wrong-role": 1},
			FindingsByRegion: map[string]int{"eu-west-1": 2, "us-east-1": 1, "global": 1}, Repaired: 3, RepairsFailed: 1}},
		{"reports of other days are left out and counted", []dhmc.Report{
			*report("2026-03-09T23:59:59Z", finding("eu-west-1", dhmc.KindSettingDisabled, dhmc.OutcomeDone)),
			*report("2026-03-11T00:00:00Z"),
			*report("2026-03-10T12:00:00+02:00"),
		}, Summary{Day: "2026-03-10", Accounts: []string{"123456789012"}, Runs: 1, OtherDays: 2,
			FindingsByKind: map[string]int{}, FindingsByRegion: map[string]int{}}},
		{"an unreadable start time still counts", []dhmc.Report{*report("")},
			Summary{Day: "2026-03-10", Accounts: []string{"123456789012"}, Runs: 1, FindingsByKind: map[string]int{}, FindingsByRegion: map[string]int{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := BuildSummary(day, tt.reports)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestSummaryEventCarriesTheSummary(t *testing.T) {
	s := BuildSummary(time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC),
		[]dhmc.Report{*report("2026-03-10T00:30:00Z", finding("eu-west-1", dhmc.KindSettingDisabled, dhmc.OutcomeDone))})
	e, err := SummaryEvent(goodBus, s)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(e.DetailType) != DetailTypeDailySummary || aws.ToString(e.Source) != Source || aws.ToString(e.EventBusName) != goodBus {
		t.Errorf("entry %+v", e)
	}
	var back Summary
	if err := json.Unmarshal([]byte(aws.ToString(e.Detail)), &back); err != nil || !reflect.DeepEqual(back, s) {
		t.Errorf("detail %s does not read back as the summary (%v)", aws.ToString(e.Detail), err)
	}
}

func TestSummaryMessageNeverPagesAndNamesTheAccount(t *testing.T) {
	s := BuildSummary(time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC),
		[]dhmc.Report{*report("2026-03-10T00:30:00Z", finding("eu-west-1", dhmc.KindSettingDisabled, dhmc.OutcomeFailed))})
	m := SummaryMessage(s)
	if m.Severity != "low" || m.Attributes["severity"] != "low" || m.Attributes["account"] != acct {
		t.Errorf("attributes %v", m.Attributes)
	}
	if m.Subject != "DHMC daily summary 2026-03-10 for 123456789012: 1 findings, 1 failed runs" {
		t.Errorf("subject %q", m.Subject)
	}
	for _, want := range []string{"setting-disabled 1", "eu-west-1 1", "1 repairs failed"} {
		if !strings.Contains(m.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, m.Body)
		}
	}
	// In the card, values from the reports are inline code.
	for _, want := range []string{"`setting-disabled` 1", "`eu-west-1` 1", "`123456789012`", "1 repairs failed"} {
		if !strings.Contains(m.Chat.Content.Description, want) {
			t.Errorf("card lacks %q:\n%s", want, m.Chat.Content.Description)
		}
	}
	if strings.Contains(m.Body, "*") {
		t.Errorf("the plain text has markdown:\n%s", m.Body)
	}
}
