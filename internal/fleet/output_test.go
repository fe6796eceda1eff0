package fleet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/dhmc-guard/dhmc-guard/internal/metrics"
)

func TestParseInput(t *testing.T) {
	many := make([]string, MaxRegions+1)
	for i := range many {
		many[i] = fmt.Sprintf(`"eu-west-%d"`, i+1)
	}
	tests := []struct {
		name    string
		in      string
		regions []string
		trigger string
		err     string // a part of the InputError, "" for none
	}{
		{"report everywhere", `{"action":"report"}`, nil, TriggerManual, ""},
		{"report some Regions", `{"action":"report","regions":["eu-west-1","us-east-1"]}`, []string{"eu-west-1", "us-east-1"}, TriggerManual, ""},
		{"scheduler payload", `{"trigger":"schedule","scheduleArn":"arn:aws:scheduler:eu-west-1:123456789012:schedule/default/fleet","scheduledTime":"2026-11-30T06:00:00Z"}`, nil, TriggerSchedule, ""},
		{"scheduler payload, placeholders left", `{"trigger":"schedule","scheduleArn":"<aws.scheduler.schedule-arn>"}`, nil, "", "placeholder"},
		{"unknown action", `{"action":"check"}`, nil, "", `unknown action "check"`},
		{"unknown field", `{"action":"report","region":["eu-west-1"]}`, nil, "", `unknown field "region"`},
		{"unknown scheduler field", `{"trigger":"schedule","extra":1}`, nil, "", `unknown field "extra"`},
		{"repeated key", `{"action":"report","action":"report"}`, nil, "", `"action" appears more than once`},
		{"repeated nested key", `{"action":"report","regions":[{"a":1,"a":2}]}`, nil, "", `appears more than once`},
		{"bad Region", `{"action":"report","regions":["Europe"]}`, nil, "", `regions[0] "Europe" is not a Region code`},
		{"repeated Region", `{"action":"report","regions":["eu-west-1","eu-west-1"]}`, nil, "", "regions[1] repeats eu-west-1"},
		{"too many Regions", `{"action":"report","regions":[` + strings.Join(many, ",") + `]}`, nil, "", "at most 64"},
		{"regions not a list", `{"action":"report","regions":"eu-west-1"}`, nil, "", `field "regions"`},
		{"not an object", `["report"]`, nil, "", "JSON object"},
		{"empty", ``, nil, "", "JSON object"},
		{"neither", `{"hello":"world"}`, nil, "", `neither "action" nor "trigger"`},
		{"trailing data", `{"action":"report"} {}`, nil, "", "after its JSON object"},
		{"broken JSON", `{"action":"report"`, nil, "", "not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseInput([]byte(tt.in))
			if tt.err != "" {
				var ie *InputError
				if !errors.As(err, &ie) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want an InputError containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Regions, tt.regions) || got.Cause.Trigger != tt.trigger {
				t.Errorf("got %+v, want regions %v trigger %s", got, tt.regions, tt.trigger)
			}
		})
	}
}

func FuzzParseInput(f *testing.F) {
	for _, s := range []string{`{"action":"report"}`, `{"action":"report","regions":["eu-west-1"]}`, `{"trigger":"schedule"}`, `{"a":{"b":[1,{"c":2}]}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		req, err := ParseInput(raw)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error %v is not an InputError", err)
			}
			return
		}
		if len(req.Regions) > MaxRegions || (req.Cause.Trigger != TriggerManual && req.Cause.Trigger != TriggerSchedule) {
			t.Fatalf("accepted %q as %+v", raw, req)
		}
	})
}

// bigReport is a report with every reason and many candidates.
func bigReport(regions, candidates int) *Report {
	var ts []*Tally
	profiles := make([]*Profile, candidates)
	for i := range profiles {
		p, _ := NewProfile(fmt.Sprintf("arn:aws:iam::123456789012:instance-profile/app-%04d-with-a-long-team-name", i), fmt.Sprintf("app-%04d-with-a-long-team-name", i),
			[]string{fmt.Sprintf("app-%04d-role", i)}, []Policy{{Name: "AmazonSSMManagedInstanceCore", Kind: PolicyAWSManaged, Document: `{"Statement":{"Effect":"Allow","Action":"ssm:*","Resource":"*"}}`}})
		profiles[i] = p
	}
	for r := range regions {
		region := fmt.Sprintf("eu-west-%d", r+1)
		d := DHMC{State: DHMCOn, Role: "r"}
		if r == 0 {
			d = DHMC{State: DHMCOff}
		}
		t := NewTally(region, d, DefaultSample)
		for i := range 2000 {
			in := Instance{ID: fmt.Sprintf("i-0%016x", r*100000+i), Region: region, AccountID: "123456789012", HTTPTokens: []string{"required", "optional"}[i%2], HTTPEndpoint: "enabled"}
			var node *Node
			if i%3 != 0 {
				node = &Node{PingStatus: []string{"Online", "ConnectionLost"}[i%5/4], AgentVersion: []string{"3.2.582.0", "3.1.0.0"}[i%7/6]}
			}
			var p *Profile
			if candidates > 0 && i%4 == 0 {
				p = profiles[(i/4)%candidates]
			}
			t.AddInstance(in, node, p)
		}
		ts = append(ts, t)
	}
	rep := &Report{Kind: ReportKind, AccountID: "123456789012", StartedAt: "2026-11-30T06:00:00Z", MinAgentVersion: MinAgentVersion}
	Merge(rep, ts, DefaultSample)
	return rep
}

func TestDigestFitsSNS(t *testing.T) {
	for _, tt := range []struct {
		name                string
		regions, candidates int
		wantJSON            bool
	}{
		{"small", 3, 4, true},
		{"17 Regions", 17, 40, true},
		{"thousands of profiles", 17, 3000, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := bigReport(tt.regions, tt.candidates)
			d := Compose(r)
			if len(d.Subject) > MaxSubject || len(d.Subject) == 0 {
				t.Errorf("subject %d characters: %q", len(d.Subject), d.Subject)
			}
			for _, c := range d.Subject {
				if c > unicode.MaxASCII || !unicode.IsPrint(c) {
					t.Errorf("subject has %q", c)
				}
			}
			if len(d.Body) > MaxBody {
				t.Errorf("body %d bytes, over %d", len(d.Body), MaxBody)
			}
			_, js, hasJSON := strings.Cut(d.Body, JSONMarker+"\n")
			if hasJSON != tt.wantJSON {
				t.Fatalf("JSON in body %v, want %v", hasJSON, tt.wantJSON)
			}
			if hasJSON {
				var back Report
				if err := json.Unmarshal([]byte(js), &back); err != nil || back.Totals.Running != r.Totals.Running {
					t.Errorf("the report at the end does not decode: %v", err)
				}
			}
			for _, want := range []string{"Ready for DHMC: ", "Why not ready", "DHMC setting OFF in: eu-west-1", "SSM Agent older than 3.2.582.0", "Hygiene (DHMC still manages these", "IMDSv1 still allowed", "--http-tokens required", "eu-west-2"} {
				if !strings.Contains(d.Body, want) {
					t.Errorf("body lacks %q", want)
				}
			}
			if tt.candidates > 0 && !strings.Contains(d.Body, "Migration candidates") {
				t.Error("body lacks the migration candidates")
			}
			if tt.candidates > digestCandidates && !strings.Contains(d.Body, "more profiles") {
				t.Error("the candidate list is not cut")
			}
			if d.Attributes["kind"] != ReportKind || d.Attributes["account"] != "123456789012" || d.Attributes["severity"] != "low" {
				t.Errorf("attributes %v", d.Attributes)
			}
		})
	}
}

func TestDigestSaysWhenIncomplete(t *testing.T) {
	r := bigReport(2, 1)
	r.Regions[1].Error = "listing running instances (eu-west-2): AccessDenied"
	d := Compose(r)
	if !strings.HasPrefix(d.Subject, "DHMC fleet (incomplete)") || !strings.Contains(d.Body, "Not read completely") || d.Attributes["severity"] != "medium" {
		t.Errorf("subject %q severity %s", d.Subject, d.Attributes["severity"])
	}
}

func TestMetricsAreEMF(t *testing.T) {
	r := bigReport(2, 1)
	r.Cause.Trigger = TriggerSchedule
	var buf bytes.Buffer
	if err := EmitMetrics(&buf, r, time.Unix(1800000000, 0)); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	catalogued := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		meta := rec["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)
		if meta["Namespace"] != metrics.Namespace {
			t.Errorf("namespace %v", meta["Namespace"])
		}
		dims := meta["Dimensions"].([]any)[0].([]any)
		var dimNames []string
		for _, d := range dims {
			if _, ok := rec[d.(string)]; !ok {
				t.Errorf("dimension %v has no value in %s", d, line)
			}
			dimNames = append(dimNames, d.(string))
		}
		for _, m := range meta["Metrics"].([]any) {
			name := m.(map[string]any)["Name"].(string)
			// Dashboards name these: each must be catalogued as written.
			if c, ok := metrics.Lookup(metrics.Namespace, name, dimNames); !ok || c.Unit != m.(map[string]any)["Unit"] {
				t.Errorf("%s%v (%v) is not in metrics.FleetMetrics()", name, dimNames, m)
			}
			catalogued[name+fmt.Sprint(dimNames)] = true
			if _, ok := rec[name].(float64); !ok {
				t.Errorf("metric %s has no value in %s", name, line)
			}
			seen[name]++
		}
		if rec[metrics.DimRegion] == "eu-west-1" && rec[metrics.FleetReady] != nil && rec[metrics.FleetReady].(float64) != float64(r.Regions[0].Ready) {
			t.Errorf("eu-west-1 ready %v, want %d", rec[metrics.FleetReady], r.Regions[0].Ready)
		}
	}
	for _, m := range []string{metrics.FleetRunning, metrics.FleetManagedNodes, metrics.FleetReady, metrics.FleetNotReady} {
		if seen[m] != 2 {
			t.Errorf("%s emitted %d times, want once per Region", m, seen[m])
		}
	}
	if seen[metrics.FleetReportCompleted] != 1 || seen[metrics.FleetNotReadyReason] < 6 {
		t.Errorf("emitted %v", seen)
	}
	if len(catalogued) != len(metrics.FleetMetrics()) {
		t.Errorf("emitted %d of the %d catalogued fleet metrics: %v", len(catalogued), len(metrics.FleetMetrics()), catalogued)
	}
	r.Regions[0].Error = "failed"
	buf.Reset()
	_ = EmitMetrics(&buf, r, time.Now())
	if strings.Contains(buf.String(), metrics.FleetReportCompleted) {
		t.Error("an incomplete report counted as completed")
	}
}
