package guard

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// What each of the handler's sinks may take, from each service's quotas
// page. The report itself is bounded where it is made (reconcile carries at
// most reconcile.DefaultDocumentBudget of policy documents and archives
// every deleted one whole), so these are the last line, and every cut says
// what it left out.
const (
	// maxLogLine keeps one log line below CloudWatch Logs' 256 KB event
	// limit (a longer line is cut), with room for the handler's fields.
	maxLogLine = 200 * 1024
	// maxResponse keeps a result far below Lambda's 6 MB synchronous
	// response limit (over it the runtime fails the invocation).
	maxResponse = 1 << 20
	// maxFailureMessage keeps a failure queue message under 256 KiB: SQS's
	// quota is now 1 MiB, but a queue's MaximumMessageSize may be set lower
	// (256 KiB was the quota until 2025).
	maxFailureMessage = 250 * 1024
)

// withoutDocuments is a copy of r that carries no policy document: each is
// named by its DocumentRef (size, SHA-256, archive), marked Omitted. nil if
// r carries none.
func withoutDocuments(r *dhmc.Report) *dhmc.Report {
	if r == nil {
		return nil
	}
	cp := *r
	cp.Results = make([]dhmc.Result, len(r.Results))
	dropped := false
	for i, x := range r.Results {
		if x.Document != "" {
			dropped = true
			x.Document = ""
			if x.DocumentRef != nil {
				ref := *x.DocumentRef
				ref.Omitted = true
				x.DocumentRef = &ref
			}
		}
		cp.Results[i] = x
	}
	if !dropped {
		return nil
	}
	return &cp
}

// logReportParts writes a run's report in lines CloudWatch Logs keeps
// whole: the report in one line when it fits; otherwise the report without
// its findings, then the findings in as many "run findings" lines as they
// need (part i of n), so no document or finding is cut.
func logReportParts(ctx context.Context, log *slog.Logger, r *dhmc.Report, attrs []any) {
	full, err := json.Marshal(r)
	if err != nil {
		full = fmt.Appendf(nil, "%q", err.Error())
	}
	if len(full) <= maxLogLine {
		log.InfoContext(ctx, "run finished", append(attrs, "report", json.RawMessage(full))...)
		return
	}
	head := *r
	head.Results = nil
	parts := splitResults(r.Results, maxLogLine)
	hb, _ := json.Marshal(&head)
	log.InfoContext(ctx, "run finished", append(attrs, "report", json.RawMessage(hb), "findingParts", len(parts))...)
	for i, p := range parts {
		log.InfoContext(ctx, "run findings", "part", i+1, "of", len(parts), "findings", json.RawMessage(p))
	}
}

// splitResults encodes results as JSON arrays of at most limit bytes each.
// A single result longer than limit (a document past every budget) goes
// without its document, which its DocumentRef still names.
func splitResults(results []dhmc.Result, limit int) [][]byte {
	var parts [][]byte
	cur := []byte{'['}
	for _, x := range results {
		b, _ := json.Marshal(x)
		if len(b)+2 > limit {
			x.Document = ""
			if x.DocumentRef != nil {
				ref := *x.DocumentRef
				ref.Omitted = true
				x.DocumentRef = &ref
			}
			b, _ = json.Marshal(x)
		}
		if len(cur) > 1 && len(cur)+len(b)+2 > limit {
			parts = append(parts, append(cur, ']'))
			cur = []byte{'['}
		}
		if len(cur) > 1 {
			cur = append(cur, ',')
		}
		cur = append(cur, b...)
	}
	return append(parts, append(cur, ']'))
}

// boundResponse re-encodes an invocation's result without its policy
// documents when it is over maxResponse; the alert and the archive have them.
func boundResponse(out any, b []byte) ([]byte, error) {
	if len(b) <= maxResponse {
		return b, nil
	}
	switch v := out.(type) {
	case *dhmc.Report:
		if cp := withoutDocuments(v); cp != nil {
			return json.Marshal(cp)
		}
	case Response:
		if cp := withoutDocuments(v.Report); cp != nil {
			v.Report = cp
			return json.Marshal(v)
		}
	}
	return b, nil
}
