package alert

import (
	"fmt"
	"strings"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// The alert's bounds for policy documents. The message as a whole is kept
// within SNS's 256 KB (MaxMessage, fitMessage); these keep the part that
// names documents readable and, above all, never cut silently: a role may
// hold hundreds of inline policies of 131,072 characters each.
const (
	// maxDocumentList bounds the list that names every kept document. It
	// comes before the findings, which are cut first; a role's inline
	// policies are bounded by IAM's 10,240-character aggregate (a few
	// hundred at most), so every one fits.
	maxDocumentList = 100 * 1024
	// maxDocumentShown bounds one document's text in the findings; a
	// longer one is named (size, SHA-256, where it is kept) instead.
	maxDocumentShown = 8 * 1024
)

// writeDocuments names every inline policy document of the run, deleted or
// left in place, with its size as IAM returned it, its SHA-256 and where it
// is kept whole, and says how to fetch it.
func writeDocuments(b *strings.Builder, r *dhmc.Report) {
	var refs []dhmc.Result
	table := ""
	for _, x := range r.Results {
		if x.DocumentRef == nil {
			continue
		}
		refs = append(refs, x)
		if a := x.DocumentRef.Archive; a != nil && table == "" {
			table = a.Table
		}
	}
	if len(refs) == 0 {
		return
	}
	fmt.Fprintf(b, "Inline policy documents (%d; size as written, SHA-256 of that text):\n", len(refs))
	if table != "" {
		fmt.Fprintf(b, "Each deleted document was kept whole (compacted) in DynamoDB table %s before the delete, at the pk shown and sk = its SHA-256. Fetch one with:\n", Text(table, MaxARN))
		fmt.Fprintf(b, "  aws dynamodb get-item --table-name %s --key '{\"pk\":{\"S\":\"<pk>\"},\"sk\":{\"S\":\"<sha256>\"}}' --query Item.document.S --output text\n", Text(table, MaxARN))
	}
	start := b.Len()
	for i, x := range refs {
		if b.Len()-start > maxDocumentList {
			fmt.Fprintf(b, "  [list cut at %d of %d documents to fit the SNS message limit; the report JSON and the ledger name the rest]\n", i, len(refs))
			break
		}
		ref := x.DocumentRef
		fmt.Fprintf(b, "  - %s: %d bytes (%d compacted), SHA-256 %s, %s", Text(x.Target, MaxARN), ref.Size, ref.CompactSize, ref.SHA256, documentFate(x))
		if ref.Archive != nil {
			fmt.Fprintf(b, "; kept at pk %q", Text(ref.Archive.PK, MaxARN))
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
}

func documentFate(x dhmc.Result) string {
	switch x.Outcome {
	case dhmc.OutcomeDone:
		return "deleted"
	case dhmc.OutcomeBlocked:
		return "NOT deleted (blocked)"
	case dhmc.OutcomeFailed:
		return "NOT deleted (failed)"
	default:
		return string(x.Outcome)
	}
}

// writeDocument shows a finding's document, or, when the report does not
// carry it or it is too long to show, where it is.
func writeDocument(b *strings.Builder, x dhmc.Result) {
	label := "Deleted document (kept here so nothing is lost)"
	if x.Kind == dhmc.KindAllowedPolicyChanged {
		label = "New default version's document"
	}
	ref := x.DocumentRef
	switch {
	case x.Document != "" && len(x.Document) <= maxDocumentShown:
		fmt.Fprintf(b, "   %s:\n%s\n", label, indent(strings.Join(Lines(x.Document, 0), "\n"), "     "))
	case ref != nil && ref.Archive != nil:
		fmt.Fprintf(b, "   Document:   not shown (%d bytes compacted); kept whole in %s\n", ref.CompactSize, Text(ref.Archive.String(), MaxText))
	case x.Document != "":
		fmt.Fprintf(b, "   %s (first %d of %d bytes; the report JSON and the function's log carry it whole):\n%s\n",
			label, maxDocumentShown, len(x.Document), indent(strings.Join(Lines(cut(x.Document, maxDocumentShown), 0), "\n"), "     "))
	}
}
