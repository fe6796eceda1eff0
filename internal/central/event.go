package central

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/dhmc-guard/dhmc-guard/internal/alert"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// MaxEntrySize is EventBridge's limit on one PutEvents entry, counted as
// the documented entry size (EntrySize).
const MaxEntrySize = 256 * 1024

// detailBudget leaves room for what EntrySize counts besides the detail.
const detailBudget = MaxEntrySize - 1024

// Worth reports whether a run is published centrally: it found drift, a
// read or repair failed, or AWS refused someone's attempt on DHMC (the
// same runs that alert the account).
func Worth(r *dhmc.Report) bool { return alert.Worth(r) }

// runDetail is the event's detail: the report, with a note when it had to
// be shortened to fit the entry limit.
type runDetail struct {
	dhmc.Report
	// Truncated says what was left out; empty when nothing was.
	Truncated string `json:"truncated,omitempty"`
	// FindingsTotal and ErrorsTotal are the report's counts when findings
	// or errors were left out.
	FindingsTotal int `json:"findingsTotal,omitempty"`
	ErrorsTotal   int `json:"errorsTotal,omitempty"`
}

// RunEvent builds the central bus entry for r. It returns false when the
// run is not Worth publishing. The detail is the report as JSON, kept
// under the entry limit: first deleted policy documents are left out, then
// findings and errors from the end, each time saying so in "truncated".
func RunEvent(busARN string, r *dhmc.Report) (ebtypes.PutEventsRequestEntry, bool) {
	if !Worth(r) {
		return ebtypes.PutEventsRequestEntry{}, false
	}
	detail := fitDetail(r, detailBudget-len(Source)-len(DetailTypeRunReport))
	e := ebtypes.PutEventsRequestEntry{
		EventBusName: aws.String(busARN),
		Source:       aws.String(Source),
		DetailType:   aws.String(DetailTypeRunReport),
		Detail:       aws.String(detail),
	}
	if t, err := time.Parse(time.RFC3339, r.StartedAt); err == nil {
		e.Time = aws.Time(t)
	}
	return e, true
}

// SummaryEvent builds the central bus entry for a daily summary.
func SummaryEvent(busARN string, s Summary) (ebtypes.PutEventsRequestEntry, error) {
	detail, err := json.Marshal(s)
	if err != nil {
		return ebtypes.PutEventsRequestEntry{}, fmt.Errorf("encoding the daily summary: %w", err)
	}
	e := ebtypes.PutEventsRequestEntry{
		EventBusName: aws.String(busARN),
		Source:       aws.String(Source),
		DetailType:   aws.String(DetailTypeDailySummary),
		Detail:       aws.String(alert.SafeJSON(string(detail))),
	}
	if EntrySize(e) > MaxEntrySize {
		// A summary holds counts only: this takes thousands of Regions
		// and kinds, so say so rather than cut JSON apart.
		return ebtypes.PutEventsRequestEntry{}, fmt.Errorf("daily summary of %s is %d bytes, over the %d byte EventBridge limit", s.Day, EntrySize(e), MaxEntrySize)
	}
	return e, nil
}

// EntrySize is an entry's size as EventBridge counts it against
// MaxEntrySize ("Calculating PutEvents event entry size"): 14 bytes for a
// Time, plus the UTF-8 bytes of Source, DetailType, Detail and each
// Resource.
func EntrySize(e ebtypes.PutEventsRequestEntry) int {
	n := len(aws.ToString(e.Source)) + len(aws.ToString(e.DetailType)) + len(aws.ToString(e.Detail))
	if e.Time != nil {
		n += 14
	}
	for _, r := range e.Resources {
		n += len(r)
	}
	return n
}

// fitDetail encodes r in at most budget bytes.
func fitDetail(r *dhmc.Report, budget int) string {
	d := runDetail{Report: *r}
	if s := encode(d); len(s) <= budget {
		return s
	}
	d.Results = make([]dhmc.Result, len(r.Results))
	removed := 0
	for i, x := range r.Results {
		removed += len(x.Document)
		x.Document = ""
		d.Results[i] = x
	}
	notes := ""
	if removed > 0 {
		notes = fmt.Sprintf("deleted policy documents left out (%d bytes); ", removed)
	}
	note := func() string {
		n := notes
		if len(d.Results) < len(r.Results) || len(d.Errors) < len(r.Errors) {
			d.FindingsTotal, d.ErrorsTotal = len(r.Results), len(r.Errors)
			n += fmt.Sprintf("showing %d of %d findings and %d of %d errors; ", len(d.Results), len(r.Results), len(d.Errors), len(r.Errors))
		}
		return n + "the account's alert and the function's log have the full report"
	}
	for {
		d.Truncated = note()
		s := encode(d)
		switch {
		case len(s) <= budget:
			return s
		case len(d.Results) > 0:
			d.Results = d.Results[:len(d.Results)/2]
		case len(d.Errors) > 0:
			d.Errors = d.Errors[:len(d.Errors)/2]
		default:
			// Only a cause or call map of hundreds of KB gets here;
			// the rest of the report still goes out.
			d.Cause, d.Calls = dhmc.Cause{Trigger: r.Cause.Trigger}, nil
			d.Truncated = note() + "; the cause and call counts were too large"
			return encode(d)
		}
	}
}

// encode is v as JSON whose strings hold no bidi, line-separator or other
// invisible character unescaped (alert.SafeJSON): the values are the
// account's as read, and a central rule may forward them to people.
func encode(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// A report holds strings, numbers, slices and maps of them.
		return fmt.Sprintf(`{"error":%q}`, err.Error())
	}
	return alert.SafeJSON(string(b))
}
