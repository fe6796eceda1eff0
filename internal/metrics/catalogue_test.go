package metrics

import (
	"bufio"
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// emitted reads the metrics an EMF stream declares: each (namespace, name,
// dimension set) with its unit.
func emitted(t *testing.T, out []byte) []Metric {
	t.Helper()
	var got []Metric
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec struct {
			AWS struct {
				CloudWatchMetrics []struct {
					Namespace  string     `json:"Namespace"`
					Dimensions [][]string `json:"Dimensions"`
					Metrics    []struct {
						Name string `json:"Name"`
						Unit string `json:"Unit"`
					} `json:"Metrics"`
				} `json:"CloudWatchMetrics"`
			} `json:"_aws"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("not an EMF record: %v\n%s", err, sc.Bytes())
		}
		for _, d := range rec.AWS.CloudWatchMetrics {
			for _, set := range d.Dimensions {
				for _, m := range d.Metrics {
					got = append(got, Metric{Namespace: d.Namespace, Name: m.Name, Dimensions: sortedDims(set...), Unit: m.Unit})
				}
			}
		}
	}
	return got
}

// samples between them make Emit write every metric it can.
func samples() []*dhmc.Report {
	sweep := &dhmc.Report{Cause: dhmc.Cause{Trigger: "schedule"}, AccountID: "123456789012", Mode: "enforce",
		Regions: []string{"eu-west-1"}, RoleChecked: true}
	drift := *sweep
	drift.Cause = dhmc.Cause{Trigger: "cloudtrail"}
	drift.StartedAt = "2026-12-02T10:00:30Z"
	drift.Results = []dhmc.Result{
		{Finding: dhmc.Finding{Kind: dhmc.KindSettingDisabled, Region: "eu-west-1", LastModifiedDate: "2026-12-02T10:00:00Z"}, Outcome: dhmc.OutcomeDone},
		{Finding: dhmc.Finding{Kind: dhmc.KindManagedPolicyMissing}, Outcome: dhmc.OutcomeFailed},
		{Finding: dhmc.Finding{Kind: dhmc.KindSettingPending, Region: "us-east-1"}, Outcome: dhmc.OutcomeInProgress},
	}
	return []*dhmc.Report{sweep, &drift}
}

func TestEmitWritesOnlyCataloguedMetricsAndEveryOne(t *testing.T) {
	seen := map[string]bool{}
	// The other emitters' records, beside Emit's for each sample.
	var others bytes.Buffer
	for _, err := range []error{
		EmitAlert(&others, true, "high", now), EmitAlert(&others, false, "", now),
		EmitFailedCall(&others, dhmc.Cause{ErrorCode: "NoSuchEntity", EventName: "DetachRolePolicy"}, now),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	streams := [][]byte{others.Bytes()}
	for _, r := range samples() {
		var out bytes.Buffer
		if err := Emit(&out, r, now); err != nil {
			t.Fatal(err)
		}
		streams = append(streams, out.Bytes())
	}
	for _, out := range streams {
		for _, m := range emitted(t, out) {
			c, ok := Lookup(m.Namespace, m.Name, m.Dimensions)
			if !ok {
				t.Errorf("Emit writes %s, which is not in the catalogue", m)
				continue
			}
			if c.Unit != m.Unit {
				t.Errorf("%s is written in %s, catalogued in %s", m, m.Unit, c.Unit)
			}
			seen[c.String()] = true
		}
	}
	for _, c := range GuardMetrics() {
		if !seen[c.String()] {
			t.Errorf("the catalogue lists %s, which Emit never wrote over the samples", c)
		}
	}
}

func TestCatalogueIsWellFormed(t *testing.T) {
	names := map[string]bool{}
	for _, m := range Catalogue() {
		if names[m.String()] {
			t.Errorf("%s is listed twice", m)
		}
		names[m.String()] = true
		if !slices.IsSorted(m.Dimensions) {
			t.Errorf("%s: dimensions not sorted", m)
		}
		if !slices.Contains(units, m.Unit) {
			t.Errorf("%s: unit %q is not an EMF unit", m, m.Unit)
		}
	}
	if _, ok := Lookup(Namespace, DriftFound, []string{DimKind, DimRegion}); !ok {
		t.Error("Lookup does not find DriftFound by its dimensions in another order")
	}
	if _, ok := Lookup(Namespace, DriftFound, []string{DimRegion}); ok {
		t.Error("Lookup found DriftFound with one of its two dimensions: that is another metric")
	}
}
