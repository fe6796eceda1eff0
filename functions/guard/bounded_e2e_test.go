package main_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/sandbox"
)

// Issue 14, item 1: a role padded with inline policies of IAM's 131,072
// characters each (white space IAM does not count) must not blind the
// guard. These run the real bootstrap under RIE with the function's memory
// size of the template (128 MB).

const (
	paddedPolicies = 40
	// paddedMaxRSS bounds the bootstrap's peak resident memory. The raw
	// documents alone are 5 MiB (15 MiB URL-encoded on the wire); the
	// bench-check holds 200 of them to 64 MiB.
	paddedMaxRSS     = 64 << 20
	paddedMaxRSSRace = 160 << 20
)

var memory128 = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128"

// raceBuild reports whether this test, and so the bootstrap built like it
// (internal/rie), has the race detector.
func raceBuild() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

func sha(doc string) string {
	sum := sha256.Sum256([]byte(doc))
	return hex.EncodeToString(sum[:])
}

func TestPaddedInlinePoliciesAreArchivedNamedAndDeletedWithinEveryLimit(t *testing.T) {
	sb, emu := start(t, memory128)
	p, err := sandbox.SeedPadded(emu, paddedPolicies, dhmc.MaxPolicyDocument)
	if err != nil {
		t.Fatal(err)
	}
	res, err := sb.Fn.Invoke(t.Context(), readEvent(t, "schedule.json"))
	if err != nil {
		t.Fatal(err)
	}
	got, problems := p.Check(t.Context(), sb, res)
	for _, pr := range problems {
		t.Error(pr)
	}
	rss, err := sb.Fn.BootstrapPeakRSS()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d policies of %d characters: peak RSS %.1f MiB, response %d bytes, alert %d bytes, %d archived",
		paddedPolicies, dhmc.MaxPolicyDocument, float64(rss)/(1<<20), got.ResponseBytes, got.AlertBytes, got.Archived)
	limit := int64(paddedMaxRSS)
	if raceBuild() {
		// The race detector's shadow memory: 93 MiB measured where the
		// release build takes 30 (and the code before issue 14 took 89).
		limit = paddedMaxRSSRace
	}
	if rss > limit {
		t.Errorf("peak RSS %d bytes, over %d", rss, limit)
	}
	if recs := sandbox.FailureRecords(emu); len(recs) != 0 {
		t.Errorf("%d failure records, want none: the alert went out", len(recs))
	}
}

func TestNothingIsDeletedWhenItsDocumentCannotBeArchived(t *testing.T) {
	sb, emu := start(t, memory128)
	p, err := sandbox.SeedPadded(emu, 5, dhmc.MaxPolicyDocument)
	if err != nil {
		t.Fatal(err)
	}
	emu.Inject(awsemu.Fault{Op: "dynamodb:UpdateItem", Kind: awsemu.FaultAccessDenied})

	res, _, rep := invoke(t, sb, readEvent(t, "schedule.json"))
	if rep == nil {
		t.Fatalf("no report: %s", res.Payload)
	}
	r, _ := emu.Role(acct, sandbox.Desired().RoleName)
	if len(r.InlinePolicies) != len(p.Docs) {
		t.Errorf("%d of %d inline policies left, want every one: none could be archived", len(r.InlinePolicies), len(p.Docs))
	}
	for _, x := range rep.Results {
		if x.Kind == dhmc.KindUnexpectedInlinePolicy && (x.Outcome != dhmc.OutcomeBlocked || !strings.Contains(x.Blocked, "could not be archived")) {
			t.Errorf("%s: %s %q, want blocked because it could not be archived", x.Target, x.Outcome, x.Blocked)
		}
	}
	m := oneMessage(t, emu)
	if m.Attributes["severity"] != "high" || m.Attributes["outcome"] != "blocked" {
		t.Errorf("alert %q is %s/%s, want high/blocked", m.Subject, m.Attributes["severity"], m.Attributes["outcome"])
	}
	for name, doc := range p.Docs {
		if !strings.Contains(m.Body, name+": ") || !strings.Contains(m.Body, sha(doc)) {
			t.Errorf("the alert does not name %s with its SHA-256", name)
		}
	}
}

func TestWithSNSDownTheFailureQueueNamesEveryPaddedPolicy(t *testing.T) {
	sb, emu := start(t, memory128)
	p, err := sandbox.SeedPadded(emu, paddedPolicies, dhmc.MaxPolicyDocument)
	if err != nil {
		t.Fatal(err)
	}
	emu.Inject(awsemu.Fault{Op: "sns:Publish", Kind: awsemu.FaultServerError})

	if _, err := sb.Fn.Invoke(t.Context(), readEvent(t, "schedule.json")); err != nil {
		t.Fatal(err)
	}
	recs := sandbox.FailureRecords(emu)
	if len(recs) != 1 {
		t.Fatalf("%d failure records, want 1", len(recs))
	}
	for name, doc := range p.Docs {
		if !strings.Contains(recs[0], fmt.Sprintf("%q", name)) || !strings.Contains(recs[0], sha(doc)) {
			t.Errorf("the failure record does not name %s with its SHA-256", name)
		}
	}
}

// Without the ledger the report is the only copy (log lines, alert): a
// document it cannot carry whole within its budget is not deleted.
func TestWithoutTheLedgerOnlyDocumentsTheReportCarriesAreDeleted(t *testing.T) {
	sb, emu := start(t, memory128, "DHMC_LEDGER_TABLE=")
	d := sandbox.Desired()
	r, _ := emu.Role(acct, d.RoleName)
	// White space inside a string is meaning, not padding: compaction
	// keeps it, so each of these is 30 KB compacted.
	wide := func(i int) string {
		return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Get%d","Resource":"*","Condition":{"StringLike":{"aws:UserAgent":"*%s*"}}}]}`, i, strings.Repeat(" ", 30*1024))
	}
	r.InlinePolicies = map[string]string{"wide-0": wide(0), "wide-1": wide(1), "wide-2": wide(2)}
	emu.PutRole(acct, r)

	_, rep := run(t, sb, readEvent(t, "schedule.json"))

	var deleted, blocked int
	for _, x := range rep.Results {
		switch {
		case x.Outcome == dhmc.OutcomeDone && x.Document != "":
			deleted++
		case x.Outcome == dhmc.OutcomeBlocked && strings.Contains(x.Blocked, "no archive"):
			blocked++
		default:
			t.Errorf("%s: %s %q", x.Target, x.Outcome, x.Blocked)
		}
	}
	left, _ := emu.Role(acct, d.RoleName)
	if deleted != 1 || blocked != 2 || len(left.InlinePolicies) != 2 {
		t.Errorf("deleted %d, blocked %d, %d left; want 1, 2 and 2 (one 30 KB document fits the report's budget)", deleted, blocked, len(left.InlinePolicies))
	}
}
