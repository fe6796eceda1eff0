package central

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/alert"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/metrics"
)

// Summary is one day of runs (UTC), the detail of a daily summary event.
type Summary struct {
	// Day is the UTC date, 2006-01-02.
	Day string `json:"day"`
	// Accounts are the distinct accounts of the day's reports, sorted.
	Accounts []string `json:"accounts"`
	Runs     int      `json:"runs"`
	// RunsWithFindings found at least one difference.
	RunsWithFindings int `json:"runsWithFindings"`
	// FailedRuns had a read or a repair fail (Report.Failed).
	FailedRuns int `json:"failedRuns"`
	// DeniedAttempts are runs caused by a CloudTrail call that AWS refused.
	DeniedAttempts int `json:"deniedAttempts"`
	Findings       int `json:"findings"`
	// FindingsByKind and FindingsByRegion count findings; role findings
	// are in Region "global", as in the metrics.
	FindingsByKind   map[string]int `json:"findingsByKind"`
	FindingsByRegion map[string]int `json:"findingsByRegion"`
	Repaired         int            `json:"repaired"`
	RepairsFailed    int            `json:"repairsFailed"`
	// OtherDays counts reports given that started on another day; they are
	// left out of every other count.
	OtherDays int `json:"reportsFromOtherDays,omitempty"`
}

// BuildSummary counts the reports that started on day (its UTC date).
// A report whose start time cannot be read is counted: it was given for
// this day, and dropping it would hide a run.
func BuildSummary(day time.Time, reports []dhmc.Report) Summary {
	date := day.UTC().Format(time.DateOnly)
	s := Summary{Day: date, Accounts: []string{}, FindingsByKind: map[string]int{}, FindingsByRegion: map[string]int{}}
	for i := range reports {
		r := &reports[i]
		if t, err := time.Parse(time.RFC3339, r.StartedAt); err == nil && t.UTC().Format(time.DateOnly) != date {
			s.OtherDays++
			continue
		}
		s.Runs++
		if r.AccountID != "" && !slices.Contains(s.Accounts, r.AccountID) {
			s.Accounts = append(s.Accounts, r.AccountID)
		}
		if r.Drifted() {
			s.RunsWithFindings++
		}
		if r.Failed() {
			s.FailedRuns++
		}
		if r.Cause.ErrorCode != "" {
			s.DeniedAttempts++
		}
		for _, x := range r.Results {
			s.Findings++
			s.FindingsByKind[string(x.Kind)]++
			region := x.Region
			if region == "" {
				region = metrics.GlobalRegion
			}
			s.FindingsByRegion[region]++
			switch x.Outcome {
			case dhmc.OutcomeDone:
				s.Repaired++
			case dhmc.OutcomeFailed:
				s.RepairsFailed++
			}
		}
	}
	sort.Strings(s.Accounts)
	return s
}

// SummaryMessage is the daily summary as a readable alert for the central
// topic. Severity is low: every failure already alerted on its own, so a
// summary never pages (subscribe to severity "low" to receive it).
//
// Accounts, kinds and Regions come from the ledger's reports, which anyone
// who can write the table can forge: the e-mail shows them through
// alert.Text, the card through alert.Code, the subject through
// alert.SubjectPart, as the account's own alert does.
func SummaryMessage(s Summary) alert.Message {
	who := "the organisation"
	if len(s.Accounts) == 1 {
		who = alert.SubjectPart(s.Accounts[0], 40)
	} else if len(s.Accounts) > 1 {
		who = fmt.Sprintf("%d accounts", len(s.Accounts))
	}
	subject := alert.Subject(fmt.Sprintf("DHMC daily summary %s for %s: %d findings, %d failed runs", alert.SubjectPart(s.Day, 10), who, s.Findings, s.FailedRuns))
	text := summaryText(s, "*", func(v string) string { return alert.Code(v, alert.MaxShort) })
	body := subject + "\n\n" + summaryText(s, "", func(v string) string { return alert.Text(v, alert.MaxShort) })
	acct := "organisation"
	if len(s.Accounts) == 1 {
		acct = alert.Text(s.Accounts[0], alert.MaxShort)
	}
	return alert.Message{
		Subject:  subject,
		Body:     body,
		Severity: alert.SeverityLow,
		Outcome:  "summary",
		Attributes: map[string]string{
			alert.AttrSeverity: alert.SeverityLow,
			alert.AttrOutcome:  "summary",
			alert.AttrAccount:  acct,
		},
		Chat: &alert.Chat{
			Version: alert.ChatVersion,
			Source:  alert.ChatSource,
			Content: alert.ChatContent{
				TextType:    alert.ChatMarkdown,
				Title:       ":bar_chart: " + subject,
				Description: strings.TrimRight(text, "\n"),
				Keywords:    []string{"dhmc-guard", "daily-summary"},
			},
			Metadata: &alert.ChatMetadata{ThreadID: "dhmc-guard-daily-summary", Summary: subject, EventType: "dhmc-guard-summary"},
		},
	}
}

// summaryText is the summary's lines, labels marked with bold (the card)
// or not (the e-mail), each value from the reports shown through value.
func summaryText(s Summary, bold string, value func(string) string) string {
	var b strings.Builder
	label := func(l string) string { return bold + l + ":" + bold }
	accounts := make([]string, len(s.Accounts))
	for i, a := range s.Accounts {
		accounts[i] = value(a)
	}
	fmt.Fprintf(&b, "%s %s (UTC)\n%s %s\n", label("Day"), value(s.Day), label("Accounts"), orNone(strings.Join(accounts, ", ")))
	fmt.Fprintf(&b, "%s %d, %d with findings, %d failed, %d denied attempts\n", label("Runs"), s.Runs, s.RunsWithFindings, s.FailedRuns, s.DeniedAttempts)
	fmt.Fprintf(&b, "%s %d, %d repaired, %d repairs failed\n", label("Findings"), s.Findings, s.Repaired, s.RepairsFailed)
	if len(s.FindingsByKind) > 0 {
		fmt.Fprintf(&b, "%s %s\n", label("By kind"), counts(s.FindingsByKind, value))
		fmt.Fprintf(&b, "%s %s\n", label("By Region"), counts(s.FindingsByRegion, value))
	}
	return b.String()
}

// counts says "a 3, b 1", largest first, ties by name; at most ten.
func counts(m map[string]int, value func(string) string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, 0, len(keys))
	for i, k := range keys {
		if i == 10 {
			parts = append(parts, fmt.Sprintf("and %d more", len(keys)-10))
			break
		}
		parts = append(parts, fmt.Sprintf("%s %d", value(k), m[k]))
	}
	return strings.Join(parts, ", ")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
