package reconcile_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/reconcile"
)

// archive is a stateful fake of the ledger's document archive that can be
// told to fail.
type archive struct {
	mu    sync.Mutex
	docs  map[string]string // by policy name
	fail  error
	calls int
}

func (a *archive) ArchiveDocument(_ context.Context, d dhmc.KeptDocument) (dhmc.ArchiveLocation, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls++
	if a.fail != nil {
		return dhmc.ArchiveLocation{}, a.fail
	}
	if a.docs == nil {
		a.docs = map[string]string{}
	}
	a.docs[d.Policy] = d.Document
	return dhmc.ArchiveLocation{Table: "t", PK: "DOC#" + d.Policy, SK: d.Ref.SHA256}, nil
}

// padded is a valid policy allowing action, padded with white space to
// exactly size characters (between tokens, where IAM does not count it).
func padded(action string, size int) string {
	head := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"` + action + `","Resource":"*"}]`
	return head + strings.Repeat(" ", size-len(head)-1) + "}"
}

func compact(doc string) string { d, _ := dhmc.ReadDocument(doc); return d }

func (e *env) runWith(o reconcile.Options, arch reconcile.Archiver) *dhmc.Report {
	e.t.Helper()
	e.clients.Archive = arch
	rep, err := e.reconciler(o).Run(e.t.Context(), reconcile.Scope{})
	if err != nil {
		e.t.Fatalf("Run: %v", err)
	}
	return rep
}

func TestPaddedInlinePolicyIsArchivedCompactedThenDeleted(t *testing.T) {
	e := newEnv(t, "eu-west-1")
	e.seedCompliant("eu-west-1")
	doc := padded("s3:*", dhmc.MaxPolicyDocument)
	e.editRole(func(r *awsemu.Role) { r.InlinePolicies = map[string]string{"pad": doc} })
	arch := &archive{}

	rep := e.runWith(reconcile.Options{}, arch)

	if len(rep.Results) != 1 || rep.Results[0].Outcome != dhmc.OutcomeDone {
		t.Fatalf("results = %+v, want the policy deleted", rep.Results)
	}
	got := rep.Results[0]
	sum := sha256.Sum256([]byte(doc))
	ref := got.DocumentRef
	if ref == nil || ref.Size != len(doc) || ref.SHA256 != hex.EncodeToString(sum[:]) || ref.Archive == nil || ref.Omitted {
		t.Errorf("document ref = %+v, want size %d, its SHA-256 and an archive", ref, len(doc))
	}
	if want := compact(doc); got.Document != want || arch.docs["pad"] != want || len(want) > 200 {
		t.Errorf("report has %d bytes, archive %d bytes; want both the compacted %d", len(got.Document), len(arch.docs["pad"]), len(want))
	}
	e.assertDesired("eu-west-1")
}

func TestInlinePolicyIsNotDeletedWhenItsDocumentCannotBeArchived(t *testing.T) {
	e := newEnv(t, "eu-west-1")
	e.seedCompliant("eu-west-1")
	docs := map[string]string{}
	for i := range 3 {
		docs[fmt.Sprintf("keep%d", i)] = padded(fmt.Sprintf("iam:Get%d", i), 5000)
	}
	e.editRole(func(r *awsemu.Role) { r.InlinePolicies = docs })
	arch := &archive{fail: errors.New("ledger unavailable")}

	rep := e.runWith(reconcile.Options{}, arch)

	for _, x := range rep.Results {
		if x.Outcome != dhmc.OutcomeBlocked || !strings.Contains(x.Blocked, "could not be archived") {
			t.Errorf("%s: %s %q, want the delete blocked", x.Target, x.Outcome, x.Blocked)
		}
	}
	r, _ := e.srv.Role(acct, e.desired.RoleName)
	if len(rep.Results) != 3 || len(r.InlinePolicies) != 3 {
		t.Errorf("%d results, %d inline policies left; want 3 and 3", len(rep.Results), len(r.InlinePolicies))
	}
	// A failing archive is not asked again in the same run: each try may
	// wait on retries, once per policy.
	if arch.calls != 1 {
		t.Errorf("archive asked %d times, want once", arch.calls)
	}
}

func TestWithoutAnArchiveOnlyWhatTheReportCarriesIsDeleted(t *testing.T) {
	e := newEnv(t, "eu-west-1")
	e.seedCompliant("eu-west-1")
	policies := map[string]string{}
	for i := range 3 {
		policies[fmt.Sprintf("p%d", i)] = padded(fmt.Sprintf("s3:Get%d", i), 3000)
	}
	e.editRole(func(r *awsemu.Role) { r.InlinePolicies = policies })
	one := len(compact(policies["p0"]))

	rep := e.runWith(reconcile.Options{DocumentBudget: one + one/2}, nil)

	var deleted, blocked int
	for _, x := range rep.Results {
		switch x.Outcome {
		case dhmc.OutcomeDone:
			deleted++
			if x.Document != compact(policies[x.Target]) {
				t.Errorf("deleted %s without its document in the report", x.Target)
			}
		case dhmc.OutcomeBlocked:
			blocked++
			if !strings.Contains(x.Blocked, "no archive") || !strings.Contains(x.Blocked, x.DocumentRef.SHA256) {
				t.Errorf("blocked %s: %q, want the reason and the SHA-256", x.Target, x.Blocked)
			}
		}
	}
	r, _ := e.srv.Role(acct, e.desired.RoleName)
	if deleted != 1 || blocked != 2 || len(r.InlinePolicies) != 2 {
		t.Errorf("deleted %d, blocked %d, %d left; want 1, 2, 2", deleted, blocked, len(r.InlinePolicies))
	}
}

func TestArchivedDocumentsBeyondTheBudgetAreNamedNotCarried(t *testing.T) {
	e := newEnv(t, "eu-west-1")
	e.seedCompliant("eu-west-1")
	policies := map[string]string{}
	for i := range 4 {
		policies[fmt.Sprintf("p%d", i)] = padded(fmt.Sprintf("s3:Put%d", i), 2000)
	}
	e.editRole(func(r *awsemu.Role) { r.InlinePolicies = policies })
	arch := &archive{}

	rep := e.runWith(reconcile.Options{DocumentBudget: 2 * len(compact(policies["p0"]))}, arch)

	var carried, omitted int
	for _, x := range rep.Results {
		if x.Outcome != dhmc.OutcomeDone || arch.docs[x.Target] != compact(policies[x.Target]) {
			t.Errorf("%s: outcome %s, archived %q", x.Target, x.Outcome, arch.docs[x.Target])
		}
		if x.DocumentRef.Omitted {
			omitted++
			if x.Document != "" {
				t.Errorf("%s omitted yet carried", x.Target)
			}
		} else if x.Document != "" {
			carried++
		}
	}
	if carried != 2 || omitted != 2 {
		t.Errorf("carried %d, omitted %d; want 2 and 2", carried, omitted)
	}
	e.assertDesired("eu-west-1")
}
