package metrics

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

var now = time.Date(2026, 3, 10, 10, 0, 1, 234_000_000, time.UTC)

// units CloudWatch accepts in EMF.
var units = []string{"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
	"Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second",
	"Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second",
	"Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None"}

// metric is one metric value read back from a record, with its dimensions.
type metric struct {
	Name  string
	Value float64
	Dims  map[string]string
}

// parseEMF validates every line of out against the EMF specification and
// returns the metrics it declares.
func parseEMF(t *testing.T, out []byte) []metric {
	t.Helper()
	var got []metric
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("line is not a JSON object: %v\n%s", err, sc.Bytes())
		}
		var meta struct {
			Timestamp         *int64 `json:"Timestamp"`
			CloudWatchMetrics []struct {
				Namespace  string     `json:"Namespace"`
				Dimensions [][]string `json:"Dimensions"`
				Metrics    []struct {
					Name string `json:"Name"`
					Unit string `json:"Unit"`
				} `json:"Metrics"`
			} `json:"CloudWatchMetrics"`
		}
		if err := json.Unmarshal(rec["_aws"], &meta); err != nil {
			t.Fatalf("_aws: %v", err)
		}
		if meta.Timestamp == nil || *meta.Timestamp != now.UnixMilli() {
			t.Errorf("Timestamp %v, want %d (milliseconds since the epoch)", meta.Timestamp, now.UnixMilli())
		}
		if len(meta.CloudWatchMetrics) == 0 {
			t.Errorf("no CloudWatchMetrics directive")
		}
		for _, d := range meta.CloudWatchMetrics {
			if d.Namespace != Namespace {
				t.Errorf("namespace %q", d.Namespace)
			}
			if len(d.Metrics) == 0 || len(d.Metrics) > 100 {
				t.Errorf("%d metrics in a directive", len(d.Metrics))
			}
			if d.Dimensions == nil {
				t.Errorf("Dimensions missing (use [[]] for none)")
			}
			for _, set := range d.Dimensions {
				if len(set) > 30 {
					t.Errorf("dimension set of %d", len(set))
				}
				for _, name := range set {
					var v string
					if err := json.Unmarshal(rec[name], &v); err != nil || v == "" {
						t.Errorf("dimension %q is not a non-empty string member: %s", name, rec[name])
					}
				}
				for _, m := range d.Metrics {
					if !slices.Contains(units, m.Unit) {
						t.Errorf("metric %s has unit %q", m.Name, m.Unit)
					}
					var v float64
					if err := json.Unmarshal(rec[m.Name], &v); err != nil {
						t.Errorf("metric %q is not a number member: %s", m.Name, rec[m.Name])
					}
					dims := map[string]string{}
					for _, name := range set {
						var s string
						_ = json.Unmarshal(rec[name], &s)
						dims[name] = s
					}
					got = append(got, metric{Name: m.Name, Value: v, Dims: dims})
				}
			}
		}
	}
	return got
}

func result(region string, kind dhmc.Kind, o dhmc.Outcome) dhmc.Result {
	return dhmc.Result{Finding: dhmc.Finding{Kind: kind, Region: region}, Outcome: o}
}

func sweep(results ...dhmc.Result) *dhmc.Report {
	return &dhmc.Report{Cause: dhmc.Cause{Trigger: "schedule"}, AccountID: "123456789012", Mode: "enforce",
		Regions: []string{"eu-west-1", "eu-central-1"}, RoleChecked: true, Results: results}
}

func TestEmit(t *testing.T) {
	rg := func(region, kind string) map[string]string {
		return map[string]string{DimRegion: region, DimKind: kind}
	}
	none := map[string]string{}
	readErr := sweep()
	readErr.Errors = []dhmc.RegionError{{Region: "eu-west-1", Error: "throttled"}}
	eventRun := sweep(result("eu-west-1", dhmc.KindSettingDisabled, dhmc.OutcomeDone))
	eventRun.Cause.Trigger = "cloudtrail"
	noRole := sweep()
	noRole.RoleChecked = false

	tests := []struct {
		name string
		r    *dhmc.Report
		want []metric
	}{
		{"compliant sweep", sweep(), []metric{{SweepCompleted, 1, none}}},
		{"compliant event run writes nothing", func() *dhmc.Report { r := sweep(); r.Cause.Trigger = "cloudtrail"; return r }(), nil},
		{"nil report", nil, nil},
		{"sweep that could not read a Region is not complete", readErr, nil},
		{"sweep without the role is not complete", noRole, nil},
		{"drift grouped by Region and kind", sweep(
			result("eu-west-1", dhmc.KindSettingDisabled, dhmc.OutcomeDone),
			result("", dhmc.KindUnexpectedManagedPolicy, dhmc.OutcomeDone),
			result("", dhmc.KindUnexpectedManagedPolicy, dhmc.OutcomeFailed),
			result("eu-central-1", dhmc.KindSettingWrongRole, dhmc.OutcomeSkipped),
		), []metric{
			{DriftFound, 1, rg("eu-central-1", "setting-wrong-role")},
			{Repaired, 0, rg("eu-central-1", "setting-wrong-role")},
			{RepairFailed, 0, rg("eu-central-1", "setting-wrong-role")},
			{DriftFound, 1, rg("eu-west-1", "setting-disabled")},
			{Repaired, 1, rg("eu-west-1", "setting-disabled")},
			{RepairFailed, 0, rg("eu-west-1", "setting-disabled")},
			{DriftFound, 2, rg(GlobalRegion, "unexpected-managed-policy")},
			{Repaired, 1, rg(GlobalRegion, "unexpected-managed-policy")},
			{RepairFailed, 1, rg(GlobalRegion, "unexpected-managed-policy")},
			// a failed repair does not stop the sweep from completing
			{SweepCompleted, 1, none},
		}},
		{"event run with drift", eventRun, []metric{
			{DriftFound, 1, rg("eu-west-1", "setting-disabled")},
			{Repaired, 1, rg("eu-west-1", "setting-disabled")},
			{RepairFailed, 0, rg("eu-west-1", "setting-disabled")},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Emit(&buf, tt.r, now); err != nil {
				t.Fatal(err)
			}
			got := parseEMF(t, buf.Bytes())
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("metrics\n got %v\nwant %v\nlog:\n%s", got, tt.want, buf.String())
			}
		})
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestEmitReturnsWriteErrors(t *testing.T) {
	if err := Emit(failingWriter{}, sweep(), now); err == nil {
		t.Error("write error swallowed")
	}
}
