package alert

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// Notes are what the alert windows add to a run's message (alerting.md):
// the repeats counted since the last message, an escalation of a flapping
// item, and whether the store that remembers groups could be used.
type Notes struct {
	// Digests are the repeats of the groups sent now, counted since their
	// last message.
	Digests []DigestNote
	// Flaps are items repaired too often: the message escalates to high.
	Flaps []FlapNote
	// Suppressed counts this run's groups left out as repeats.
	Suppressed int
	// LedgerUnavailable says the message could not be deduplicated or
	// remembered: it is sent anyway (fail open).
	LedgerUnavailable bool
	// Redelivered marks an alert re-sent from the outbox.
	Redelivered bool
}

// DigestNote is "N more since T" for one group.
type DigestNote struct {
	Item, Kind, Actor string
	// What is what changed (a policy ARN, a value), "" when the kind has none.
	What   string
	Count  int
	Since  time.Time
	Actors []string
}

// FlapNote is one flapping item with its repairs.
type FlapNote struct {
	Item, Kind  string
	Repairs     []Repair
	LikelyCause string
	// HeldBack is set when the guard stops repairing it for a while.
	HeldBack bool
}

// Repair is one repair of a flapping item: who caused it and when.
type Repair struct {
	Actor string
	At    time.Time
}

// ComposeWith builds the alert for r with the windows' notes: a flapping
// item raises the severity to high and says who keeps changing it.
func ComposeWith(r *dhmc.Report, n Notes) (Message, bool) { return compose(r, n) }

// ResultSeverity is the severity one finding alone would have: what the
// alert windows group and escalate by.
func ResultSeverity(x dhmc.Result) string {
	switch {
	case x.Outcome == dhmc.OutcomeFailed, x.Outcome == dhmc.OutcomeBlocked, escalationLeft(x):
		return SeverityHigh
	case x.Kind == dhmc.KindManagedElsewhere, x.Kind == dhmc.KindRegionUnreachable:
		return SeverityLow
	}
	return SeverityMedium
}

// DigestMessage is the message for repeats whose window closed with nothing
// new to send: one message for all of them, never one each.
func DigestMessage(account string, digests []DigestNote, severity string) (Message, bool) {
	if len(digests) == 0 {
		return Message{}, false
	}
	total := 0
	for _, d := range digests {
		total += d.Count
	}
	subj := clampSubject(fmt.Sprintf("DHMC digest: %d repeat(s) in %d group(s) of %s", total, len(digests), subjectAccount(account)))
	var b strings.Builder
	b.WriteString(subj + "\n\n")
	fmt.Fprintf(&b, "Account:  %s\n\n", Text(orUnknown(account), MaxShort))
	b.WriteString("These findings were already reported; their repeats were counted within the alert window instead of sent one by one.\n\n")
	writeNotes(&b, Notes{Digests: digests})
	sev := cmp.Or(severity, SeverityLow)
	return Message{
		Subject: subj, Body: b.String(), Severity: sev, Outcome: OutcomeDigest,
		Attributes: map[string]string{AttrSeverity: sev, AttrOutcome: OutcomeDigest, AttrAccount: attrAccount(account)},
	}, true
}

func writeNotes(b *strings.Builder, n Notes) {
	if n.LedgerUnavailable {
		b.WriteString("Note: the run ledger was unavailable: this alert could not be checked against earlier ones and may repeat one.\n\n")
	}
	for _, f := range n.Flaps {
		fmt.Fprintf(b, "FLAPPING: %s %s was repaired %d times in 24 h:\n", Text(placeName(f.Item), MaxARN), Text(f.Kind, MaxShort), len(f.Repairs))
		for _, rp := range f.Repairs {
			fmt.Fprintf(b, "  - %s by %s\n", rp.At.UTC().Format(time.RFC3339), Text(orUnknownActor(rp.Actor), MaxActor))
		}
		if f.LikelyCause != "" {
			fmt.Fprintf(b, "  Likely cause: %s.\n", Text(f.LikelyCause, MaxText))
		} else {
			b.WriteString("  Likely cause: another tool keeps setting it (Quick Setup's association, Terraform, a CloudFormation stack): find it and give DHMC one owner.\n")
		}
		if f.HeldBack {
			b.WriteString("  The guard stops repairing it for the alert window, and keeps reporting it.\n")
		}
		b.WriteString("\n")
	}
	if len(n.Digests) > 0 {
		b.WriteString("Since the last message:\n")
		for _, d := range n.Digests {
			who := ""
			if len(d.Actors) > 0 {
				who = " by " + Text(strings.Join(d.Actors, ", "), MaxText)
			}
			what := ""
			if d.What != "" {
				what = " (" + Text(d.What, MaxText) + ")"
			}
			fmt.Fprintf(b, "  - %s %s%s: %d more since %s%s\n", Text(placeName(d.Item), MaxARN), Text(d.Kind, MaxShort), what, d.Count, d.Since.UTC().Format(time.RFC3339), who)
		}
		b.WriteString("\n")
	}
	if n.Suppressed > 0 {
		fmt.Fprintf(b, "%d repeat(s) of findings already reported within the alert window are counted, not sent.\n\n", n.Suppressed)
	}
}

// writeTimings says, for each repair, how long after the change it came.
func writeTiming(b *strings.Builder, r *dhmc.Report, x dhmc.Result) {
	t, ok := dhmc.TimingOf(r, x)
	if !ok {
		return
	}
	fmt.Fprintf(b, "   Time:       changed %s; detected %s later, repaired %s after the change\n",
		t.ChangedAt.UTC().Format(time.RFC3339), roundDuration(t.Detected), roundDuration(t.Repaired))
}

func roundDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		// Event times have whole seconds: finer would be made up.
		return "under a second"
	case d < time.Hour:
		return d.Round(time.Second).String()
	}
	return d.Round(time.Minute).String()
}

func placeName(item string) string {
	if item == "" || item == "iam" {
		return "role"
	}
	return item
}

func orUnknownActor(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
