package metrics

import (
	"slices"
	"strings"
)

// Metric is one metric the code emits: what a dashboard widget or an alarm
// may refer to. A CloudWatch metric is its namespace, name and exact set of
// dimension names; the same name with other dimensions is another metric.
type Metric struct {
	Namespace string
	Name      string
	// Dimensions are the dimension names, sorted; empty for none.
	Dimensions []string
	Unit       string
}

// Catalogue lists every metric dhmc-guard emits. A test runs Emit over
// sample reports and fails when it writes a metric that is not here (or
// when an entry here is never written); infra's tests fail when the
// dashboard names a metric that is not here. Add a metric here in the same
// change that starts emitting it.
func Catalogue() []Metric { return append(GuardMetrics(), FleetMetrics()...) }

// GuardMetrics are the guard's metrics (Emit and its siblings here).
func GuardMetrics() []Metric {
	regionKind := sortedDims(DimRegion, DimKind)
	return []Metric{
		{Namespace: Namespace, Name: DriftFound, Dimensions: regionKind, Unit: "Count"},
		{Namespace: Namespace, Name: Repaired, Dimensions: regionKind, Unit: "Count"},
		{Namespace: Namespace, Name: RepairFailed, Dimensions: regionKind, Unit: "Count"},
		{Namespace: Namespace, Name: SweepCompleted, Unit: "Count"},
		{Namespace: Namespace, Name: TimeToRepair, Dimensions: sortedDims(DimKind), Unit: "Seconds"},
		{Namespace: Namespace, Name: AlertsSent, Dimensions: sortedDims(DimSeverity), Unit: "Count"},
		{Namespace: Namespace, Name: AlertsSuppressed, Unit: "Count"},
		{Namespace: Namespace, Name: FailedCallIgnored, Dimensions: sortedDims(DimErrorCode), Unit: "Count"},
	}
}

// FleetMetrics are the fleet readiness report's (internal/fleet writes them;
// its tests hold it to this list).
func FleetMetrics() []Metric {
	region := sortedDims(DimRegion)
	return []Metric{
		{Namespace: Namespace, Name: FleetRunning, Dimensions: region, Unit: "Count"},
		{Namespace: Namespace, Name: FleetManagedNodes, Dimensions: region, Unit: "Count"},
		{Namespace: Namespace, Name: FleetReady, Dimensions: region, Unit: "Count"},
		{Namespace: Namespace, Name: FleetNotReady, Dimensions: region, Unit: "Count"},
		{Namespace: Namespace, Name: FleetNotReadyReason, Dimensions: sortedDims(DimRegion, DimReason), Unit: "Count"},
		{Namespace: Namespace, Name: FleetHygiene, Dimensions: sortedDims(DimRegion, DimReason), Unit: "Count"},
		{Namespace: Namespace, Name: FleetReportCompleted, Unit: "Count"},
	}
}

// Lookup finds the catalogued metric with this namespace, name and
// dimension names (in any order).
func Lookup(namespace, name string, dimensions []string) (Metric, bool) {
	dims := sortedDims(dimensions...)
	for _, m := range Catalogue() {
		if m.Namespace == namespace && m.Name == name && slices.Equal(m.Dimensions, dims) {
			return m, true
		}
	}
	return Metric{}, false
}

// String reads "DHMCGuard/DriftFound{Kind,Region}".
func (m Metric) String() string {
	return m.Namespace + "/" + m.Name + "{" + strings.Join(m.Dimensions, ",") + "}"
}

func sortedDims(d ...string) []string {
	out := slices.Clone(d)
	slices.Sort(out)
	if len(out) == 0 {
		return nil
	}
	return out
}
