package metrics

// Fleet readiness metrics (functions/fleet, emitted by internal/fleet's
// EmitMetrics), in Namespace. Dashboards refer to these: keep them stable.
const (
	// FleetRunning, FleetManagedNodes, FleetReady and FleetNotReady are the
	// Region's counts of one report, by Region.
	FleetRunning      = "FleetInstancesRunning"
	FleetManagedNodes = "FleetManagedNodes"
	FleetReady        = "FleetInstancesReady"
	FleetNotReady     = "FleetInstancesNotReady"
	// FleetNotReadyReason counts the running instances with one reason, by
	// Region and Reason (an instance with two reasons counts under both).
	FleetNotReadyReason = "FleetInstancesNotReadyByReason"
	// FleetHygiene counts the running instances, ready or not, with one
	// hygiene item (imdsv1-allowed), by Region and Reason: worth fixing, but
	// no reason DHMC cannot manage them.
	FleetHygiene = "FleetInstancesHygieneByReason"
	// FleetReportCompleted is 1 for each report that read every Region
	// completely, with no dimensions.
	FleetReportCompleted = "FleetReportCompleted"
)

// DimReason is the dimension of FleetNotReadyReason and FleetHygiene; its
// values are the fleet report's codes (old-agent, imdsv1-allowed, ...).
const DimReason = "Reason"
