package sandbox

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/dhmc-guard/dhmc-guard/internal/alert"
	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// WriteReport writes a report's essentials, indented: mode, scope, counts,
// and one line per finding with its outcome.
func WriteReport(w io.Writer, rep *dhmc.Report) {
	fmt.Fprintf(w, "   mode %s, Regions %s, role checked %t: %d finding(s), %d reads, %d writes, %d ms\n",
		rep.Mode, strings.Join(rep.Regions, ","), rep.RoleChecked, len(rep.Results), rep.Reads, rep.Writes, rep.DurationMs)
	for _, x := range rep.Results {
		where := x.Region
		if where == "" {
			where = "role"
		}
		line := fmt.Sprintf("   - [%s] %s: %s → %s (%s)", where, x.Kind, orNone(x.Observed), x.Desired, x.Outcome)
		if x.Error != "" {
			line += ": " + x.Error
		}
		fmt.Fprintln(w, line)
	}
	for _, e := range rep.Errors {
		fmt.Fprintf(w, "   - [%s] could not be read: %s\n", e.Region, e.Error)
	}
}

// WriteAlert writes one published SNS message as on-call reads it: the
// subject, the attributes subscription filters see, and the body without
// the full report JSON that ends it.
func WriteAlert(w io.Writer, m awsemu.Message) {
	var attrs []string
	for _, k := range slices.Sorted(maps.Keys(m.Attributes)) {
		attrs = append(attrs, k+"="+m.Attributes[k])
	}
	body, _, tail := strings.Cut(m.Body, alert.JSONMarker)
	fmt.Fprintf(w, "Topic:      %s\nSubject:    %s\nAttributes: %s\n\n%s\n", m.TopicARN, m.Subject, strings.Join(attrs, " "), strings.TrimSpace(body))
	if tail {
		fmt.Fprintf(w, "   (the body ends with %q and the full report as JSON, not shown here)\n", alert.JSONMarker)
	}
}

// WriteCalls writes a call log, one numbered line per call: service,
// operation, Region (none for the global services), HTTP status or error
// code, whether it was a write, and the caller when it is not the function.
func WriteCalls(w io.Writer, calls []awsemu.Call) {
	for i, c := range calls {
		result := fmt.Sprint(c.Status)
		if c.ErrorCode != "" {
			result += " " + c.ErrorCode
		}
		line := fmt.Sprintf("   %3d. %-40s %-15s %s", i+1, c.Service+":"+c.Operation, c.Region, result)
		if c.Write {
			line += "  (write)"
		}
		if c.Caller != FunctionCaller {
			line += "  by " + c.Caller
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
