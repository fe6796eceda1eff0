// Package metrics writes a run's metrics as CloudWatch Embedded Metric Format
// (EMF) records: JSON lines in the function's log that CloudWatch turns into
// metrics, with no API call and no extra permission.
package metrics

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// Namespace holds every dhmc-guard metric.
const Namespace = "DHMCGuard"

// Metric names. Alarms and dashboards refer to these: keep them stable.
const (
	// DriftFound counts findings, by Region and Kind.
	DriftFound = "DriftFound"
	// Repaired counts findings whose repair worked, by Region and Kind.
	Repaired = "Repaired"
	// RepairFailed counts findings whose repair failed, by Region and Kind.
	RepairFailed = "RepairFailed"
	// SweepCompleted is 1 for each completed scheduled sweep, with no
	// dimensions, so that one alarm on "fewer than 1 in N hours" (missing
	// data treated as breaching) says the safety net has stopped.
	SweepCompleted = "SweepCompleted"
	// FailedCallIgnored counts CloudTrail events of failed calls on the DHMC
	// role or setting that were not access denials (NoSuchEntity,
	// throttling, ...), by ErrorCode: never paged, but visible.
	FailedCallIgnored = "FailedCallIgnored"
	// TimeToRepair is, for each repaired finding whose change time is known,
	// the seconds from the change (CloudTrail's eventTime, or the setting's
	// LastModifiedDate) to the end of the run that repaired it, by Kind.
	TimeToRepair = "TimeToRepair"
	// AlertsSent counts messages published to the alert topic, by Severity;
	// AlertsSuppressed counts runs whose findings were all repeats within
	// the alert window (counted for a digest, not sent).
	AlertsSent       = "AlertsSent"
	AlertsSuppressed = "AlertsSuppressed"
)

// Dimension names.
const (
	DimRegion = "Region"
	DimKind   = "Kind"
	// DimErrorCode is the CloudTrail errorCode: a small, AWS-defined set.
	DimErrorCode = "ErrorCode"
	// DimSeverity is an alert's severity: high, medium, low.
	DimSeverity = "Severity"
)

// GlobalRegion is the Region dimension of role findings: IAM is global.
const GlobalRegion = "global"

// emf is one EMF record: the _aws metadata, then the dimension values,
// metric values and extra properties as top-level members.
type emf map[string]any

type metadata struct {
	Timestamp         int64       `json:"Timestamp"`
	CloudWatchMetrics []directive `json:"CloudWatchMetrics"`
}

type directive struct {
	Namespace  string       `json:"Namespace"`
	Dimensions [][]string   `json:"Dimensions"`
	Metrics    []definition `json:"Metrics"`
}

type definition struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

// SweepCompletedFor reports whether r counts as a completed sweep: it was
// started by the schedule (EventBridge rule or Scheduler), so it covered
// every managed Region and the role; the role was checked; at least one
// Region was checked; and no Region or the role failed to be read or
// repaired as a whole (r.Errors is empty). A failed single repair does not
// stop the sweep from completing: it has its own metric and alert.
// CloudTrail and manual runs never count, so an alarm on this metric fires
// when the schedule stops, even if events keep the function busy.
func SweepCompletedFor(r *dhmc.Report) bool {
	return r.Cause.Trigger == "schedule" && r.RoleChecked && len(r.Regions) > 0 && len(r.Errors) == 0
}

// Emit writes one EMF record per (Region, Kind) group of r's findings, and
// a SweepCompleted record when SweepCompletedFor(r). Each record is one
// JSON line. Nothing is written for a compliant run that was not a sweep.
func Emit(w io.Writer, r *dhmc.Report, now time.Time) error {
	if r == nil {
		return nil
	}
	ts := now.UnixMilli()
	type key struct{ region, kind string }
	type counts struct{ found, repaired, failed int }
	groups := map[key]*counts{}
	for _, x := range r.Results {
		k := key{region: x.Region, kind: string(x.Kind)}
		if k.region == "" {
			k.region = GlobalRegion
		}
		c := groups[k]
		if c == nil {
			c = &counts{}
			groups[k] = c
		}
		c.found++
		switch x.Outcome {
		case dhmc.OutcomeDone:
			c.repaired++
		case dhmc.OutcomeFailed:
			c.failed++
		}
	}
	keys := make([]key, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int {
		if c := strings.Compare(a.region, b.region); c != 0 {
			return c
		}
		return strings.Compare(a.kind, b.kind)
	})

	enc := json.NewEncoder(w)
	for _, k := range keys {
		c := groups[k]
		rec := record(ts, [][]string{{DimRegion, DimKind}}, DriftFound, Repaired, RepairFailed)
		rec[DimRegion], rec[DimKind] = k.region, k.kind
		rec[DriftFound], rec[Repaired], rec[RepairFailed] = c.found, c.repaired, c.failed
		addContext(rec, r)
		if err := enc.Encode(rec); err != nil {
			return fmt.Errorf("writing drift metrics (%s, %s): %w", k.region, k.kind, err)
		}
	}
	if err := emitTimings(enc, ts, r); err != nil {
		return err
	}
	if SweepCompletedFor(r) {
		rec := record(ts, [][]string{{}}, SweepCompleted)
		rec[SweepCompleted] = 1
		rec["RegionsChecked"] = len(r.Regions)
		addContext(rec, r)
		if err := enc.Encode(rec); err != nil {
			return fmt.Errorf("writing sweep metric: %w", err)
		}
	}
	return nil
}

// emitTimings writes one TimeToRepair record per Kind with the longest
// time of the run's repairs of that kind (one value per record keeps the
// metric's maximum and average meaningful across runs).
func emitTimings(enc *json.Encoder, ts int64, r *dhmc.Report) error {
	longest := map[dhmc.Kind]time.Duration{}
	for _, x := range r.Results {
		if t, ok := dhmc.TimingOf(r, x); ok && t.Repaired >= longest[x.Kind] {
			longest[x.Kind] = t.Repaired
		}
	}
	kinds := make([]dhmc.Kind, 0, len(longest))
	for k := range longest {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		rec := recordUnit(ts, [][]string{{DimKind}}, "Seconds", TimeToRepair)
		rec[DimKind] = string(k)
		rec[TimeToRepair] = longest[k].Seconds()
		addContext(rec, r)
		if err := enc.Encode(rec); err != nil {
			return fmt.Errorf("writing time-to-repair metric (%s): %w", k, err)
		}
	}
	return nil
}

// EmitAlert writes AlertsSent (by severity) when sent, else AlertsSuppressed.
func EmitAlert(w io.Writer, sent bool, severity string, now time.Time) error {
	if w == nil {
		return nil
	}
	var rec emf
	if sent {
		rec = record(now.UnixMilli(), [][]string{{DimSeverity}}, AlertsSent)
		rec[DimSeverity], rec[AlertsSent] = severity, 1
	} else {
		rec = record(now.UnixMilli(), [][]string{{}}, AlertsSuppressed)
		rec[AlertsSuppressed] = 1
	}
	if err := json.NewEncoder(w).Encode(rec); err != nil {
		return fmt.Errorf("writing alert metric: %w", err)
	}
	return nil
}

// EmitFailedCall writes one FailedCallIgnored record for an ignored failed
// call by someone else.
func EmitFailedCall(w io.Writer, c dhmc.Cause, now time.Time) error {
	if w == nil {
		return nil
	}
	rec := record(now.UnixMilli(), [][]string{{DimErrorCode}}, FailedCallIgnored)
	rec[DimErrorCode] = c.ErrorCode
	rec[FailedCallIgnored] = 1
	rec["EventName"] = c.EventName
	rec["Actor"] = c.Actor
	if err := json.NewEncoder(w).Encode(rec); err != nil {
		return fmt.Errorf("writing failed-call metric: %w", err)
	}
	return nil
}

// record starts an EMF record declaring metrics (all counts) under dims.
func record(ts int64, dims [][]string, metrics ...string) emf {
	return recordUnit(ts, dims, "Count", metrics...)
}

func recordUnit(ts int64, dims [][]string, unit string, metrics ...string) emf {
	defs := make([]definition, len(metrics))
	for i, m := range metrics {
		defs[i] = definition{Name: m, Unit: unit}
	}
	return emf{"_aws": metadata{Timestamp: ts, CloudWatchMetrics: []directive{{
		Namespace: Namespace, Dimensions: dims, Metrics: defs,
	}}}}
}

// addContext adds searchable properties that are not dimensions (they would
// multiply the metric's cost), for Logs Insights queries.
func addContext(rec emf, r *dhmc.Report) {
	rec["Trigger"] = r.Cause.Trigger
	rec["Mode"] = r.Mode
	if r.AccountID != "" {
		rec["AccountId"] = r.AccountID
	}
}
