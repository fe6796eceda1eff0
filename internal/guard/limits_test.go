package guard

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

func documentReport(n, docSize int) *dhmc.Report {
	r := &dhmc.Report{Mode: "enforce"}
	for i := range n {
		doc := `{"Statement":"` + strings.Repeat("x", docSize) + `"}`
		r.Results = append(r.Results, dhmc.Result{Finding: dhmc.Finding{
			Kind: dhmc.KindUnexpectedInlinePolicy, Target: fmt.Sprintf("p%d", i), Document: doc,
			DocumentRef: &dhmc.DocumentRef{Size: 131072, SHA256: fmt.Sprintf("%064x", i), CompactSize: len(doc)},
		}, Outcome: dhmc.OutcomeDone})
	}
	return r
}

func TestLongReportsAreLoggedInPartsThatKeepEveryFinding(t *testing.T) {
	r := documentReport(40, 30*1024)
	parts := splitResults(r.Results, maxLogLine)
	var got []dhmc.Result
	for _, p := range parts {
		if len(p) > maxLogLine {
			t.Errorf("a part is %d bytes, over %d", len(p), maxLogLine)
		}
		var rs []dhmc.Result
		if err := json.Unmarshal(p, &rs); err != nil {
			t.Fatal(err)
		}
		got = append(got, rs...)
	}
	if len(parts) < 5 || len(got) != len(r.Results) {
		t.Fatalf("%d parts with %d findings, want several with all %d", len(parts), len(got), len(r.Results))
	}
	for i, x := range got {
		if x.Document != r.Results[i].Document {
			t.Errorf("finding %d lost its document", i)
		}
	}
}

func TestAResponseOverTheLimitNamesItsDocumentsInsteadOfCarryingThem(t *testing.T) {
	r := documentReport(40, 30*1024)
	b, _ := json.Marshal(Response{Status: StatusReconciled, Report: r})
	out, err := boundResponse(Response{Status: StatusReconciled, Report: r}, b)
	if err != nil {
		t.Fatal(err)
	}
	var got Response
	if err := json.Unmarshal(out, &got); err != nil || len(out) > maxResponse {
		t.Fatalf("response of %d bytes (%v), want at most %d", len(out), err, maxResponse)
	}
	for i, x := range got.Report.Results {
		if x.Document != "" || !x.DocumentRef.Omitted || x.DocumentRef.SHA256 != r.Results[i].DocumentRef.SHA256 {
			t.Errorf("result %d = %+v, want its document named, not carried", i, x.DocumentRef)
		}
		if r.Results[i].Document == "" || r.Results[i].DocumentRef.Omitted {
			t.Errorf("the original report lost document %d", i)
		}
	}
}
