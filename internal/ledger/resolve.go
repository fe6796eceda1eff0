package ledger

import (
	"slices"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// The resolve rules, beside the window rules: which told problems stay open
// until a run verifies them gone, and which open problems a run closes.
// Alertmanager's send_resolved and PagerDuty's resolve on the same
// dedup_key are the models (alerting.md): a problem that needed a person
// ends with one message saying so.

// needsPersonKinds are told as needing a person whatever their outcome.
var needsPersonKinds = []string{
	string(dhmc.KindRoleUnreadable), string(dhmc.KindRegionUnreachable),
	string(dhmc.KindRegionsUnlisted), string(dhmc.KindAllowedPolicyChanged),
}

// NeedsPerson reports whether a told signal is a problem a person must act
// on, so that it stays open until resolved: a blocked or failed repair, a
// flapping item, or a kind no repair can end (an unreadable role, an
// unreachable Region, Regions unlisted, a watched policy's new version).
func NeedsPerson(s Signal, flapping bool) bool {
	return flapping || s.Outcome == string(dhmc.OutcomeBlocked) || s.Outcome == string(dhmc.OutcomeFailed) ||
		slices.Contains(needsPersonKinds, s.Kind)
}

// Checked is what a run verified, from its report: which items it read
// without error, and which of them still have a finding.
type Checked struct {
	// Role: the role was in scope and read without error.
	Role bool
	// Regions read without error.
	Regions []string
	// Listed: the run listed the enabled Regions itself (a full sweep)
	// without error.
	Listed bool
	// Found are the items (Region, or ItemRole) with any finding or error.
	Found []string
}

// CheckedOf is what r verified; fullScope is whether the run's scope was
// every enabled Region (a sweep), so that it listed them.
func CheckedOf(r *dhmc.Report, fullScope bool) Checked {
	c := Checked{Role: r != nil && r.RoleChecked, Listed: fullScope}
	if r == nil {
		return Checked{}
	}
	failed := map[string]bool{}
	for _, e := range r.Errors {
		item := e.Region
		if item == "" {
			item = ItemRole
		}
		failed[item] = true
		c.Found = append(c.Found, item)
	}
	c.Role = c.Role && !failed[ItemRole]
	c.Listed = c.Listed && !failed[dhmc.ErrorPlaceRegions]
	for _, g := range r.Regions {
		if !failed[g] {
			c.Regions = append(c.Regions, g)
		}
	}
	for _, x := range r.Results {
		item := x.Region
		if item == "" {
			item = ItemRole
		}
		c.Found = append(c.Found, item)
	}
	return c
}

// Resolved returns the open problems c shows compliant: the item was in
// the run's scope, read without error, and has no finding of any kind.
// An item the run did not read (another Region's event, a Region that
// timed out) stays open: only a verified read closes a problem.
func Resolved(open []Problem, c Checked) []Problem {
	var out []Problem
	for _, p := range open {
		var verified bool
		switch p.Item {
		case ItemRole:
			verified = c.Role
		case dhmc.ErrorPlaceRegions:
			verified = c.Listed
		default:
			verified = slices.Contains(c.Regions, p.Item)
		}
		if verified && !slices.Contains(c.Found, p.Item) {
			out = append(out, p)
		}
	}
	return out
}
