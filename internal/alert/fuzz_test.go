package alert

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/alert/alerttest"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// hostileReport fills every field of a report that comes from outside (the
// event's cause, IAM's and SSM's answers, error texts) with the values of
// v, in turn; sel picks the outcome and trigger so that every renderer's
// branch is reached. Kinds and the mode are the guard's own.
func hostileReport(v [4]string, sel uint8) (*dhmc.Report, Notes) {
	n := 0
	pick := func() string { n++; return v[n%len(v)] }
	c := dhmc.Cause{Trigger: "cloudtrail", EventName: pick(), EventSource: dhmc.EventSourceIAM, EventID: pick(), EventTime: pick(),
		Region: pick(), Actor: pick(), ActorARN: pick(), ActorType: pick(), InvokedBy: pick(), SourceIP: pick(), UserAgent: pick()}
	switch sel % 4 {
	case 1:
		c.EventSource = dhmc.EventSourceSSM
	case 2:
		c.Trigger = "schedule"
	case 3:
		c.ErrorCode, c.ErrorMsg = pick(), pick()
	}
	outcomes := []dhmc.Outcome{dhmc.OutcomeDone, dhmc.OutcomeFailed, dhmc.OutcomeSkipped, dhmc.OutcomeBlocked, dhmc.OutcomeReported}
	finding := func(kind dhmc.Kind, region string) dhmc.Result {
		return dhmc.Result{
			Finding: dhmc.Finding{Kind: kind, Region: region, Role: pick(), Observed: pick(), Desired: pick(),
				Action: dhmc.Action(pick()), Target: pick(), Blocked: pick(), Manager: pick(), Adopt: pick(),
				Document: pick(), LastModifiedUser: pick(), LastModifiedDate: pick()},
			Outcome: outcomes[int(sel/4)%len(outcomes)], Error: pick(),
		}
	}
	r := &dhmc.Report{
		Cause: c, AccountID: pick(), Mode: []string{"enforce", "detect", "check"}[int(sel)%3], StartedAt: pick(),
		Regions: []string{pick(), "eu-west-1"}, RoleChecked: true,
		Results: []dhmc.Result{
			finding(dhmc.KindUnexpectedInlinePolicy, ""),
			finding(dhmc.KindSettingWrongRole, pick()),
			finding(dhmc.KindManagedElsewhere, "eu-west-1"),
		},
		Errors:          []dhmc.RegionError{{Region: pick(), Error: pick()}, {Region: "iam", Error: pick()}},
		RegionsIgnored:  []dhmc.IgnoredRegion{{Region: pick(), Reason: pick()}},
		SuggestedConfig: &dhmc.SuggestedConfig{Parameters: map[string]string{"RoleName": pick(), "RolePath": pick()}, Reason: pick()},
	}
	if sel%8 == 7 {
		r.Results = nil // a denied attempt: cause only
		r.Errors = nil
		if r.Cause.ErrorCode == "" {
			r.Cause.ErrorCode = "AccessDenied"
		}
	}
	at := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	notes := Notes{
		Flaps: []FlapNote{{Item: pick(), Kind: pick(), LikelyCause: pick(),
			Repairs: []Repair{{Actor: pick(), At: at}, {Actor: pick(), At: at}}}},
		Digests: []DigestNote{{Item: pick(), Kind: pick(), Actor: pick(), Count: 2, Since: at, Actors: []string{pick(), pick()}}},
	}
	return r, notes
}

// placeholders replaces each value by a plain one, the same for the same
// value and empty for empty: the message then has the lines the renderer
// writes and no others.
func placeholders(v [4]string) [4]string {
	var out [4]string
	for i, s := range v {
		if s == "" {
			continue
		}
		first := i
		for j := range i {
			if v[j] == s {
				first = j
				break
			}
		}
		out[i] = fmt.Sprintf("value%d", first)
	}
	return out
}

// renderProblems composes the alert of r and checks every sink.
func renderProblems(t *testing.T, r *dhmc.Report, n Notes) []string {
	t.Helper()
	m, ok := ComposeWith(r, n)
	if !ok {
		t.Fatalf("no message for a report with findings or a denied attempt")
	}
	p := alerttest.SubjectProblems(m.Subject)
	p = append(p, alerttest.TextProblems("e-mail body", m.Body)...)
	for k, v := range m.Attributes {
		p = append(p, alerttest.LineProblems("attribute "+k, v)...)
	}
	s, err := m.Structure()
	if err != nil {
		return append(p, "structure: "+err.Error())
	}
	p = append(p, alerttest.StructureProblems(s)...)
	var card map[string]any
	if err := json.Unmarshal([]byte(m.mustCard(t)), &card); err == nil {
		p = append(p, chatSchemaProblems(card)...)
	}
	if text, report, found := strings.Cut(m.Body, JSONMarker+"\n"); !found {
		p = append(p, "the body has no report JSON")
	} else if !strings.Contains(report, "[report JSON truncated") && !json.Valid([]byte(report)) {
		p = append(p, "the report JSON in the body is not valid JSON")
	} else if strings.Contains(text, "\r") {
		p = append(p, "a carriage return in the body")
	}
	return p
}

func (m Message) mustCard(t *testing.T) string {
	t.Helper()
	s, err := m.Structure()
	if err != nil {
		t.Fatal(err)
	}
	var protocols map[string]string
	if err := json.Unmarshal([]byte(s), &protocols); err != nil {
		t.Fatal(err)
	}
	return protocols[ProtocolChat]
}

// humanLines counts the lines of the body's summary (before the report
// JSON), without deleted documents, which keep their own lines.
func humanLines(r *dhmc.Report, n Notes) int {
	for i := range r.Results {
		r.Results[i].Document = ""
	}
	m, _ := ComposeWith(r, n)
	text, _, _ := strings.Cut(m.Body, JSONMarker)
	return strings.Count(text, "\n")
}

// FuzzRender holds every renderer of the alert to its sink's rules,
// whatever the event, IAM or the ledger hold: the subject is printable
// ASCII, one line, under 100 characters; the e-mail holds no control, bidi,
// line-separator or invisible character and no line the renderer did not
// write; the card is valid JSON with the schema's required fields, and its
// markdown has no link, image, mention or markup from outside; JSON stays
// valid. The digest message too.
func FuzzRender(f *testing.F) {
	h := alerttest.Hostile
	for i := range h {
		f.Add(h[i], h[(i+1)%len(h)], h[(i+2)%len(h)], h[(i+5)%len(h)], uint8(i))
	}
	f.Add("arn:aws:sts::123456789012:assumed-role/Admin/[x](https://evil.example)", "<!channel>", "\u202e", "a\u2028b", uint8(0))
	f.Fuzz(func(t *testing.T, a, b, c, d string, sel uint8) {
		v := [4]string{a, b, c, d}
		r, n := hostileReport(v, sel)
		for _, p := range renderProblems(t, r, n) {
			t.Error(p)
		}
		// Lines: what came from outside adds none.
		r, n = hostileReport(v, sel)
		pr, pn := hostileReport(placeholders(v), sel)
		if got, want := humanLines(r, n), humanLines(pr, pn); got != want {
			m, _ := ComposeWith(r, n)
			t.Errorf("the e-mail summary has %d lines, %d with plain values: a value forged lines:\n%s", got, want, m.Body)
		}
		dm, ok := DigestMessage(a, n.Digests, SeverityMedium)
		if !ok {
			t.Fatal("no digest message")
		}
		for _, p := range append(alerttest.SubjectProblems(dm.Subject), alerttest.TextProblems("digest body", dm.Body)...) {
			t.Error(p)
		}
	})
}

func TestHostileStringsAreInertInEverySink(t *testing.T) {
	h := alerttest.Hostile
	for i := range h {
		for sel := range uint8(8) {
			v := [4]string{h[i], h[(i+1)%len(h)], h[(i+3)%len(h)], h[(i+7)%len(h)]}
			r, n := hostileReport(v, sel)
			for _, p := range renderProblems(t, r, n) {
				t.Errorf("%q sel %d: %s", h[i], sel, p)
			}
		}
	}
}

// An outbox item is re-sent as it was stored, and anyone who can write the
// ledger table can store one: Send holds it to the sinks' rules too.
func TestSendHoldsAMessageNoRendererMadeToTheRules(t *testing.T) {
	p := &recorder{}
	forged := Message{
		Subject:    " Urgent\r\nBcc: x \u202eexe " + strings.Repeat("s", 200),
		Body:       "line one\r\nline\u2028two \u202egnp.exe\x00 \xff\nlast",
		Attributes: map[string]string{AttrAccount: "a\u0085b"},
	}
	if err := Send(t.Context(), p, "arn:aws:sns:eu-west-1:123456789012:alerts", forged); err != nil {
		t.Fatal(err)
	}
	in := p.got[0]
	problems := alerttest.SubjectProblems(*in.Subject)
	problems = append(problems, alerttest.TextProblems("body", *in.Message)...)
	problems = append(problems, alerttest.LineProblems("attribute", *in.MessageAttributes[AttrAccount].StringValue)...)
	for _, p := range problems {
		t.Error(p)
	}
	if want := "line one\\u000d\nline\\u2028two \\u202egnp.exe\\u0000 \\xff\nlast"; *in.Message != want {
		t.Errorf("body %q, want %q", *in.Message, want)
	}
	// A rendered message is published unchanged.
	m, _ := Compose(report("enforce", settingResult("eu-west-1", dhmc.OutcomeDone)))
	if Block(m.Body) != m.Body || Subject(m.Subject) != m.Subject {
		t.Error("the send-time rules changed a rendered message")
	}
}
