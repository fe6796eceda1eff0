package alert

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// Message attributes of the problem's life: every message the guard
// publishes carries AttrStatus (firing unless it is a resolution), and
// AttrDedupKey, the key a pager closes an incident on (PagerDuty's
// dedup_key): a firing message's own alert ID, and on a RESOLVED message
// the alert ID of the problem's first message. AttrThread names the chat
// thread, so a re-delivery from the outbox lands in the same thread.
const (
	AttrStatus     = "status"
	AttrDedupKey   = "dedupKey"
	AttrThread     = "threadId"
	StatusFiring   = "firing"
	StatusResolved = "resolved"
	// OutcomeResolved is the outcome of a RESOLVED message.
	OutcomeResolved = "resolved"
	// attrAlertID is ledger.AttrAlertID (the ledger imports nothing here).
	attrAlertID = "alertId"
)

// ThreadID is the chat thread of a problem: one per account, item (a
// Region, or "iam" for the role) and kind, so a problem's messages and its
// resolution sit together, apart from every other problem's. Without an
// item it is the account's thread.
func ThreadID(account, item, kind string) string {
	id := "dhmc-guard-" + SubjectPart(orUnknown(account), maxSubjectPart)
	for _, p := range []string{item, kind} {
		if p != "" {
			id += "-" + SubjectPart(p, maxSubjectPart)
		}
	}
	return strings.ReplaceAll(id, " ", "-")
}

// withStatus is attrs as published: status firing unless set, and the
// dedup key the alert ID unless set.
func withStatus(attrs map[string]string) map[string]string {
	out := make(map[string]string, len(attrs)+2)
	for k, v := range attrs {
		out[k] = v
	}
	if out[AttrStatus] == "" {
		out[AttrStatus] = StatusFiring
	}
	if out[AttrDedupKey] == "" && out[attrAlertID] != "" {
		out[AttrDedupKey] = out[attrAlertID]
	}
	return out
}

// Resolution is a problem a later run verified compliant.
type Resolution struct {
	Account, Item, Kind string
	// DedupKey is the alert ID of the problem's first message; Thread its
	// chat thread.
	DedupKey, Thread string
	Severity         string
	Since, At        time.Time
	// Trigger is what ran the verifying read (a sweep, an event).
	Trigger string
}

// ResolvedMessage is the one RESOLVED message of r: the subject names the
// problem and how long it lasted; the attributes carry status resolved and
// the first message's dedup key, with the first message's severity so that
// the same subscription filters route it to the same channels; the card
// goes to the first message's thread.
func ResolvedMessage(r Resolution) Message {
	acct := orUnknown(r.Account)
	where := "role"
	if r.Item != "iam" {
		where = SubjectPart(r.Item, maxSubjectPart)
	}
	lasted := Lasted(r.At.Sub(r.Since))
	subj := Subject(fmt.Sprintf("RESOLVED: DHMC %s (%s) in %s after %s",
		SubjectPart(r.Kind, maxSubjectPart), where, SubjectPart(acct, maxSubjectPart), lasted))
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", subj)
	fmt.Fprintf(&b, "Account:   %s\n", Text(acct, MaxShort))
	fmt.Fprintf(&b, "Problem:   %s on %s\n", Text(r.Kind, MaxShort), Text(where, MaxShort))
	fmt.Fprintf(&b, "Status:    resolved (was firing since %s)\n", r.Since.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "Verified:  %s by a %s run: the item was read without error and has no finding\n",
		r.At.UTC().Format(time.RFC3339), Text(orUnknown(r.Trigger), MaxShort))
	fmt.Fprintf(&b, "Lasted:    %s\n", lasted)
	fmt.Fprintf(&b, "Dedup key: %s (the alertId of the problem's first message)\n", Text(r.DedupKey, MaxShort))
	b.WriteString("\nNothing to do: this closes the problem told in that message.\n")
	sev := r.Severity
	if sev == "" {
		sev = SeverityMedium
	}
	thread := r.Thread
	if thread == "" {
		thread = ThreadID(r.Account, r.Item, r.Kind)
	}
	attrs := map[string]string{
		AttrSeverity: sev, AttrOutcome: OutcomeResolved, AttrAccount: attrAccount(r.Account),
		AttrStatus: StatusResolved, AttrDedupKey: Text(r.DedupKey, MaxShort), AttrThread: Text(thread, MaxShort),
	}
	m := Message{Subject: subj, Body: b.String(), Severity: sev, Outcome: OutcomeResolved, Attributes: attrs}
	m.Chat = &Chat{
		Version: ChatVersion,
		Source:  ChatSource,
		Content: ChatContent{
			TextType: ChatMarkdown,
			Title:    clampRunes(":white_check_mark: "+subj, MaxChatTitle),
			Description: fmt.Sprintf("*Account:* %s\n*Problem:* %s on %s\n*Status:* resolved after %s (firing since %s)\n*Verified:* by a %s run: read without error, no finding\n*Dedup key:* %s",
				Code(acct, MaxShort), Code(r.Kind, MaxShort), Code(where, MaxShort), lasted,
				r.Since.UTC().Format(time.RFC3339), SubjectPart(orUnknown(r.Trigger), maxSubjectPart), Code(r.DedupKey, MaxShort)),
			Keywords: clampList(nonEmpty("dhmc-guard", StatusResolved, SubjectPart(r.Kind, MaxChatKeyword)), MaxChatKeywords, MaxChatKeyword),
		},
		Metadata: &ChatMetadata{
			ThreadID:  Text(thread, MaxShort),
			Summary:   clampRunes(subj, MaxChatTitle),
			EventType: "dhmc-guard-" + OutcomeResolved,
			AdditionalContext: map[string]string{
				AttrAccount: attrAccount(r.Account), AttrOutcome: OutcomeResolved, AttrSeverity: sev,
				AttrStatus: StatusResolved, AttrDedupKey: Text(r.DedupKey, MaxShort),
			},
		},
	}
	return m
}

// Lasted is a duration as on-call reads it: whole minutes, hours and days
// ("3d 4h 5m", "2h 0m", "12m"); under a minute "under a minute".
func Lasted(d time.Duration) string {
	if d < time.Minute {
		return "under a minute"
	}
	m := int(d / time.Minute)
	days, hours, mins := m/(24*60), m/60%24, m%60
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh %dm", days, hours, mins)
	case hours > 0:
		return fmt.Sprintf("%dh %dm", hours, mins)
	}
	return fmt.Sprintf("%dm", mins)
}

// threadOf is the thread of a run's message: that of the first problem
// it tells that needs a person (a blocked or failed repair, else an
// error), else of its first finding; the problem's resolution comes to
// that thread.
func threadOf(r *dhmc.Report) string {
	for _, x := range r.Results {
		if x.Outcome == dhmc.OutcomeBlocked || x.Outcome == dhmc.OutcomeFailed {
			return ThreadID(r.AccountID, cmp.Or(x.Region, dhmc.ErrorPlaceRole), string(x.Kind))
		}
	}
	if len(r.Errors) > 0 {
		e := r.Errors[0]
		return ThreadID(r.AccountID, cmp.Or(e.Region, dhmc.ErrorPlaceRole), string(dhmc.ErrorKind(e)))
	}
	if len(r.Results) > 0 {
		x := r.Results[0]
		return ThreadID(r.AccountID, cmp.Or(x.Region, dhmc.ErrorPlaceRole), string(x.Kind))
	}
	return ThreadID(r.AccountID, "", "")
}
