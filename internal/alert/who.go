package alert

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// A sweep has a trigger, not an actor: the schedule or rule that started a
// run changed nothing. Only a CloudTrail event's caller is an actor.

// settingEvents and roleEvents are the CloudTrail events that change the
// DHMC setting and a role: what on-call searches for when the run cannot
// say who made a change.
const (
	settingEvents = "UpdateServiceSetting, ResetServiceSetting"
	roleEvents    = "AttachRolePolicy, DetachRolePolicy, PutRolePolicy, DeleteRolePolicy, UpdateAssumeRolePolicy"
)

// eventActor is the caller of the CloudTrail event behind the run, "" for
// any other trigger (a schedule, a manual invocation).
func eventActor(c dhmc.Cause) string {
	if c.Trigger != "cloudtrail" {
		return ""
	}
	return c.Actor
}

// changed reports a finding that is a change someone made (drift), not a
// fact reported (another manager, an unreachable Region).
func changed(x dhmc.Result) bool {
	switch categoryOf(x) {
	case catUnreachable, catElsewhere, catReported:
		return false
	}
	return true
}

// searchHint is who changed r's drifted items when no one is known:
// "unknown — search CloudTrail for <events> on <item>"; "" when nothing
// drifted. quote renders the names taken from the report (Code for the
// card's markdown).
func searchHint(r *dhmc.Report, quote func(string) string) string {
	role, regions := places(r.Results, changed)
	var on []string
	if len(regions) > 0 {
		where := "in " + quote(regions[0])
		if len(regions) > 1 {
			where = "in " + regionCount(len(regions))
		}
		on = append(on, fmt.Sprintf("%s on %s %s", settingEvents, dhmc.SettingID, where))
	}
	if role {
		on = append(on, fmt.Sprintf("%s on %s", roleEvents, roleNames(r, quote)))
	}
	if len(on) == 0 {
		return ""
	}
	return "unknown — search CloudTrail for " + strings.Join(on, "; and for ")
}

// roleNames names the roles with drift: "role X", or "the DHMC role".
func roleNames(r *dhmc.Report, quote func(string) string) string {
	var names []string
	for _, x := range r.Results {
		if x.Region == "" && changed(x) && x.Role != "" && !slices.Contains(names, quote(x.Role)) {
			names = append(names, quote(x.Role))
		}
	}
	if len(names) == 0 {
		return "the DHMC role"
	}
	return "role " + strings.Join(names, ", ")
}

func plain(s string) string { return s }

func asCode(s string) string { return Code(s, MaxShort) }

// settingSearch is the search hint for one Region's setting.
func settingSearch(region string) string {
	return fmt.Sprintf("search CloudTrail for %s in %s", settingEvents, region)
}

// unreachableAdvice says what to do about an unreachable Region by reason.
func unreachableAdvice(reason string) string {
	switch reason {
	case ReasonNotEnabled:
		return "the Region is not enabled in this account (an opt-in Region): enable it if it should be used, or add it to ExcludedRegions"
	case ReasonAccessDenied:
		return "the guard's role is denied there (a service control policy or a permissions boundary): allow ssm:GetServiceSetting, or add the Region to ExcludedRegions"
	case ReasonNoEndpoint:
		return "the Region's SSM endpoint did not answer: check the network path (VPC endpoint, proxy, DNS)"
	}
	return "see the error observed"
}
