package central

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/dhmc-guard/dhmc-guard/internal/alert/alerttest"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// centralProblems renders the central view of reports holding a, b and c
// where text from outside goes (the ledger's reports can be forged by
// whoever writes its table: account IDs, Regions and kinds included) and
// checks each sink: the run event's and the summary's JSON, the summary's
// subject, e-mail and card.
func centralProblems(t *testing.T, a, b, c string) []string {
	t.Helper()
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	mk := func(acct, region, kind, text string) dhmc.Report {
		return dhmc.Report{
			Cause:     dhmc.Cause{Trigger: "cloudtrail", EventName: text, Actor: text, ActorARN: text, UserAgent: text, SourceIP: text, EventTime: text},
			AccountID: acct, Mode: "enforce", StartedAt: "2026-03-10T09:00:00Z",
			Results: []dhmc.Result{{Finding: dhmc.Finding{Kind: dhmc.Kind(kind), Region: region, Target: text, Document: text, Observed: text},
				Outcome: dhmc.OutcomeFailed, Error: text}},
			Errors: []dhmc.RegionError{{Region: region, Error: text}},
		}
	}
	reports := []dhmc.Report{mk(a, b, c, a), mk(b, c, a, b), mk(c, a, b, c)}
	var p []string
	for i := range reports {
		e, ok := RunEvent("arn:aws:events:eu-west-1:111122223333:event-bus/central", &reports[i])
		if !ok {
			t.Fatal("a failed run is not published")
		}
		detail := aws.ToString(e.Detail)
		p = append(p, alerttest.TextProblems("run event detail", detail)...)
		var back map[string]any
		if err := json.Unmarshal([]byte(detail), &back); err != nil {
			p = append(p, "run event detail is not valid JSON: "+err.Error())
		}
	}
	s := BuildSummary(day, reports)
	e, err := SummaryEvent("arn:aws:events:eu-west-1:111122223333:event-bus/central", s)
	if err != nil {
		t.Fatal(err)
	}
	p = append(p, alerttest.TextProblems("summary event detail", aws.ToString(e.Detail))...)
	if !json.Valid([]byte(aws.ToString(e.Detail))) {
		p = append(p, "summary event detail is not valid JSON")
	}
	m := SummaryMessage(s)
	p = append(p, alerttest.SubjectProblems(m.Subject)...)
	p = append(p, alerttest.TextProblems("summary e-mail", m.Body)...)
	for k, v := range m.Attributes {
		p = append(p, alerttest.LineProblems("attribute "+k, v)...)
	}
	st, err := m.Structure()
	if err != nil {
		return append(p, "summary structure: "+err.Error())
	}
	return append(p, alerttest.StructureProblems(st)...)
}

// FuzzRenderCentral holds the central view's renderers to the rules
// FuzzRender (internal/alert) holds the account's alert to.
func FuzzRenderCentral(f *testing.F) {
	h := alerttest.Hostile
	for i := range h {
		f.Add(h[i], h[(i+1)%len(h)], h[(i+4)%len(h)])
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		for _, p := range centralProblems(t, a, b, c) {
			t.Error(p)
		}
	})
}

func TestCentralViewKeepsHostileStringsInert(t *testing.T) {
	h := alerttest.Hostile
	for i := range h {
		for _, p := range centralProblems(t, h[i], h[(i+1)%len(h)], h[(i+6)%len(h)]) {
			t.Errorf("%q: %s", h[i], p)
		}
	}
}
