package alert

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// inlineResults are n deleted inline policies with long names, as a role
// padded to IAM's limits would give.
func inlineResults(n int, archived bool, doc string) []dhmc.Result {
	out := make([]dhmc.Result, n)
	for i := range out {
		name := fmt.Sprintf("padded-%03d-%s", i, strings.Repeat("x", 100))
		ref := &dhmc.DocumentRef{Size: dhmc.MaxPolicyDocument, SHA256: fmt.Sprintf("%064x", i+1), CompactSize: len(doc)}
		x := dhmc.Result{Finding: dhmc.Finding{Kind: dhmc.KindUnexpectedInlinePolicy, Role: "R", Observed: name, Desired: "no inline policies",
			Action: dhmc.ActionDeleteInlinePolicy, Target: name, DocumentRef: ref}, Outcome: dhmc.OutcomeDone}
		if archived {
			ref.Archive = &dhmc.ArchiveLocation{Table: "ledger", PK: "DOC#" + acct + "#R#" + name, SK: ref.SHA256}
			ref.Omitted = i >= 10
		}
		if !ref.Omitted {
			x.Document = doc
		}
		out[i] = x
	}
	return out
}

func TestAnAlertNamesEveryDeletedDocumentWithinSNSsLimit(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*","Condition":{"StringLike":{"aws:UserAgent":"` + strings.Repeat(" ", 3000) + `"}}}]}`
	for _, archived := range []bool{true, false} {
		t.Run(fmt.Sprintf("archived=%v", archived), func(t *testing.T) {
			r := &dhmc.Report{AccountID: acct, Mode: "enforce", Cause: ctCause(), Results: inlineResults(250, archived, doc)}
			m, ok := Compose(r)
			if !ok {
				t.Fatal("no alert")
			}
			s, err := m.Structure()
			if err != nil {
				t.Fatal(err)
			}
			if size := len(s) + len(m.Subject) + attributesSize(m.Attributes); size > MaxMessage {
				t.Errorf("message is %d bytes, over SNS's %d", size, MaxMessage)
			}
			summary, _, _ := strings.Cut(m.Body, JSONMarker)
			for _, x := range r.Results {
				line := fmt.Sprintf("- %s: %d bytes (%d compacted), SHA-256 %s, deleted", x.Target, x.DocumentRef.Size, x.DocumentRef.CompactSize, x.DocumentRef.SHA256)
				if !strings.Contains(summary, line) {
					t.Fatalf("alert does not name %s with its size and SHA-256", x.Target)
				}
			}
			if archived && !strings.Contains(summary, "aws dynamodb get-item --table-name ledger") {
				t.Error("alert does not say how to fetch an archived document")
			}
		})
	}
}
