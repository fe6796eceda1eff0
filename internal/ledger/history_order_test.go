package ledger_test

import (
	"testing"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger/ledgertest"
)

// A storm records many runs whose reports start in the same second (they
// have whole seconds): the history is still newest first.
func TestRunsOfOneSecondAreNewestFirst(t *testing.T) {
	s, _ := ledgertest.NewTable(t, emuClient(awsemu.StartTest(t)), ledger.Options{})
	ctx := t.Context()
	var ids []string
	for i := range 6 {
		id := "e-" + string(rune('a'+i))
		ids = append([]string{id}, ids...)
		rec := ledgertest.Base.Add(time.Duration(i) * time.Millisecond)
		if _, err := s.RecordRun(ctx, ledgertest.DriftReport(ledgertest.Base, id), rec); err != nil {
			t.Fatal(err)
		}
	}
	page, err := s.History(ctx, ledgertest.Base.Add(-time.Minute), 10, "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range page.Runs {
		got = append(got, r.EventID)
	}
	if len(got) != len(ids) {
		t.Fatalf("history = %q, want %q", got, ids)
	}
	for i := range ids {
		if got[i] != ids[i] {
			t.Fatalf("history = %q, want newest first %q", got, ids)
		}
	}
}
