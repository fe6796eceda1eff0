package alert

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// JSONMarker introduces the report's JSON at the end of the body; everything
// after its line is the report (or its truncated start, with a note).
const JSONMarker = "--- Full report (JSON) ---"

// body is the message text: a summary for people, then the report as JSON,
// in at most budget bytes.
func body(r *dhmc.Report, subject string, n Notes, budget int) string {
	var b strings.Builder
	b.WriteString(subject + "\n\n")
	writeNotes(&b, n)
	writeCause(&b, r)
	writeSuggestion(&b, r)
	writeDocuments(&b, r)
	writeFindings(&b, r)
	writeErrors(&b, r)
	writeIgnored(&b, r)
	writeRun(&b, r)
	return fit(b.String(), r, budget)
}

func writeCause(b *strings.Builder, r *dhmc.Report) {
	c := escapeCause(r.Cause)
	fmt.Fprintf(b, "Account:  %s\n", Text(orUnknown(r.AccountID), MaxShort))
	if r.Mode != "" {
		fmt.Fprintf(b, "Mode:     %s\n", Text(r.Mode, MaxShort))
	}
	switch c.Trigger {
	case "cloudtrail":
		fmt.Fprintf(b, "Trigger:  CloudTrail %s in %s\n", orDash(c.EventName), orDash(c.Region))
		fmt.Fprintf(b, "Who:      %s\n", orDash(c.Actor))
		if c.ActorARN != "" && c.ActorARN != c.Actor {
			fmt.Fprintf(b, "          %s\n", c.ActorARN)
		}
		if c.EventTime != "" {
			fmt.Fprintf(b, "When:     %s\n", c.EventTime)
		}
		if from := joinNonEmpty(", user agent ", c.SourceIP, c.UserAgent); from != "" {
			fmt.Fprintf(b, "From:     %s\n", from)
		}
		if c.EventID != "" {
			fmt.Fprintf(b, "Event ID: %s\n", c.EventID)
		}
		if c.ErrorCode != "" {
			fmt.Fprintf(b, "Result:   the call FAILED with %s\n", joinNonEmpty(": ", c.ErrorCode, c.ErrorMsg))
		}
	case "":
	default:
		// A sweep has a trigger, not an actor: the schedule changed nothing.
		fmt.Fprintf(b, "Trigger:  %s\n", joinNonEmpty(" ", c.Trigger, c.EventName, bracketed(c.Actor)))
		if who := searchHint(r, plain); who != "" {
			fmt.Fprintf(b, "Who:      %s\n", Text(who, MaxText))
		}
		if c.EventTime != "" {
			fmt.Fprintf(b, "When:     %s\n", c.EventTime)
		}
	}
	if note := dhmc.EventTimeNote(r); note != "" {
		fmt.Fprintf(b, "          %s\n", note)
	}
	b.WriteString("\n")
	if len(r.Results) == 0 && c.ErrorCode != "" {
		b.WriteString("Nothing changed: AWS refused the call. Check whether this caller should be trying to change DHMC.\n\n")
	}
}

// writeSuggestion says, on a first run or a check, what configuration
// would adopt the setup found instead of changing it.
func writeSuggestion(b *strings.Builder, r *dhmc.Report) {
	sc := r.SuggestedConfig
	if sc == nil {
		return
	}
	fmt.Fprintf(b, "Suggested configuration (adopts what is there): %s\n  %s\n\n", Text(dhmc.FormatParameters(sc.Parameters), MaxText), Text(sc.Reason, MaxText))
}

func writeFindings(b *strings.Builder, r *dhmc.Report) {
	if len(r.Results) == 0 {
		return
	}
	// Failures first: they are what on-call must act on.
	results := slices.Clone(r.Results)
	slices.SortStableFunc(results, func(a, c dhmc.Result) int {
		return boolRank(a.Outcome == dhmc.OutcomeFailed) - boolRank(c.Outcome == dhmc.OutcomeFailed)
	})
	fmt.Fprintf(b, "Findings (%d):\n\n", len(results))
	cause := escapeCause(r.Cause)
	for i, x := range results {
		place := x.Region
		if place == "" {
			place = "role"
			if x.Role != "" {
				place = "role " + x.Role
			}
		}
		outcome := Text(outcomeText(x, r.Mode), MaxShort)
		fmt.Fprintf(b, "%d. %s: %s [%s]\n", i+1, Text(place, MaxARN), Text(string(x.Kind), MaxShort), outcome)
		fmt.Fprintf(b, "   Was:        %s\n", Text(orNothing(x.Observed), MaxLong))
		fmt.Fprintf(b, "   Should be:  %s\n", Text(orNothing(x.Desired), MaxLong))
		// An unreachable Region or another manager's item was changed by
		// nobody the guard can name: no "Changed by" line, rather than an
		// "unknown" that suggests a change to look for.
		if who := changedBy(x, cause); who != dhmc.UnknownActor || changed(x) {
			fmt.Fprintf(b, "   Changed by: %s\n", Text(who, MaxText))
		}
		if x.Manager != "" {
			fmt.Fprintf(b, "   Managed by: %s\n", Text(x.Manager, MaxText))
		}
		action := string(x.Action)
		if x.Target != "" {
			action += " " + x.Target
		}
		fmt.Fprintf(b, "   Action:     %s: %s\n", Text(action, MaxARN), outcome)
		if x.Kind == dhmc.KindRegionUnreachable {
			why := UnreachableReason(x.Observed)
			fmt.Fprintf(b, "   Why:        %s: %s\n", why, unreachableAdvice(why))
		}
		if x.Blocked != "" {
			fmt.Fprintf(b, "   Blocked:    %s\n", Text(x.Blocked, MaxText))
		}
		if x.Adopt != "" {
			fmt.Fprintf(b, "   Adopt with: %s\n", Text(x.Adopt, MaxText))
		}
		if x.Error != "" {
			fmt.Fprintf(b, "   Error:      %s\n", Text(x.Error, MaxText))
		}
		writeTiming(b, r, x)
		writeDocument(b, x)
		b.WriteString("\n")
	}
}

func boolRank(first bool) int {
	if first {
		return 0
	}
	return 1
}

func outcomeText(x dhmc.Result, mode string) string {
	switch x.Outcome {
	case dhmc.OutcomeDone:
		if x.Note != "" {
			return x.Note
		}
		return "repaired"
	case dhmc.OutcomeFailed:
		return "FAILED"
	case dhmc.OutcomeSkipped:
		if mode == string(dhmc.ModeCheck) {
			return "not repaired (check only)"
		}
		return "not repaired (" + SubjectPart(orDash(mode), maxSubjectPart) + " mode)"
	case dhmc.OutcomeInProgress:
		return "left alone (an update is in progress)"
	case dhmc.OutcomeBlocked:
		return "BLOCKED, nothing written"
	case dhmc.OutcomeReported:
		return "reported, nothing to repair"
	}
	return SubjectPart(orDash(string(x.Outcome)), MaxShort)
}

// changedBy says who made the change behind a finding: the CloudTrail caller
// when the event was about the same thing (the role, or the setting in that
// Region); else the setting's LastModifiedUser when it is a real ARN. SSM
// answers "System" whoever made a change (dhmc-facts §9): that is unknown.
func changedBy(x dhmc.Result, c dhmc.Cause) string {
	if c.Trigger == "cloudtrail" && c.Actor != "" {
		sameThing := (x.Region == "" && !c.SettingEvent()) ||
			(x.Region != "" && x.Region == c.Region && c.SettingEvent())
		if sameThing {
			return joinNonEmpty(" ", c.Actor, prefixed("at ", c.EventTime), prefixed("from ", c.SourceIP), prefixed("using ", c.UserAgent))
		}
	}
	if strings.HasPrefix(x.LastModifiedUser, "arn:") {
		who := dhmc.Who(x.LastModifiedUser)
		if who != x.LastModifiedUser {
			who += " (" + x.LastModifiedUser + ")"
		}
		return who + prefixed(" at ", x.LastModifiedDate)
	}
	if x.Region == "" {
		return "unknown (IAM does not record who changed a role: search CloudTrail for the role's name)"
	}
	if !changed(x) {
		return dhmc.UnknownActor
	}
	if x.LastModifiedDate != "" {
		return dhmc.UnknownActor + "; last modified " + x.LastModifiedDate + "; " + settingSearch(x.Region)
	}
	return dhmc.UnknownActor + "; " + settingSearch(x.Region)
}

func writeErrors(b *strings.Builder, r *dhmc.Report) {
	if len(r.Errors) == 0 {
		return
	}
	fmt.Fprintf(b, "Errors (%d): these were not checked or not repaired, the state may still be wrong:\n", len(r.Errors))
	for _, e := range r.Errors {
		place := e.Region
		if place == "iam" || place == "" {
			place = "role"
		}
		fmt.Fprintf(b, "  - %s: %s\n", Text(place, MaxShort), Text(e.Error, MaxText))
	}
	b.WriteString("\n")
}

// writeIgnored lists the Regions a trigger named that the run left out.
func writeIgnored(b *strings.Builder, r *dhmc.Report) {
	if len(r.RegionsIgnored) == 0 {
		return
	}
	b.WriteString("Regions left out:\n")
	for _, ig := range r.RegionsIgnored {
		fmt.Fprintf(b, "  - %s: %s\n", Text(ig.Region, MaxShort), Text(ig.Reason, MaxText))
	}
	b.WriteString("\n")
}

func writeRun(b *strings.Builder, r *dhmc.Report) {
	role := "no"
	if r.RoleChecked {
		role = "yes"
	}
	// The duration is how far into the run the message was composed: an
	// event's alert is recorded as its repair starts (ledger intent), so
	// it cannot say how long the whole run took; the log and the run
	// record do.
	fmt.Fprintf(b, "Run: started %s, message composed %d ms in, %d reads, %d writes; role checked: %s; Regions checked (%d): %s\n\n",
		Text(orDash(r.StartedAt), MaxShort), r.DurationMs, r.Reads, r.Writes, role, len(r.Regions), Text(orDash(strings.Join(r.Regions, ", ")), MaxLong))
}

// fit appends the report JSON and keeps the whole within budget bytes:
// indented JSON if it fits, compact if that fits, else the start of the
// compact JSON with a note saying it was cut.
func fit(text string, r *dhmc.Report, budget int) string {
	if len(text) > budget/2 {
		text = cut(text, budget/2) + "\n[summary truncated to fit the SNS message limit]\n\n"
	}
	head := text + JSONMarker + "\n"
	room := budget - len(head)
	indented, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		// A Report holds only strings, numbers and slices of them: this
		// cannot happen, but the alert must still go out.
		return head + fmt.Sprintf("(report could not be encoded: %v)\n", err)
	}
	// The report's strings are the raw values; SafeJSON keeps them valid
	// JSON and the e-mail free of what Text escapes.
	if indented := SafeJSON(string(indented)); len(indented) < room {
		return head + indented + "\n"
	}
	raw, _ := json.Marshal(r)
	compact := SafeJSON(string(raw))
	if len(compact) < room {
		return head + compact + "\n"
	}
	note := fmt.Sprintf("\n[report JSON truncated: %%d of %d bytes shown to fit the SNS message limit]\n", len(compact))
	shown := room - len(note) - 16
	return head + cut(compact, shown) + fmt.Sprintf(note, shown)
}

// cut shortens s to at most n bytes without splitting a UTF-8 character.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n < 0 {
		n = 0
	}
	return strings.ToValidUTF8(s[:n], "")
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func orNothing(s string) string {
	if s == "" {
		return "(nothing)"
	}
	return s
}

// bracketed is "(s)", or nothing when s is empty.
func bracketed(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}
