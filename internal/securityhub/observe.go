// Package securityhub turns a run's report into AWS Security Finding Format
// (ASFF) findings for the account's Security Hub: one finding per item (each
// Region's DHMC setting, and the role), upserted through BatchImportFindings
// on a change of state and refreshed once a day, never once per sweep.
// Everything here is pure: Plan decides what to send from the report and
// what was sent before; the handler sends it and keeps the new Memory.
package securityhub

import (
	"slices"
	"strings"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// Compliance statuses as ASFF spells them.
const (
	StatusPassed  = "PASSED"
	StatusFailed  = "FAILED"
	StatusWarning = "WARNING"
)

// RoleItem is the item key of the role; a setting's key is its Region.
const RoleItem = "role"

// Observation is what one run saw of one item.
type Observation struct {
	// Item is a Region (the setting there) or RoleItem.
	Item   string
	Status string
	// Kinds are the kinds of drift found (sorted, without repeats); empty
	// for a compliant item.
	Kinds []string
	// Outcome is the worst outcome of the item's findings ("compliant"
	// when there were none, "read-error" when the item could not be read).
	Outcome string
	// Severity is alert's severity (high, medium, low) of the worst result.
	Severity string
	// Details are one line per result, for the finding's description.
	Details []string
}

// OutcomeCompliant and OutcomeReadError name what an item's outcome is when
// no finding says: nothing found, or the item could not be read.
const (
	OutcomeCompliant = "compliant"
	OutcomeReadError = "read-error"
)

// SeverityOf is alert.ResultSeverity: passed in, so this package does not
// depend on how alerts rank results.
type SeverityOf func(dhmc.Result) string

// Observe lists the items a run checked: each Region read (or that failed
// to read) and the role when it was checked. With one role per Region
// (RoleName ending in {region}) the role findings of every Region share
// the one role item: known limit, see the README. Items out of the run's scope
// are not listed: what Security Hub holds for them stays as it is.
func Observe(r *dhmc.Report, severity SeverityOf) []Observation {
	byItem := map[string]*Observation{}
	var order []string
	get := func(item string) *Observation {
		if o, ok := byItem[item]; ok {
			return o
		}
		o := &Observation{Item: item, Status: StatusPassed, Outcome: OutcomeCompliant, Severity: "low"}
		byItem[item] = o
		order = append(order, item)
		return o
	}
	for _, region := range r.Regions {
		get(region)
	}
	if r.RoleChecked {
		get(RoleItem)
	}
	for _, x := range r.Results {
		item := x.Region
		if item == "" {
			item = RoleItem
		}
		o := get(item)
		st := statusOf(x)
		if rank(st) > rank(o.Status) {
			o.Status = st
		}
		if o.Outcome == OutcomeCompliant || outcomeRank(x.Outcome) > outcomeRank(dhmc.Outcome(o.Outcome)) {
			o.Outcome = string(x.Outcome)
		}
		if sev := severity(x); sevRank(sev) > sevRank(o.Severity) || len(o.Kinds) == 0 {
			o.Severity = sev
		}
		if !slices.Contains(o.Kinds, string(x.Kind)) {
			o.Kinds = append(o.Kinds, string(x.Kind))
		}
		o.Details = append(o.Details, detail(x))
	}
	for _, e := range r.Errors {
		item := e.Region
		if item == "iam" || item == "" {
			item = RoleItem
		}
		o := get(item)
		if rank(StatusWarning) > rank(o.Status) {
			o.Status = StatusWarning
		}
		if o.Outcome == OutcomeCompliant {
			o.Outcome = OutcomeReadError
		}
		o.Details = append(o.Details, "could not be read: "+e.Error)
	}
	out := make([]Observation, 0, len(order))
	for _, item := range order {
		o := byItem[item]
		slices.Sort(o.Kinds)
		out = append(out, *o)
	}
	return out
}

// statusOf maps one result to a compliance status. A repair done in this
// run leaves the item compliant; what was not repaired (detect mode,
// blocked, failed, pending) fails; what is reported for people (another
// manager's working setup, an unreachable Region, a condition or a policy
// version the guard cannot judge) is a warning: not known to be broken.
func statusOf(x dhmc.Result) string {
	switch x.Outcome {
	case dhmc.OutcomeDone:
		return StatusPassed
	case dhmc.OutcomeReported:
		return StatusWarning
	case dhmc.OutcomeInProgress:
		return StatusWarning
	default: // failed, blocked, skipped
		return StatusFailed
	}
}

func rank(status string) int {
	switch status {
	case StatusFailed:
		return 2
	case StatusWarning:
		return 1
	}
	return 0
}

func outcomeRank(o dhmc.Outcome) int {
	switch o {
	case dhmc.OutcomeFailed:
		return 6
	case dhmc.OutcomeBlocked:
		return 5
	case dhmc.OutcomeSkipped:
		return 4
	case dhmc.OutcomeInProgress:
		return 3
	case dhmc.OutcomeReported:
		return 2
	case dhmc.OutcomeDone:
		return 1
	}
	return 0
}

func sevRank(s string) int {
	switch s {
	case "high":
		return 3
	case "medium":
		return 2
	case "low":
		return 1
	}
	return 0
}

// detail is one result in a line: kind, what was seen, what was done.
func detail(x dhmc.Result) string {
	var b strings.Builder
	b.WriteString(string(x.Kind))
	if x.Observed != "" {
		b.WriteString(": observed " + x.Observed)
	}
	if x.Desired != "" {
		b.WriteString(", desired " + x.Desired)
	}
	b.WriteString(" (" + string(x.Outcome))
	switch {
	case x.Blocked != "":
		b.WriteString(": " + x.Blocked)
	case x.Error != "":
		b.WriteString(": " + x.Error)
	case x.Manager != "":
		b.WriteString(": managed by " + x.Manager)
	}
	b.WriteString(")")
	return b.String()
}
