package alert

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// category is what happened to one finding, as a subject counts it: each
// is counted on its own, so a Region that was only reported, blocked or
// managed elsewhere is never counted as repaired.
type category int

const (
	catFailed category = iota
	catBlocked
	catRepaired
	catDetected
	catUnreachable
	catElsewhere
	catReported
)

func categoryOf(x dhmc.Result) category {
	switch {
	case x.Outcome == dhmc.OutcomeFailed:
		return catFailed
	case x.Outcome == dhmc.OutcomeBlocked:
		return catBlocked
	case x.Outcome == dhmc.OutcomeDone:
		return catRepaired
	case x.Kind == dhmc.KindRegionUnreachable:
		return catUnreachable
	case x.Kind == dhmc.KindManagedElsewhere:
		return catElsewhere
	case x.Outcome == dhmc.OutcomeReported:
		return catReported
	}
	return catDetected
}

func in(c category) func(dhmc.Result) bool {
	return func(x dhmc.Result) bool { return categoryOf(x) == c }
}

// subject is short enough for a phone's lock screen: what happened, where,
// and which account; then every other outcome of the run, each counted on
// its own ("DHMC drift repaired in eu-west-1 of 1111; 1 Region not
// enabled"). It is also the headline of the body and the card.
func subject(r *dhmc.Report, outcome string) string {
	acct := subjectAccount(r.AccountID)
	var s string
	lead := catFailed
	switch outcome {
	case OutcomeFailed:
		what := "repair"
		if !slices.ContainsFunc(r.Results, in(catFailed)) {
			what = "check"
			if r.RegionsUnlisted() != "" {
				what = "Region listing"
			}
		}
		s = fmt.Sprintf("DHMC %s FAILED %s of %s", what, where(failedPlaces(r)), acct)
	case OutcomeRepaired:
		lead = catRepaired
		s = fmt.Sprintf("DHMC drift repaired %s of %s", where(places(r.Results, in(catRepaired))), acct)
	case OutcomeDetected:
		lead = catDetected
		s = fmt.Sprintf("DHMC drift detected (not repaired) %s of %s", where(places(r.Results, in(catDetected))), acct)
	case OutcomeBlocked:
		lead = catBlocked
		s = fmt.Sprintf("DHMC repair BLOCKED %s of %s: a person must decide", where(places(r.Results, in(catBlocked))), acct)
	case OutcomeReported:
		s, lead = reportedSubject(r, acct)
	case OutcomeDenied:
		target := "DHMC role in"
		if r.Cause.SettingEvent() {
			target = "DHMC setting in " + SubjectPart(r.Cause.Region, maxSubjectPart) + " of"
		}
		return clampSubject(fmt.Sprintf("Denied attempt on %s %s", target, acct))
	}
	return withOthers(clampSubject(s), others(r, lead))
}

// withOthers appends the other outcomes when they all fit SNS's limit;
// else as many as fit and then says there is more, never cutting one
// mid-word (a cut count would be untrue).
func withOthers(s string, more []string) string {
	const rest = "; more in the message"
	join := func(parts []string) string {
		out := s
		for _, p := range parts {
			out += "; " + p
		}
		return out
	}
	if all := join(more); len(all) <= MaxSubject {
		return all
	}
	for k := len(more) - 1; k >= 0; k-- {
		if c := join(more[:k]) + rest; len(c) <= MaxSubject {
			return c
		}
	}
	return s
}

// others counts each outcome of r but lead, in order of urgency: the
// items (the role counts as one) with that outcome.
func others(r *dhmc.Report, lead category) []string {
	var out []string
	for c := catBlocked; c <= catReported; c++ {
		if c == lead || !slices.ContainsFunc(r.Results, in(c)) {
			continue
		}
		role, regions := places(r.Results, in(c))
		n := len(regions)
		if role {
			n++
		}
		switch c {
		case catBlocked:
			out = append(out, fmt.Sprintf("%d BLOCKED", n))
		case catRepaired:
			out = append(out, fmt.Sprintf("%d repaired", n))
		case catDetected:
			out = append(out, fmt.Sprintf("%d not repaired", n))
		case catUnreachable:
			out = append(out, fmt.Sprintf("%s %s", regionCount(len(regions)), unreachableWord(r)))
		case catElsewhere:
			out = append(out, fmt.Sprintf("%d managed elsewhere", len(regions)))
		case catReported:
			out = append(out, fmt.Sprintf("%d reported", n))
		}
	}
	return out
}

// reportedSubject words a message with nothing to repair by what it is,
// led by its first kind (unreachable, managed elsewhere, other).
func reportedSubject(r *dhmc.Report, acct string) (string, category) {
	switch {
	case slices.ContainsFunc(r.Results, in(catUnreachable)):
		_, regions := places(r.Results, in(catUnreachable))
		return fmt.Sprintf("DHMC cannot be checked %s of %s: %s", where(false, regions), acct, unreachableReason(r)), catUnreachable
	case slices.ContainsFunc(r.Results, in(catElsewhere)):
		elsewhere := slices.DeleteFunc(slices.Clone(r.Results), func(x dhmc.Result) bool { return !in(catElsewhere)(x) })
		manager := elsewhere[0].Manager
		if slices.ContainsFunc(elsewhere, func(x dhmc.Result) bool { return x.Manager != manager }) {
			manager = "other managers"
		}
		// The subject must fit a phone: the manager's name without its
		// explanation in brackets (the body has it whole).
		manager, _, _ = strings.Cut(manager, " (")
		manager = SubjectPart(manager, maxSubjectPart)
		// The role a manager owns is part of its setup: the Regions say where.
		_, regions := places(elsewhere, nil)
		return fmt.Sprintf("DHMC left alone: managed by %s %s of %s", manager, where(false, regions), acct), catElsewhere
	}
	return fmt.Sprintf("DHMC findings reported %s of %s", where(places(r.Results, in(catReported))), acct), catReported
}

func regionCount(n int) string {
	if n == 1 {
		return "1 Region"
	}
	return fmt.Sprintf("%d Regions", n)
}

// Why a Region cannot be read, from the error the read got: a Region that
// is not enabled (credentials not valid there) or whose endpoint does not
// answer is not an access denial, and is fixed differently.
const (
	ReasonNotEnabled   = "Region not enabled"
	ReasonNoEndpoint   = "endpoint not reachable"
	ReasonAccessDenied = "access denied"
	ReasonUnreadable   = "not readable by the guard"
)

// UnreachableReason says why the setting of an unreachable Region could
// not be read, from the error text the finding observed.
func UnreachableReason(observed string) string {
	has := func(words ...string) bool {
		return slices.ContainsFunc(words, func(w string) bool { return strings.Contains(observed, w) })
	}
	switch {
	case has("UnrecognizedClientException", "InvalidClientTokenId", "AuthFailure", "OptInRequired"):
		return ReasonNotEnabled
	case has("AccessDenied", "UnauthorizedOperation", "not authorized"):
		return ReasonAccessDenied
	case has("no such host", "connection refused", "dial tcp", "endpoint", "i/o timeout"):
		return ReasonNoEndpoint
	}
	return ReasonUnreadable
}

// unreachableReason is the reason all of r's unreachable Regions share,
// else a word that covers them all.
func unreachableReason(r *dhmc.Report) string {
	reason := ""
	for _, x := range r.Results {
		if categoryOf(x) != catUnreachable {
			continue
		}
		switch why := UnreachableReason(x.Observed); {
		case reason == "":
			reason = why
		case reason != why:
			return "not readable (see each Region)"
		}
	}
	return reason
}

// unreachableWord is unreachableReason for a count: "1 Region not enabled".
func unreachableWord(r *dhmc.Report) string {
	switch unreachableReason(r) {
	case ReasonNotEnabled:
		return "not enabled"
	case ReasonAccessDenied:
		return "denied to the guard"
	}
	return "unreachable"
}
