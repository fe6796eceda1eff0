package guard

import (
	"strings"
	"testing"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/alert"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
)

var nowForTest = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestToldListsOnlyWhatTheWindowsSend(t *testing.T) {
	repaired := dhmc.Result{Finding: dhmc.Finding{Kind: dhmc.KindSettingDisabled, Region: "eu-west-1",
		Observed: "(unset)", Desired: "service-role/X", Action: dhmc.ActionUpdateSetting}, Outcome: dhmc.OutcomeDone}
	unreachable := dhmc.Result{Finding: dhmc.Finding{Kind: dhmc.KindRegionUnreachable, Region: "me-south-1",
		Observed: "api error UnrecognizedClientException", Action: dhmc.ActionNone}, Outcome: dhmc.OutcomeReported}
	r := &dhmc.Report{AccountID: "111122223333", Mode: "enforce", Results: []dhmc.Result{repaired, unreachable},
		Errors: []dhmc.RegionError{{Region: "ap-east-1", Error: "throttled"}}}
	signals := ledger.SignalsOf(r, alert.ResultSeverity, nowForTest)
	group := func(send bool, item string) ledger.Decision {
		g := ledger.Decision{Send: send, Item: item}
		for _, s := range signals {
			if s.Item == item {
				g.Signals = append(g.Signals, s)
			}
		}
		return g
	}
	tests := []struct {
		name       string
		d          ledger.Decisions
		subject    string
		listed     []string
		notListed  []string
		sameReport bool
	}{
		{"nothing held back: the whole report", ledger.Decisions{Available: true, Groups: []ledger.Decision{
			group(true, "eu-west-1"), group(true, "me-south-1"), group(true, "ap-east-1")}},
			"DHMC check FAILED in ap-east-1 of 111122223333; 1 repaired; 1 Region not enabled",
			[]string{"eu-west-1", "me-south-1", "ap-east-1"}, nil, true},
		{"a repeat held back is not listed nor counted in the subject", ledger.Decisions{Available: true, Groups: []ledger.Decision{
			group(true, "eu-west-1"), group(false, "me-south-1"), group(false, "ap-east-1")}},
			"DHMC drift repaired in eu-west-1 of 111122223333",
			[]string{"eu-west-1"}, []string{"me-south-1", "ap-east-1"}, false},
		{"an unmatched send keeps the whole report rather than an empty one", ledger.Decisions{Available: true, Groups: []ledger.Decision{
			{Send: true, Item: "elsewhere"}, group(false, "eu-west-1"), group(false, "me-south-1"), group(false, "ap-east-1")}},
			"DHMC check FAILED in ap-east-1 of 111122223333; 1 repaired; 1 Region not enabled",
			[]string{"eu-west-1", "me-south-1"}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := told(r, tt.d)
			if (got == r) != tt.sameReport {
				t.Fatalf("same report: %v, want %v", got == r, tt.sameReport)
			}
			if len(r.Results) != 2 || len(r.Errors) != 1 {
				t.Fatal("told changed the run's own report")
			}
			m, ok := alert.ComposeWith(got, notesOf(tt.d, nowForTest))
			if !ok {
				t.Fatal("nothing to send")
			}
			if m.Subject != tt.subject {
				t.Errorf("subject %q, want %q", m.Subject, tt.subject)
			}
			findings := m.Body[strings.Index(m.Body, "Account:"):strings.Index(m.Body, "Run: started")]
			for _, w := range tt.listed {
				if !strings.Contains(findings, w) {
					t.Errorf("body lacks %s:\n%s", w, findings)
				}
			}
			for _, w := range tt.notListed {
				if strings.Contains(findings, w) || strings.Contains(m.Chat.Content.Description, w) {
					t.Errorf("held-back %s is listed:\n%s\n%s", w, findings, m.Chat.Content.Description)
				}
			}
			if held := len(tt.notListed); held > 0 && !strings.Contains(m.Body, "repeat(s) of findings already reported") {
				t.Errorf("the held-back repeats are not counted:\n%s", m.Body)
			}
		})
	}
}
