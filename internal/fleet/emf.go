package fleet

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/metrics"
)

// EmitMetrics writes the report as CloudWatch Embedded Metric Format lines
// (names in internal/metrics/fleet.go): one record per Region with its
// counts, one per Region and reason or hygiene item present, and FleetReportCompleted when
// every Region was read completely. A reason with no instance writes
// nothing; dashboards treat missing data as zero.
func EmitMetrics(w io.Writer, r *Report, now time.Time) error {
	if r == nil {
		return nil
	}
	ts := now.UnixMilli()
	enc := json.NewEncoder(w)
	for _, x := range r.Regions {
		rec := emfRecord(ts, r, []string{metrics.DimRegion},
			metrics.FleetRunning, metrics.FleetManagedNodes, metrics.FleetReady, metrics.FleetNotReady)
		rec[metrics.DimRegion] = x.Region
		rec[metrics.FleetRunning], rec[metrics.FleetManagedNodes] = x.Running, x.ManagedNodes
		rec[metrics.FleetReady], rec[metrics.FleetNotReady] = x.Ready, x.NotReady
		rec["DHMC"] = x.DHMC.State
		if err := enc.Encode(rec); err != nil {
			return fmt.Errorf("writing fleet metrics (%s): %w", x.Region, err)
		}
		for _, l := range []struct {
			metric string
			order  []Reason
			counts map[Reason]*Sample
		}{{metrics.FleetNotReadyReason, Reasons, x.Reasons}, {metrics.FleetHygiene, Hygiene, x.Hygiene}} {
			for _, why := range l.order {
				s := l.counts[why]
				if s == nil || s.Count == 0 {
					continue
				}
				rec := emfRecord(ts, r, []string{metrics.DimRegion, metrics.DimReason}, l.metric)
				rec[metrics.DimRegion], rec[metrics.DimReason], rec[l.metric] = x.Region, string(why), s.Count
				if err := enc.Encode(rec); err != nil {
					return fmt.Errorf("writing fleet metrics (%s, %s): %w", x.Region, why, err)
				}
			}
		}
	}
	if !r.Failed() && len(r.Regions) > 0 {
		rec := emfRecord(ts, r, []string{}, metrics.FleetReportCompleted)
		rec[metrics.FleetReportCompleted] = 1
		rec["RegionsChecked"] = len(r.Regions)
		if err := enc.Encode(rec); err != nil {
			return fmt.Errorf("writing the fleet report metric: %w", err)
		}
	}
	return nil
}

// emfRecord starts a record declaring count metrics under one dimension
// set, with searchable context that is not a dimension.
func emfRecord(ts int64, r *Report, dims []string, names ...string) map[string]any {
	defs := make([]map[string]string, len(names))
	for i, n := range names {
		defs[i] = map[string]string{"Name": n, "Unit": "Count"}
	}
	rec := map[string]any{"_aws": map[string]any{
		"Timestamp": ts,
		"CloudWatchMetrics": []map[string]any{{
			"Namespace": metrics.Namespace, "Dimensions": [][]string{dims}, "Metrics": defs,
		}},
	}}
	rec["Report"] = ReportKind
	rec["Trigger"] = r.Cause.Trigger
	if r.AccountID != "" {
		rec["AccountId"] = r.AccountID
	}
	return rec
}
